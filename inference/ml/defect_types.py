"""Which known type a defect region is: a linear classifier on the backbone features under the region.

A region's descriptor (:meth:`~inference.ml.algorithms.features.FeatureDetector.region_descriptors`)
is the mean patch feature of the feature cells it covers, through the detector's own backbone and
canvas, so it describes the same evidence the anomaly map came from. A multinomial logistic regression
on standardised descriptors, classes balanced, learns the types from labeled regions
(:class:`DefectTypeClassifier`); :func:`type_confusion` reports how it does. Nothing here imports an
algorithm: a detector carries its fitted classifier.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import NDArray
from sklearn.linear_model import LogisticRegression


@dataclass
class DefectTypeClassifier:
    """A fitted classifier from region descriptors to defect types.

    Attributes:
        classes: the types, in the order of the model's outputs.
        mean, scale: the descriptors' standardisation.
        coef, intercept: the logistic regression's weights.
    """

    classes: list[str]
    mean: NDArray[np.float64]
    scale: NDArray[np.float64]
    coef: NDArray[np.float64]
    intercept: NDArray[np.float64]

    @classmethod
    def fit(
        cls, descriptors: NDArray[np.floating], types: Sequence[str], seed: int = 0
    ) -> DefectTypeClassifier:
        """Learn the types from labeled regions.

        Raises:
            ValueError: fewer than two types.
        """
        if len(set(types)) < 2:
            raise ValueError("telling defect types apart needs regions of at least two types")
        x = np.asarray(descriptors, np.float64)
        mean, scale = x.mean(axis=0), x.std(axis=0) + 1e-6
        model = LogisticRegression(C=0.1, class_weight="balanced", max_iter=2000, random_state=seed)
        model.fit((x - mean) / scale, list(types))
        coef, intercept = model.coef_, model.intercept_
        if len(model.classes_) == 2:  # sklearn keeps one row for two classes
            coef, intercept = np.vstack([-coef, coef]) / 2, np.r_[-intercept, intercept] / 2
        return cls([str(c) for c in model.classes_], mean, scale, coef, intercept)

    def probabilities(self, descriptors: NDArray[np.floating]) -> NDArray[np.float64]:
        """``(N, K)`` probability of each type."""
        logits = (
            (np.asarray(descriptors, np.float64) - self.mean) / self.scale
        ) @ self.coef.T + self.intercept
        logits -= logits.max(axis=1, keepdims=True)
        odds = np.exp(logits)
        return odds / odds.sum(axis=1, keepdims=True)

    def predict(self, descriptors: NDArray[np.floating]) -> list[str]:
        """The most probable type of each region."""
        return [self.classes[i] for i in self.probabilities(descriptors).argmax(axis=1)]

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "classes": self.classes,
            **{name: getattr(self, name).tolist() for name in ("mean", "scale", "coef", "intercept")},
        }

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> DefectTypeClassifier:
        """Rebuild from :meth:`to_dict`."""
        arrays = {
            name: np.asarray(values[name], np.float64) for name in ("mean", "scale", "coef", "intercept")
        }
        return cls(list(values["classes"]), **arrays)


def type_confusion(true: Sequence[str], predicted: Sequence[str]) -> dict[str, Any]:
    """Per-type confusion matrix and accuracy.

    Returns:
        ``types``, ``matrix`` (rows: true type, columns: predicted, counts), ``accuracy_by_type``
        (recall of each true type), ``accuracy`` (overall) and ``balanced_accuracy`` (mean of the
        per-type ones).
    """
    types = sorted(set(true) | set(predicted))
    index = {name: i for i, name in enumerate(types)}
    matrix = np.zeros((len(types), len(types)), np.int64)
    for t, p in zip(true, predicted, strict=True):
        matrix[index[t], index[p]] += 1
    rows = matrix.sum(axis=1)
    by_type = {name: float(matrix[i, i] / rows[i]) for i, name in enumerate(types) if rows[i]}
    return {
        "types": types,
        "matrix": matrix.tolist(),
        "accuracy_by_type": by_type,
        "accuracy": float(np.trace(matrix) / max(1, matrix.sum())),
        "balanced_accuracy": float(np.mean(list(by_type.values()))),
    }
