"""Semi-supervised PatchCore: learns from weak labels (masks, boxes, scribbles, points, verdicts)."""

from inference.ml.algorithms.semisupervised.labels import LABEL_KINDS, LabeledImage, LabelKind, Scribble
from inference.ml.algorithms.semisupervised.model import SemiSupervisedParams, SemiSupervisedPatchCore

__all__ = [
    "LABEL_KINDS",
    "LabelKind",
    "LabeledImage",
    "Scribble",
    "SemiSupervisedParams",
    "SemiSupervisedPatchCore",
]
