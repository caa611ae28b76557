"""What every backbone offers: multi-scale feature maps from RGB images in [0, 1]."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path

import torch
from safetensors.torch import load_file
from torch import nn


class Backbone(nn.Module):
    """A frozen feature extractor returning one map per requested layer.

    Subclasses define :meth:`forward` (``(B, 3, H, W)`` RGB in [0, 1] to a list of
    ``(B, C_l, H / s_l, W / s_l)`` maps) and :attr:`channels`.

    Args:
        layers: names of the layers to return, in order.
        layer_strides: every layer name the network knows, with its stride in input pixels.

    Raises:
        ValueError: a requested layer is unknown.
    """

    def __init__(self, layers: Sequence[str], layer_strides: Mapping[str, int]) -> None:
        super().__init__()
        unknown = [name for name in layers if name not in layer_strides]
        if unknown or not layers:
            raise ValueError(
                f"unknown backbone layers {unknown or list(layers)}; choose from {list(layer_strides)}"
            )
        self.layers = tuple(layers)
        self.strides = [layer_strides[name] for name in self.layers]

    @property
    def channels(self) -> list[int]:
        """Channels of each returned feature map, in the order of ``layers``."""
        raise NotImplementedError


def load_weights_file(path: str | Path) -> dict[str, torch.Tensor]:
    """Read a state dict from ``.safetensors`` or a ``.pth`` / ``.pt`` file (tensors only, no pickled code).

    Raises:
        FileNotFoundError: the file does not exist.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(
            f"backbone weights file {path} does not exist; download it once and point the backbone's "
            "weights_path at it (nothing is downloaded at run time)"
        )
    if path.suffix == ".safetensors":
        return load_file(path)
    state = torch.load(path, map_location="cpu", weights_only=True)
    if isinstance(state, dict) and "state_dict" in state:
        state = state["state_dict"]
    return dict(state)
