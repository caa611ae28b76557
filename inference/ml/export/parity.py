"""Parity of an export: the shipped Python runner, on each runtime, against the detector's own predict.

The runner is ``deploy/python/loupe_inspect.py`` itself, loaded from the repository, so what is checked
is what a line computer runs.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np

from inference.ml.algorithms.base import ProgressCallback
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.export.decision import DecisionRule
from inference.ml.preprocessing import ImageInput

PARITY_TOLERANCE = 1e-4
"""Largest difference of the normalised score an FP32 runtime may show against PyTorch."""

RUNNER = Path(__file__).resolve().parents[3] / "deploy" / "python" / "loupe_inspect.py"
RUNTIMES = ("onnxruntime", "openvino_fp32", "openvino_fp16")
_RUNNER_RUNTIME = {
    "onnxruntime": "onnxruntime",
    "openvino_fp32": "openvino",
    "openvino_fp16": "openvino_fp16",
}


@dataclass(frozen=True)
class ParityFigures:
    """How far one runtime's results are from PyTorch's on the same images.

    Attributes:
        runtime: ``onnxruntime``, ``openvino_fp32`` or ``openvino_fp16``.
        images: images compared.
        max_score_diff: largest absolute difference of the normalised score.
        max_map_diff: largest absolute difference of a map pixel, relative to that map's range.
        flipped: images whose decision differs.
    """

    runtime: str
    images: int
    max_score_diff: float
    max_map_diff: float
    flipped: int

    @property
    def passed(self) -> bool:
        """Within :data:`PARITY_TOLERANCE` and no decision flipped."""
        return self.max_score_diff <= PARITY_TOLERANCE and self.flipped == 0

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form, with ``passed``."""
        return {**asdict(self), "passed": self.passed}

    def sentence(self) -> str:
        """The figures in words."""
        return (
            f"{self.runtime}: normalised score differs by up to {self.max_score_diff:.2e}, maps by up to "
            f"{self.max_map_diff:.2e} of their range, {self.flipped} of {self.images} decisions flipped"
        )


@cache
def runner() -> ModuleType:
    """The Python runner module (``deploy/python/loupe_inspect.py``).

    Raises:
        FileNotFoundError: the repository's ``deploy`` folder is missing.
    """
    if not RUNNER.is_file():
        raise FileNotFoundError(f"the Python runner {RUNNER} is missing: the parity check runs it")
    spec = importlib.util.spec_from_file_location("loupe_inspect", RUNNER)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def compare(
    runtime: str,
    inspector: object,
    reference_maps: Sequence[np.ndarray],
    reference: Sequence[dict],
    images: Sequence[ImageInput],
) -> ParityFigures:
    """Figures of one runtime's runner against the reference maps and verdicts of the same images."""
    score_diff = map_diff = 0.0
    flipped = 0
    for index, (anomaly_map, verdict) in enumerate(inspector.inspect(images)):  # type: ignore[attr-defined]
        expected_map = reference_maps[index]
        span = max(float(expected_map.max() - expected_map.min()), 1e-12)
        map_diff = max(map_diff, float(np.abs(anomaly_map - expected_map).max()) / span)
        score_diff = max(score_diff, abs(verdict["normalized_score"] - reference[index]["normalized_score"]))
        flipped += verdict["decision"] != reference[index]["decision"]
    return ParityFigures(runtime, len(images), score_diff, map_diff, flipped)


def measure_parity(
    detector: FeatureDetector,
    directory: Path,
    images: Sequence[ImageInput],
    rule: DecisionRule,
    progress: ProgressCallback | None = None,
) -> list[ParityFigures]:
    """Each runtime's :class:`ParityFigures` on ``images``, against ``detector.predict``.

    The reference verdict is the detector's own score under the platform's rule (its normaliser and
    threshold), so any difference is the export's: the graph's, the manifest's or the runner's.
    """
    module = runner()
    # Read once: predict and every runtime see the same images, and lazy storage is not read four times.
    images = [images[i] for i in range(len(images))]
    predicted = detector.predict(images)
    inspector = module.Inspector(directory, "onnxruntime")
    reference = [
        {
            "normalized_score": float(rule.normalizer(float(score))),
            "decision": "defective" if float(score) >= rule.threshold else "normal",
        }
        for score in predicted.scores
    ]
    figures = []
    for step, runtime in enumerate(RUNTIMES):
        if progress is not None:
            progress("parity", step, len(RUNTIMES))
        if runtime != "onnxruntime":
            inspector = module.Inspector(directory, _RUNNER_RUNTIME[runtime])
        figures.append(compare(runtime, inspector, predicted.anomaly_maps, reference, images))
    if progress is not None:
        progress("parity", len(RUNTIMES), len(RUNTIMES))
    return figures
