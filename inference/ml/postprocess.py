"""What becomes of anomaly maps after the model: upsampling and smoothing patch scores into a map,
the range heatmaps are drawn in, and the regions a threshold cuts out of a map."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
_RANGE_SAMPLE = 4096  # pixels of each map looked at for the heatmap range


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


def top_mean(anomaly_map: NDArray[np.floating], fraction: float) -> float:
    """Mean of the map's highest ``fraction`` of pixels (at least one: 0 gives the maximum)."""
    flat = np.asarray(anomaly_map).ravel()
    count = max(1, int(flat.size * fraction))
    return float(np.partition(flat, flat.size - count)[flat.size - count :].mean())


def canvas_maps(grid_scores: torch.Tensor, canvas_size: int, sigma: float) -> NDArray[np.float32]:
    """Upsample patch scores to the canvas and smooth them.

    Args:
        grid_scores: ``(B, h, w)`` patch scores.
        canvas_size: canvas side, px.
        sigma: Gaussian smoothing, canvas px.

    Returns:
        ``(B, S, S)`` float32 on the CPU.
    """
    return smooth_canvas_maps(grid_scores, canvas_size, sigma).cpu().numpy()


def smooth_canvas_maps(grid_scores: torch.Tensor, canvas_size: int, sigma: float) -> torch.Tensor:
    """:func:`canvas_maps` as a tensor on the scores' device (what the exported graph computes)."""
    maps = F.interpolate(
        grid_scores[:, None], size=(canvas_size, canvas_size), mode="bilinear", align_corners=False
    )[:, 0]
    return gaussian_blur(maps, sigma)


def defect_regions(
    anomaly_map: NDArray[np.floating], threshold: float, min_area: int = 0
) -> tuple[NDArray[np.int32], int]:
    """Connected regions (8-connectivity) of ``anomaly_map >= threshold`` of at least ``min_area`` pixels.

    Args:
        anomaly_map: ``(H, W)`` scores.
        threshold: pixel threshold, same units.
        min_area: smaller regions are dropped (noise, dust), px.

    Returns:
        ``(H, W)`` int32 labels (0 background, 1..K regions) and ``K``.
    """
    labels, count = ndimage.label(np.asarray(anomaly_map) >= threshold, structure=_EIGHT_CONNECTED)
    if count == 0 or min_area <= 1:
        return labels.astype(np.int32), int(count)
    areas = np.bincount(labels.ravel(), minlength=count + 1)
    keep = areas >= min_area
    keep[0] = False
    relabel = np.zeros(count + 1, np.int32)
    relabel[keep] = np.arange(1, int(keep.sum()) + 1, dtype=np.int32)
    return relabel[labels], int(keep.sum())


@dataclass(frozen=True)
class MapRegion:
    """A region of a map above the pixel threshold, image px.

    Attributes:
        x, y: top-left corner of its bounding box.
        width, height: size of its bounding box.
        area: pixels inside the region.
        peak: the map's largest value in it, map units.
    """

    x: int
    y: int
    width: int
    height: int
    area: int
    peak: float

    def to_dict(self) -> dict[str, float | int]:
        """JSON-ready form."""
        return asdict(self)


def extract_regions(
    anomaly_map: NDArray[np.floating], threshold: float, min_area: int = 16
) -> list[MapRegion]:
    """The regions of ``anomaly_map >= threshold`` of at least ``min_area`` px, in label order.

    Args:
        anomaly_map: ``(H, W)`` scores.
        threshold: pixel threshold, same units.
        min_area: smaller blobs are noise, px.
    """
    labels, _ = defect_regions(anomaly_map, threshold, min_area)
    regions = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        inside = labels[box] == index
        regions.append(
            MapRegion(
                x=box[1].start,
                y=box[0].start,
                width=box[1].stop - box[1].start,
                height=box[0].stop - box[0].start,
                area=int(inside.sum()),
                peak=float(np.asarray(anomaly_map)[box][inside].max()),
            )
        )
    return regions


def region_masks(
    anomaly_map: NDArray[np.floating], threshold: float, min_area: int = 16
) -> list[NDArray[np.bool_]]:
    """The pixels of each region :func:`extract_regions` finds, in the same order, ``(H, W)`` bool each."""
    labels, count = defect_regions(anomaly_map, threshold, min_area)
    return [labels == index for index in range(1, count + 1)]


def heatmap_range(
    maps: Sequence[NDArray[np.floating]], scores: ArrayLike, threshold: float
) -> tuple[float, float]:
    """The range ``(low, high)`` heatmaps are scaled to, map units.

    From the 1st to the 99.9th percentile of the maps' pixels (a sample of each map), widened so that
    the threshold sits inside with room above it and no image score is above ``high``.

    Args:
        maps: anomaly maps; without any, ``scores`` stand in for the pixels.
        scores: image scores in the same units (held-out images, and any others scored).
        threshold: the pixel threshold.
    """
    scores = np.asarray(scores, np.float64)
    pixels = (
        np.concatenate([np.asarray(m).ravel()[:: max(1, m.size // _RANGE_SAMPLE)] for m in maps])
        if len(maps)
        else scores
    )
    low = float(min(np.percentile(pixels, 1), threshold))
    high = float(max(np.percentile(pixels, 99.9), threshold + (threshold - low), scores.max()))
    return low, high
