"""Locally aggregated multi-scale patch features, shared by PatchCore and PaDiM."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

import torch
import torch.nn.functional as F

from inference.ml.algorithms.base import AnomalyDetector, FeatureParams, ProgressCallback
from inference.ml.backbones import get_backbone
from inference.ml.device import autocast
from inference.ml.preprocessing import ImageInput, View, iter_views


class PatchFeatureExtractor:
    """Backbone maps averaged over a small neighbourhood, brought to the finest stride and stacked.

    Args:
        params: backbone, layers, canvas and aggregation settings.
        device: where the backbone runs (half precision on CUDA).
    """

    def __init__(self, params: FeatureParams, device: torch.device) -> None:
        self.params = params
        self.device = device
        backbone = get_backbone(params.backbone, params.weights_path, params.layers or None)
        # channels_last roughly doubles CPU convolution throughput for these networks.
        self.backbone = backbone.to(device=device, memory_format=torch.channels_last)
        self.stride = min(backbone.strides)
        self.dim = sum(backbone.channels)

    def grid_shape(self) -> tuple[int, int]:
        """``(h, w)`` of the feature grid of one canvas."""
        side = -(-self.params.image_size // self.stride)
        return side, side

    @torch.no_grad()
    def __call__(self, canvases: torch.Tensor) -> torch.Tensor:
        """Patch features of a batch of canvases.

        Args:
            canvases: ``(B, 3, S, S)`` RGB in [0, 1], on any device.

        Returns:
            ``(B, D, S / s, S / s)`` float32 on :attr:`device`, ``s`` the finest layer stride.
        """
        x = canvases.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with autocast(self.device):
            maps = self.backbone(x)
        size = self.params.aggregate
        target = maps[0].shape[-2:]
        out = []
        for feature_map in maps:
            feature_map = feature_map.float()
            if size > 1:
                feature_map = F.avg_pool2d(feature_map, size, 1, size // 2, count_include_pad=False)
            if feature_map.shape[-2:] != target:
                feature_map = F.interpolate(feature_map, size=target, mode="bilinear", align_corners=False)
            out.append(feature_map)
        return torch.cat(out, dim=1).contiguous()

    def iter_batches(
        self, images: Sequence[ImageInput], stage: str, progress: ProgressCallback | None
    ) -> Iterator[tuple[torch.Tensor, list[View]]]:
        """Features of every canvas of ``images``, batch by batch, reporting progress per image.

        Yields:
            ``(B, D, h, w)`` features and the ``B`` views they come from.
        """
        total = len(images)
        for canvases, views in iter_views(images, self.params.preprocess, self.params.batch_size):
            yield self(canvases), views
            if progress is not None:
                progress(stage, views[-1].image_index + 1, total)


class FeatureDetector(AnomalyDetector):
    """An algorithm over backbone patch features; the backbone loads on first use, not at construction.

    Args:
        params: the algorithm's parameters.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        extractor: the feature extractor to use (e.g. one that caches features between runs); by
            default one built from ``params`` on first use.
    """

    def __init__(
        self, params: FeatureParams, device: str = "auto", *, extractor: PatchFeatureExtractor | None = None
    ) -> None:
        super().__init__(params, device)
        if extractor is not None:
            self.extractor = extractor

    @cached_property
    def extractor(self) -> PatchFeatureExtractor:
        """The feature extractor for this detector's parameters and device."""
        return PatchFeatureExtractor(self.params, self.device)
