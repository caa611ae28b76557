"""Choosing the score above which an image (or pixel) is called defective, and presenting scores.

- With labeled defects: the F1-optimal threshold (:func:`f1_optimal_threshold`).
- Without: a quantile of held-out normal scores for a target false-positive (over-reject) rate
  (:func:`normal_quantile_threshold`).
- :func:`defect_regions` drops regions smaller than a minimum area from a thresholded map.
- :class:`ScoreNormalizer` maps raw scores to [0, 1] with the threshold at exactly 0.5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import ndimage

from inference.ml.metrics import f1_max

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def f1_optimal_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """The threshold maximising F1 on labeled scores (defective when ``score >= threshold``).

    Raises:
        ValueError: no defective sample among the labels.
    """
    return f1_max(scores, labels).threshold


def normal_quantile_threshold(normal_scores: ArrayLike, target_fpr: float = 0.01) -> float:
    """The threshold that flags at most ``target_fpr`` of held-out normal images.

    Uses the ``1 - target_fpr`` quantile (the "higher" one, so the rate on these scores never exceeds
    the target); a score strictly above every normal score if ``target_fpr`` is 0.

    Args:
        normal_scores: scores of defect-free images the model was not fitted on.
        target_fpr: acceptable over-reject rate, in [0, 1).

    Raises:
        ValueError: no scores, or ``target_fpr`` outside [0, 1).
    """
    values = np.sort(np.asarray(normal_scores, np.float64).ravel())
    if values.size == 0:
        raise ValueError("a normal-quantile threshold needs at least one held-out normal score")
    if not 0 <= target_fpr < 1:
        raise ValueError(f"target_fpr must be in [0, 1), got {target_fpr}")
    allowed = int(np.floor(target_fpr * values.size))  # normals that may score at or above the threshold
    if allowed == 0:
        return float(np.nextafter(values[-1], np.inf))
    return float(np.nextafter(values[values.size - allowed - 1], np.inf))


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
class ScoreNormalizer:
    """Piecewise-linear map of raw scores to [0, 1]: ``low -> 0``, ``threshold -> 0.5``, ``high -> 1``.

    Monotonic, so rankings and metrics are unchanged, and a normalised score of 0.5 or more means
    "defective" whatever the algorithm's raw units.

    Attributes:
        low: raw score mapped to 0 (e.g. the lowest normal score).
        threshold: raw decision threshold, mapped to 0.5.
        high: raw score mapped to 1 (e.g. the highest score seen).
    """

    low: float
    threshold: float
    high: float

    def __post_init__(self) -> None:
        if not self.low < self.threshold < self.high:
            raise ValueError(f"need low < threshold < high, got {self.low}, {self.threshold}, {self.high}")

    @classmethod
    def fit(cls, scores: ArrayLike, threshold: float) -> ScoreNormalizer:
        """Span the observed scores (e.g. image scores, or every pixel of the anomaly maps).

        Widens the range where needed so the threshold lies strictly inside it.
        """
        values = np.asarray(scores, np.float64)
        spread = max(float(values.max() - values.min()), abs(threshold), 1e-6) * 1e-3
        return cls(
            low=min(float(values.min()), threshold - spread),
            threshold=float(threshold),
            high=max(float(values.max()), threshold + spread),
        )

    def __call__(self, scores: ArrayLike) -> NDArray[np.float32]:
        """Normalise scores (any shape) to [0, 1], clipping outside ``[low, high]``."""
        values = np.asarray(scores, np.float64)
        below = 0.5 * (values - self.low) / (self.threshold - self.low)
        above = 0.5 + 0.5 * (values - self.threshold) / (self.high - self.threshold)
        return np.clip(np.where(values < self.threshold, below, above), 0.0, 1.0).astype(np.float32)

    def to_dict(self) -> dict[str, float]:
        """JSON-ready form (rebuild with ``ScoreNormalizer(**d)``)."""
        return asdict(self)
