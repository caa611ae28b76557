"""Anomaly-detection algorithms behind one interface, by name."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from inference.ml.algorithms.base import AnomalyDetector, FitReport, Predictions, read_model_document
from inference.ml.algorithms.labels import LabeledImage, Scribble
from inference.ml.algorithms.padim import Padim
from inference.ml.algorithms.patchcore import PatchCore
from inference.ml.algorithms.patchcore_ss import SemiSupervisedPatchCore

_ALGORITHMS: dict[str, type[AnomalyDetector]] = {
    cls.name: cls for cls in (PatchCore, Padim, SemiSupervisedPatchCore)
}
ALGORITHMS = tuple(_ALGORITHMS)


def get_algorithm(name: str, device: str = "auto", **params: Any) -> AnomalyDetector:
    """A new, unfitted algorithm.

    Args:
        name: one of :data:`ALGORITHMS` (``patchcore``, ``padim``, ``patchcore_ss``: PatchCore that
            also learns from weak labels, see :class:`SemiSupervisedPatchCore`).
        device: ``auto`` (CUDA when present), ``cpu`` or ``cuda[:N]``.
        **params: fields of the algorithm's parameter class (e.g. ``image_size=320``).

    Raises:
        ValueError: unknown algorithm or parameter.
    """
    if name not in _ALGORITHMS:
        raise ValueError(f"unknown algorithm {name!r}; choose from {', '.join(ALGORITHMS)}")
    cls = _ALGORITHMS[name]
    return cls(cls.params_type.from_dict(params), device=device)


def load_algorithm(directory: str | Path, device: str = "auto") -> AnomalyDetector:
    """A fitted algorithm saved by :meth:`AnomalyDetector.save`.

    Raises:
        FileNotFoundError: a model file is missing.
        ValueError: the files are not a model this code reads.
    """
    document = read_model_document(directory)
    name = document.get("algorithm")
    if name not in _ALGORITHMS:
        raise ValueError(f"{directory} holds a model of unknown algorithm {name!r}")
    return _ALGORITHMS[name].from_saved(document, Path(directory), device=device)


__all__ = [
    "ALGORITHMS",
    "AnomalyDetector",
    "FitReport",
    "LabeledImage",
    "Predictions",
    "Scribble",
    "SemiSupervisedPatchCore",
    "get_algorithm",
    "load_algorithm",
]
