"""Threshold-sweep metrics for scores where higher means more anomalous (MVTec AD definitions).

A sample is predicted defective when its score is at least the threshold. Ties are one threshold:
curves have one point per distinct score, like scikit-learn's.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray


@dataclass(frozen=True)
class SweepCounts:
    """Cumulative counts at each distinct score, highest score first.

    Attributes:
        thresholds: ``(T,)`` distinct scores, descending.
        true_positives: ``(T,)`` positives scoring at least each threshold.
        false_positives: ``(T,)`` negatives scoring at least each threshold.
        positives: number of positive samples.
        negatives: number of negative samples.
    """

    thresholds: NDArray[np.float64]
    true_positives: NDArray[np.int64]
    false_positives: NDArray[np.int64]
    positives: int
    negatives: int


@dataclass(frozen=True)
class F1Max:
    """The best F1 over all thresholds, and where it is reached.

    Attributes:
        f1: the best F1 score.
        threshold: the score threshold giving it (predict defective when ``score >= threshold``).
        precision: precision at that threshold.
        recall: recall at that threshold.
    """

    f1: float
    threshold: float
    precision: float
    recall: float


@dataclass(frozen=True)
class ThresholdStats:
    """Confusion counts and rates at one threshold (positive = defective).

    Attributes:
        threshold: predict defective when ``score >= threshold``.
        true_positives, false_positives, true_negatives, false_negatives: counts.
        precision: ``TP / (TP + FP)``, 1 when nothing is predicted defective.
        recall: ``TP / (TP + FN)`` (escape rate is ``1 - recall``), 0 with no positives.
        fpr: false-positive rate ``FP / (FP + TN)`` (over-reject rate), 0 with no negatives.
        fnr: false-negative rate ``FN / (TP + FN)``, 0 with no positives.
        f1: harmonic mean of precision and recall.
    """

    threshold: float
    true_positives: int
    false_positives: int
    true_negatives: int
    false_negatives: int
    precision: float
    recall: float
    fpr: float
    fnr: float
    f1: float


def _as_arrays(scores: ArrayLike, labels: ArrayLike) -> tuple[NDArray[np.floating], NDArray[np.bool_]]:
    score_array = np.asarray(scores).ravel()
    label_array = np.asarray(labels).ravel().astype(bool)
    if score_array.shape != label_array.shape:
        raise ValueError(f"scores and labels differ in size: {score_array.size} vs {label_array.size}")
    if not np.isfinite(score_array).all():
        raise ValueError("scores contain NaN or infinity")
    return score_array, label_array


def sweep(scores: ArrayLike, labels: ArrayLike) -> SweepCounts:
    """Count positives and negatives above each distinct score.

    Args:
        scores: ``(N,)`` (or any shape, flattened) anomaly scores.
        labels: same size, true for defective.

    Returns:
        The cumulative counts.
    """
    score_array, label_array = _as_arrays(scores, labels)
    order = np.argsort(score_array, kind="stable")[::-1]
    sorted_scores = score_array[order]
    sorted_labels = label_array[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    true_positives = np.cumsum(sorted_labels, dtype=np.int64)[last_of_each]
    false_positives = last_of_each + 1 - true_positives
    positives = int(label_array.sum())
    return SweepCounts(
        thresholds=sorted_scores[last_of_each].astype(np.float64),
        true_positives=true_positives,
        false_positives=false_positives,
        positives=positives,
        negatives=int(label_array.size - positives),
    )


def roc_curve(scores: ArrayLike, labels: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """False- and true-positive rates at every distinct threshold, starting at (0, 0).

    Returns:
        ``(fpr, tpr)``, each ``(T + 1,)``, non-decreasing.

    Raises:
        ValueError: only one class is present.
    """
    counts = sweep(scores, labels)
    if counts.positives == 0 or counts.negatives == 0:
        raise ValueError("ROC needs both defective and normal samples")
    fpr = np.r_[0.0, counts.false_positives / counts.negatives]
    tpr = np.r_[0.0, counts.true_positives / counts.positives]
    return fpr, tpr


def auroc(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the ROC curve (trapezoidal), e.g. image AUROC, or pixel AUROC on flattened maps.

    Args:
        scores: anomaly scores, any shape.
        labels: same size, true for defective (pixel or image).

    Raises:
        ValueError: only one class is present.
    """
    fpr, tpr = roc_curve(scores, labels)
    return float(np.trapezoid(tpr, fpr))


def f1_max(scores: ArrayLike, labels: ArrayLike) -> F1Max:
    """The threshold maximising F1.

    Raises:
        ValueError: no defective samples.
    """
    counts = sweep(scores, labels)
    if counts.positives == 0:
        raise ValueError("F1 needs at least one defective sample")
    precision = counts.true_positives / (counts.true_positives + counts.false_positives)
    recall = counts.true_positives / counts.positives
    with np.errstate(invalid="ignore"):
        f1 = np.nan_to_num(2 * precision * recall / (precision + recall))
    best = int(np.argmax(f1))
    return F1Max(
        f1=float(f1[best]),
        threshold=float(counts.thresholds[best]),
        precision=float(precision[best]),
        recall=float(recall[best]),
    )


def threshold_stats(scores: ArrayLike, labels: ArrayLike, threshold: float) -> ThresholdStats:
    """Precision, recall, FPR and FNR when samples scoring ``>= threshold`` are called defective."""
    score_array, label_array = _as_arrays(scores, labels)
    predicted = score_array >= threshold
    tp = int((predicted & label_array).sum())
    fp = int((predicted & ~label_array).sum())
    fn = int((~predicted & label_array).sum())
    tn = int((~predicted & ~label_array).sum())
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 0.0
    return ThresholdStats(
        threshold=float(threshold),
        true_positives=tp,
        false_positives=fp,
        true_negatives=tn,
        false_negatives=fn,
        precision=precision,
        recall=recall,
        fpr=fp / (fp + tn) if fp + tn else 0.0,
        fnr=fn / (tp + fn) if tp + fn else 0.0,
        f1=2 * precision * recall / (precision + recall) if precision + recall else 0.0,
    )
