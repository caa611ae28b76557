"""Known defect types in training: the model's defect-type head learns from the typed regions of the
snapshot's labeled defects and is tested on those of its test split. Runs in Celery workers.

A head needs regions of at least two types; with fewer, the version simply names no types.
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray

from annotations.models import Image
from inference.ml.algorithms import AnomalyDetector
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.defect_types import type_confusion
from inference.models import ModelVersion, SnapshotRole
from inference.services.scoring import StoredImages, images_in_order
from inference.truth import ImageTruth, snapshot_truth


def _typed(
    images: list[Image], truths: list[ImageTruth]
) -> tuple[list[Image], list[list[NDArray[np.bool_]]], list[list[str]]]:
    """The images that have typed regions, their region masks and their types."""
    by_id = {image.pk: image for image in images}
    kept, masks, types = [], [], []
    for truth in truths:
        typed = truth.typed_regions()
        if typed and truth.image_id in by_id:
            kept.append(by_id[truth.image_id])
            types.append([name for name, _ in typed])
            masks.append([mask for _, mask in typed])
    return kept, masks, types


def defect_types_fit(*, detector: AnomalyDetector, version: ModelVersion) -> int:
    """Teach the fitted detector the defect types of the snapshot's labeled defects (outside the test
    split); returns the regions learned from, 0 when fewer than two types are labeled."""
    if not isinstance(detector, FeatureDetector):
        return 0
    truths = snapshot_truth(snapshot=version.snapshot, roles=[SnapshotRole.LABELED])
    kept, masks, types = _typed(images_in_order([truth.image_id for truth in truths]), truths)
    if len({name for names in types for name in names}) < 2:
        return 0
    return detector.fit_defect_types(StoredImages(kept), masks, types)


def defect_types_report(
    *, detector: AnomalyDetector, images: list[Image], truths: list[ImageTruth], learned: int
) -> dict[str, Any] | None:
    """How the head names the typed regions of the test images: the per-type confusion matrix
    (:func:`~inference.ml.defect_types.type_confusion`), what it learned from and how many it named;
    None when the detector learned no types."""
    if not isinstance(detector, FeatureDetector) or detector.defect_types is None:
        return None
    kept, masks, types = _typed(images, truths)
    report: dict[str, Any] = {"learned_types": detector.defect_types.classes, "n_learned": learned}
    named = detector.region_types(StoredImages(kept), masks) if kept else []
    true = [name for names in types for name in names]
    predicted = [name for found in named for name, _ in found]
    report["n_test"] = len(true)
    if true:
        report.update(type_confusion(true, predicted))
    return report
