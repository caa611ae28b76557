"""One export: the files a line-side runner needs, written into a folder, and their parity figures."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inference.ml.algorithms.base import ProgressCallback
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.export.decision import DecisionRule
from inference.ml.export.graph import export_onnx, export_openvino
from inference.ml.export.manifest import MANIFEST_FILE, ONNX_FILE, OPENVINO_FILES, build_manifest
from inference.ml.export.parity import PARITY_TOLERANCE, ParityFigures, measure_parity
from inference.ml.preprocessing import ImageInput

GATED_RUNTIMES = ("onnxruntime", "openvino_fp32")
"""The runtimes whose parity decides whether an export may ship (FP16 is reported, not gated)."""


@dataclass(frozen=True)
class ExportResult:
    """What :func:`export_model` wrote and measured.

    Attributes:
        directory: the folder written.
        files: paths written, relative to ``directory`` (``model.onnx``, ``manifest.json``, the IRs).
        manifest: the manifest's contents.
        parity: one entry per runtime.
        sizes: bytes of each file written.
    """

    directory: Path
    files: list[str]
    manifest: dict[str, Any]
    parity: list[ParityFigures] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)

    @property
    def failures(self) -> list[str]:
        """Why the export may not ship: one sentence per gated runtime outside the tolerance."""
        return [
            f"{figures.sentence()} (allowed: {PARITY_TOLERANCE:g} and none)"
            for figures in self.parity
            if figures.runtime in GATED_RUNTIMES and not figures.passed
        ]

    @property
    def passed(self) -> bool:
        """Every gated runtime is within the tolerance."""
        return not self.failures


def sha256_of(path: Path) -> str:
    """Hex SHA-256 of a file."""
    digest = hashlib.sha256()
    with path.open("rb") as file:
        for block in iter(lambda: file.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def export_model(
    detector: FeatureDetector,
    directory: str | Path,
    *,
    rule: DecisionRule,
    provenance: dict[str, Any],
    parity_images: Sequence[ImageInput],
    progress: ProgressCallback | None = None,
) -> ExportResult:
    """Write ``model.onnx``, ``manifest.json`` and ``openvino/model.xml`` (+ ``.bin``, and the FP16
    ``openvino/model_fp16.*``) into ``directory``, then measure every runtime against
    ``detector.predict`` on ``parity_images``.

    Nothing here decides whether the export ships: :attr:`ExportResult.passed` says.

    Args:
        detector: a fitted PatchCore, PaDiM or semi-supervised PatchCore.
        directory: where to write (created if needed).
        rule: the version's threshold, normaliser, pixel threshold and least region area.
        provenance: facts recorded in the manifest as they are (version id, training snapshot, Loupe
            version, …).
        parity_images: images to compare the runtimes on (at least one).
        progress: called with stages ``export`` and ``parity``.

    Raises:
        ValueError: the model cannot be exported (an image score that needs the memory bank at image
            level, an unfitted model) or no parity image was given.
    """
    if not parity_images:
        raise ValueError("the parity check needs at least one image")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    manifest = build_manifest(detector, rule, provenance)
    if progress is not None:
        progress("export", 0, 3)
    export_onnx(detector, rule, directory / ONNX_FILE, manifest)
    manifest["model"]["sha256"] = sha256_of(directory / ONNX_FILE)
    if progress is not None:
        progress("export", 1, 3)
    export_openvino(directory / ONNX_FILE, directory)
    if progress is not None:
        progress("export", 2, 3)
    (directory / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, sort_keys=True))
    files = [ONNX_FILE, MANIFEST_FILE, *OPENVINO_FILES]
    parity = measure_parity(detector, directory, parity_images, rule, progress)
    if progress is not None:
        progress("export", 3, 3)
    return ExportResult(
        directory=directory,
        files=files,
        manifest=manifest,
        parity=parity,
        sizes={name: (directory / name).stat().st_size for name in files},
    )
