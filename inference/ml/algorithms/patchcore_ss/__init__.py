"""Semi-supervised PatchCore: learns from weak labels (masks, boxes, scribbles, points, verdicts)."""

from inference.ml.algorithms.patchcore_ss.model import SemiSupervisedParams, SemiSupervisedPatchCore

__all__ = ["SemiSupervisedParams", "SemiSupervisedPatchCore"]
