"""From canvas maps to an image's verdict, in operations an exported graph holds: the stitching of one
image's canvases (:func:`~inference.ml.preprocessing.stitch`), the resize to the image's size, the image
score, the normalised score and the decision.

Every image of a batch has the same shape, so they share one layout: ``places`` ``(T, 6)`` float32 gives
each of the image's ``T`` canvases as ``(top, left, bottom, right, row, col)``, its valid rows and columns
and where they go in the scaled image; ``scaled_shape`` and ``image_shape`` are ``(2,)`` int64. All
three are graph inputs, so one graph serves images of any shape.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from inference.ml.export.decision import DecisionRule


def _source_rows(
    length: torch.Tensor, offset: torch.Tensor, first: torch.Tensor, stop: torch.Tensor, side: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """For each canvas (``offset``, ``first``, ``stop``: ``(T,)``) and each of ``length`` positions of the
    scaled image: the canvas row it reads (clamped into the canvas) and whether the canvas covers it."""
    positions = torch.arange(length).float()[None]
    source = positions - offset[:, None] + first[:, None]
    covered = (source >= first[:, None]) & (source < stop[:, None])
    return source.clamp(0, side - 1).long(), covered


def stitch(maps: torch.Tensor, places: torch.Tensor, scaled_shape: torch.Tensor) -> torch.Tensor:
    """``(N, T, S, S)`` canvas maps of ``N`` images laid out alike to ``(N, H', W')`` maps of the scaled
    images: each canvas's valid part at its offset, overlaps averaged."""
    side = maps.shape[-1]
    top, left, bottom, right, row, col = places.unbind(1)
    rows, row_covered = _source_rows(scaled_shape[0], row, top, bottom, side)
    cols, col_covered = _source_rows(scaled_shape[1], col, left, right, side)
    count, tiles = maps.shape[0], maps.shape[1]
    picked = torch.gather(maps, 2, rows[None, :, :, None].expand(count, tiles, -1, side))
    picked = torch.gather(picked, 3, cols[None, :, None, :].expand(count, tiles, picked.shape[2], -1))
    weight = (row_covered[:, :, None] & col_covered[:, None, :]).float()
    return (picked * weight[None]).sum(dim=1) / weight.sum(dim=0).clamp_min(1.0)


def _bilinear_axis(source: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, ...]:
    """Lower and upper source index and upper weight of each target position, half-pixel centres, as
    ``torch.nn.functional.interpolate(mode="bilinear", align_corners=False)`` computes them."""
    scale = source.float() / target.float()
    position = ((torch.arange(target).float() + 0.5) * scale - 0.5).clamp_min(0.0)
    low = torch.floor(position)
    high = torch.minimum(low + 1, source.float() - 1)
    return low.long(), high.long(), position - low


def resize(maps: torch.Tensor, scaled_shape: torch.Tensor, image_shape: torch.Tensor) -> torch.Tensor:
    """``(N, H', W')`` maps of the scaled images to ``(N, H, W)`` by bilinear interpolation (no
    antialiasing); the identity when the shapes agree."""
    low, high, weight = _bilinear_axis(scaled_shape[0], image_shape[0])
    rows = maps[:, low] * (1 - weight)[None, :, None] + maps[:, high] * weight[None, :, None]
    low, high, weight = _bilinear_axis(scaled_shape[1], image_shape[1])
    return rows[:, :, low] * (1 - weight)[None, None] + rows[:, :, high] * weight[None, None]


class ImageVerdict(nn.Module):
    """Full-size maps to the image score, normalised score and decision: the manifest's ``score`` rule
    (:func:`~inference.ml.export.manifest.image_score_rule`) and the version's decision rule.

    Args:
        score_rule: the manifest's ``score`` entry.
        rule: the version's threshold and normaliser.
    """

    def __init__(self, score_rule: dict[str, Any], rule: DecisionRule) -> None:
        super().__init__()
        self.score_rule = dict(score_rule)
        normalizer = rule.normalizer
        bounds = [normalizer.low, normalizer.threshold, normalizer.high, rule.threshold]
        self.register_buffer("bounds", torch.tensor(bounds, dtype=torch.float64))

    def image_score(self, maps: torch.Tensor, image_shape: torch.Tensor) -> torch.Tensor:
        """``(N,)`` image scores of ``(N, H, W)`` maps."""
        flat = maps.flatten(1)
        peak = flat.amax(dim=1)
        rule = self.score_rule
        if rule["rule"] == "map_max":
            return peak
        if rule["rule"] == "peak_or_mean":
            level = (
                rule["peak_mean"]
                + rule["peak_std"] * (flat.mean(dim=1) - rule["level_mean"]) / rule["level_std"]
            )
            return torch.maximum(peak, level)
        if rule["rule"] == "map_top":
            ordered = torch.sort(flat, dim=1, descending=True).values
            pixels = image_shape[0] * image_shape[1]
            # int(pixels * fraction) in float64, as top_mean counts them.
            count = torch.floor(pixels.double() * rule["top_fraction"]).clamp_min(1.0)
            kept = (torch.arange(pixels).double() < count).float()
            return (ordered * kept[None]).sum(dim=1) / count.float()
        raise ValueError(f"unknown image score rule {rule['rule']!r}")

    def forward(
        self, maps: torch.Tensor, image_shape: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """Image scores, normalised scores and decisions (``True``: defective) of ``(N, H, W)`` maps."""
        score = self.image_score(maps, image_shape)
        # In float64 where the runtime has it, as ScoreNormalizer and the platform's decision compute.
        low, middle, high, threshold = self.bounds.unbind()
        value = score.double()
        below = 0.5 * (value - low) / (middle - low)
        above = 0.5 + 0.5 * (value - middle) / (high - middle)
        normalized = torch.where(value < middle, below, above).clamp(0.0, 1.0).float()
        return score, normalized, value >= threshold
