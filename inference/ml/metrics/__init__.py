"""Evaluation metrics following the MVTec AD definitions."""

from inference.ml.metrics.curves import (
    F1Max,
    ThresholdStats,
    auroc,
    f1_max,
    roc_curve,
    sweep,
    threshold_stats,
)
from inference.ml.metrics.evaluation import DEFECTIVE, NORMAL, NORMAL_TYPE, UNLABELED, evaluate
from inference.ml.metrics.pixels import PixelCounts, aupro, pro_curve, score_thresholds

__all__ = [
    "DEFECTIVE",
    "NORMAL",
    "NORMAL_TYPE",
    "UNLABELED",
    "evaluate",
    "F1Max",
    "PixelCounts",
    "ThresholdStats",
    "aupro",
    "auroc",
    "f1_max",
    "pro_curve",
    "roc_curve",
    "score_thresholds",
    "sweep",
    "threshold_stats",
]
