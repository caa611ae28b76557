"""Choosing the score above which an image (or pixel) is called defective, and presenting scores.

- With labeled defects: the F1-optimal threshold (:func:`f1_optimal_threshold`).
- Without: a quantile of held-out normal scores for a target false-positive (over-reject) rate
  (:func:`normal_quantile_threshold`).
- :func:`choose_threshold` picks between them for a new model.
- :class:`ScoreNormalizer` maps raw scores to [0, 1] with the threshold at exactly 0.5.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from inference.ml.metrics import DEFECTIVE, UNLABELED, f1_max


def _between(values: NDArray[np.float64], below: float) -> float:
    """A threshold just above ``below``: halfway to the next higher of ``values``, or a thousandth of
    their spread above it when none is higher.

    Halfway, not at a score: an image scored exactly at the threshold is decided by the last bit of
    its score, which another runtime (an export, another device) may round the other way.
    """
    higher = values[values > below]
    if higher.size:
        return float((below + higher.min()) / 2)
    spread = float(values.max() - values.min()) or abs(below) or 1.0
    return float(below + 1e-3 * spread)


def f1_optimal_threshold(scores: ArrayLike, labels: ArrayLike) -> float:
    """A threshold maximising F1 on labeled scores (defective when ``score >= threshold``): halfway
    between the lowest score it calls defective and the next lower score, so no score sits on it.

    Raises:
        ValueError: no defective sample among the labels.
    """
    best = f1_max(scores, labels).threshold
    values = np.asarray(scores, np.float64).ravel()
    lower = values[values < best]
    if lower.size == 0:
        return _between(values, best - 2e-3 * (float(values.max() - values.min()) or abs(best) or 1.0))
    return _between(values, float(lower.max()))


def normal_quantile_threshold(normal_scores: ArrayLike, target_fpr: float = 0.01) -> float:
    """A threshold that flags at most ``target_fpr`` of held-out normal images.

    Just above the ``1 - target_fpr`` quantile (the "higher" one, so the rate on these scores never
    exceeds the target), halfway to the next score (see :func:`_between`); above every normal score if
    ``target_fpr`` is 0.

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
    return _between(values, float(values[values.size - allowed - 1]))


def choose_threshold(
    scores: ArrayLike, labels: ArrayLike, fallback_scores: ArrayLike, *, target_fpr: float = 0.01
) -> tuple[float, str]:
    """The image threshold of a new model and how it was chosen.

    F1-optimal when the labels hold both classes (``f1_max``); with only normal images labeled, their
    ``1 - target_fpr`` quantile (``normal_quantile_fpr_<rate>``); with no normal labeled, the highest
    of ``fallback_scores`` (``train_max``: the training images' own scores, optimistic but all there is).

    Args:
        scores: ``(N,)`` scores of the held-out images.
        labels: ``(N,)`` 1 defective, 0 normal, -1 not labeled (see :mod:`inference.ml.metrics`).
        fallback_scores: scores of normal images to fall back on (e.g. a sample of the training set).
        target_fpr: the over-reject rate aimed at without labeled defects.
    """
    labels = np.asarray(labels, np.int64)
    labeled = labels != UNLABELED
    chosen = np.asarray(scores, np.float64)[labeled]
    flags = labels[labeled] == DEFECTIVE
    if flags.any() and not flags.all():
        return f1_optimal_threshold(chosen, flags), "f1_max"
    if labeled.any() and not flags.any():
        return normal_quantile_threshold(chosen, target_fpr), f"normal_quantile_fpr_{target_fpr:g}"
    return normal_quantile_threshold(fallback_scores, 0.0), "train_max"


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
        if not np.isfinite([self.low, self.threshold, self.high]).all():
            raise ValueError(f"need finite bounds, got {self.low}, {self.threshold}, {self.high}")
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
