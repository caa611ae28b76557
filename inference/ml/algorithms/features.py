"""Locally aggregated multi-scale patch features, shared by PatchCore and PaDiM."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cached_property

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray

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


def gaussian_blur(maps: torch.Tensor, sigma: float) -> torch.Tensor:
    """Smooth maps with a separable Gaussian (reflect padding, kernel radius 4 sigma).

    Args:
        maps: ``(B, H, W)`` float32.
        sigma: standard deviation, px; ``0`` returns the maps unchanged.

    Returns:
        ``(B, H, W)`` float32.
    """
    if sigma <= 0:
        return maps
    radius = max(1, int(4 * sigma + 0.5))
    radius = min(radius, maps.shape[-1] - 1, maps.shape[-2] - 1)
    offsets = torch.arange(-radius, radius + 1, dtype=torch.float32, device=maps.device)
    kernel = torch.exp(-0.5 * (offsets / sigma) ** 2)
    kernel = kernel / kernel.sum()
    x = maps[:, None]
    x = F.conv2d(F.pad(x, (radius, radius, 0, 0), mode="reflect"), kernel.view(1, 1, 1, -1))
    x = F.conv2d(F.pad(x, (0, 0, radius, radius), mode="reflect"), kernel.view(1, 1, -1, 1))
    return x[:, 0]


def canvas_maps(grid_scores: torch.Tensor, canvas_size: int, sigma: float) -> NDArray[np.float32]:
    """Upsample patch scores to the canvas and smooth them.

    Args:
        grid_scores: ``(B, h, w)`` patch scores.
        canvas_size: canvas side, px.
        sigma: Gaussian smoothing, canvas px.

    Returns:
        ``(B, S, S)`` float32 on the CPU.
    """
    maps = F.interpolate(
        grid_scores[:, None], size=(canvas_size, canvas_size), mode="bilinear", align_corners=False
    )[:, 0]
    return gaussian_blur(maps, sigma).cpu().numpy()


class FeatureDetector(AnomalyDetector):
    """An algorithm over backbone patch features; the backbone loads on first use, not at construction."""

    @cached_property
    def extractor(self) -> PatchFeatureExtractor:
        """The feature extractor for this detector's parameters and device."""
        return PatchFeatureExtractor(self.params, self.device)
