"""ResNet-18 and WideResNet-50-2 in plain PyTorch, with torchvision's parameter names.

No weights ship with Loupe for these: point ``weights_path`` at a torchvision ImageNet state dict
(``.pth`` or ``.safetensors``) saved once on the machine.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from inference.ml.backbones.base import Backbone, load_weights_file

LAYER_STRIDES: dict[str, int] = {"layer1": 4, "layer2": 8, "layer3": 16, "layer4": 32}
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)


class BasicBlock(nn.Module):
    """Two 3x3 convolutions with a shortcut (ResNet-18/34)."""

    expansion = 1

    def __init__(self, c_in: int, planes: int, stride: int, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, planes, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(planes)
        self.conv2 = nn.Conv2d(planes, planes, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(planes)
        self.downsample = _shortcut(c_in, planes, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W) -> (B, planes, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = self.bn2(self.conv2(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


class Bottleneck(nn.Module):
    """1x1 - 3x3 - 1x1 convolutions with a shortcut (ResNet-50, WideResNet-50-2)."""

    expansion = 4

    def __init__(self, c_in: int, planes: int, stride: int, width: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(c_in, width, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(width)
        self.conv2 = nn.Conv2d(width, width, 3, stride, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(width)
        self.conv3 = nn.Conv2d(width, planes * 4, 1, bias=False)
        self.bn3 = nn.BatchNorm2d(planes * 4)
        self.downsample = _shortcut(c_in, planes * 4, stride)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, C_in, H, W) -> (B, 4 * planes, H / stride, W / stride)``."""
        out = F.relu(self.bn1(self.conv1(x)))
        out = F.relu(self.bn2(self.conv2(out)))
        out = self.bn3(self.conv3(out))
        return F.relu(out + (x if self.downsample is None else self.downsample(x)))


def _shortcut(c_in: int, c_out: int, stride: int) -> nn.Sequential | None:
    if stride == 1 and c_in == c_out:
        return None
    return nn.Sequential(nn.Conv2d(c_in, c_out, 1, stride, bias=False), nn.BatchNorm2d(c_out))


class ResNet(Backbone):
    """A ResNet returning the outputs of the named stages (``layer1`` … ``layer4``).

    Args:
        block: :class:`BasicBlock` or :class:`Bottleneck`.
        repeats: blocks per stage.
        width_factor: inner width of bottlenecks relative to ``planes`` (2 for WideResNet-50-2).
        layers: stage names to return.
    """

    def __init__(
        self,
        block: type[BasicBlock] | type[Bottleneck],
        repeats: Sequence[int],
        width_factor: int,
        layers: Sequence[str],
    ) -> None:
        super().__init__(layers, LAYER_STRIDES)
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.stage_channels: list[int] = []
        c_in = 64
        for index, (planes, count) in enumerate(zip((64, 128, 256, 512), repeats, strict=True)):
            blocks = []
            for i in range(count):
                stride = 2 if i == 0 and index > 0 else 1
                blocks.append(block(c_in, planes, stride, planes * width_factor))
                c_in = planes * block.expansion
            self.add_module(f"layer{index + 1}", nn.Sequential(*blocks))
            self.stage_channels.append(c_in)
        self.fc = nn.Linear(c_in, 1000)
        self.register_buffer("mean", torch.tensor(_IMAGENET_MEAN).view(1, 3, 1, 1), persistent=False)
        self.register_buffer("std", torch.tensor(_IMAGENET_STD).view(1, 3, 1, 1), persistent=False)

    @property
    def channels(self) -> list[int]:
        """Channels of each returned feature map, in the order of ``layers``."""
        return [self.stage_channels[int(name.removeprefix("layer")) - 1] for name in self.layers]

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps of the requested stages; stops after the last one needed.

        Args:
            x: ``(B, 3, H, W)`` RGB in [0, 1].

        Returns:
            One ``(B, C_l, H / s_l, W / s_l)`` map per layer.
        """
        out = (x - self.mean) / self.std
        out = F.max_pool2d(F.relu(self.bn1(self.conv1(out))), 3, 2, 1)
        last = max(int(name.removeprefix("layer")) for name in self.layers)
        found: dict[str, torch.Tensor] = {}
        for index in range(1, last + 1):
            out = getattr(self, f"layer{index}")(out)
            found[f"layer{index}"] = out
        return [found[name] for name in self.layers]


def resnet18(layers: Sequence[str] = ("layer2", "layer3"), weights_path: str | Path | None = None) -> ResNet:
    """ResNet-18 from a torchvision ImageNet state dict, in eval mode.

    Raises:
        ValueError: no ``weights_path`` was given.
        FileNotFoundError: ``weights_path`` does not exist.
    """
    return _load(ResNet(BasicBlock, (2, 2, 2, 2), 1, layers), "resnet18", weights_path)


def wide_resnet50_2(
    layers: Sequence[str] = ("layer2", "layer3"), weights_path: str | Path | None = None
) -> ResNet:
    """WideResNet-50-2 from a torchvision ImageNet state dict, in eval mode.

    Raises:
        ValueError: no ``weights_path`` was given.
        FileNotFoundError: ``weights_path`` does not exist.
    """
    return _load(ResNet(Bottleneck, (3, 4, 6, 3), 2, layers), "wide_resnet50_2", weights_path)


def _load(model: ResNet, name: str, weights_path: str | Path | None) -> ResNet:
    if weights_path is None:
        raise ValueError(
            f"backbone {name!r} needs a local ImageNet weights file (torchvision layout); "
            "set weights_path, or use 'efficientnet_lite0', whose weights ship with Loupe"
        )
    model.load_state_dict(load_weights_file(weights_path), strict=True)
    return model.eval()
