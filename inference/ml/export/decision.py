"""How a version turns scores into decisions, as an export carries it."""

from __future__ import annotations

from dataclasses import dataclass

from inference.ml.thresholds import ScoreNormalizer


@dataclass(frozen=True)
class DecisionRule:
    """How a version turns scores into decisions, as the platform holds it.

    Attributes:
        threshold: image score threshold, raw units (defective when ``score >= threshold``).
        normalizer: the version's map of raw scores to [0, 1] with the threshold at 0.5.
        pixel_threshold: map value above which pixels form flagged regions, raw units.
        min_region_area: smaller regions are noise, px.
    """

    threshold: float
    normalizer: ScoreNormalizer
    pixel_threshold: float
    min_region_area: int = 16
