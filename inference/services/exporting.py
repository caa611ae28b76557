"""Exporting: a ready version's model written for runners outside Loupe, and checked against Loupe on
real images. A thin adapter between ORM rows and `inference.ml.export`; runs in Celery workers (the
export job) and in `manage.py export`.

The job ends with `context.complete(...)` inside the transaction that records the export, so a worker
that lost its job writes nothing.
"""

import importlib.metadata
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotations.models import Image
from annotations.services.storage import storage_tree_delete
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.export import DecisionRule, ExportResult, export_model
from inference.ml.thresholds import ScoreNormalizer
from inference.models import ExportStatus, ModelExport, ModelVersion
from inference.services.exports import NotExportable, export_check
from inference.services.jobs import JobContext, JobError
from inference.services.scoring import (
    MIN_REGION_AREA,
    StoredImages,
    fitted_image_ids,
    images_in_order,
    model_load,
    snapshot_test_set,
)
from inference.services.versions import VersionNotReady

PARITY_SAMPLE = 16  # training images compared when the version has no test image


class NothingToCompare(Exception):
    def __init__(self, version: ModelVersion) -> None:
        super().__init__(
            f"model {version.pk} has no test image and none of the images it was fitted on is left, so the "
            "export cannot be checked against it; put images in the test split and train again"
        )


def parity_images(*, version: ModelVersion) -> list[Image]:
    """The images the runtimes are compared on: the version's test images, else an even sample of at
    most `PARITY_SAMPLE` of the images it was fitted on.

    Raises:
        NothingToCompare: neither is left.
    """
    images = snapshot_test_set(version.snapshot)[0] if version.snapshot_id else []
    if not images:
        fitted = images_in_order(fitted_image_ids(version))
        step = max(1, -(-len(fitted) // PARITY_SAMPLE))
        images = fitted[::step][:PARITY_SAMPLE]
    if not images:
        raise NothingToCompare(version)
    return images


def decision_rule(*, version: ModelVersion) -> DecisionRule:
    """How the version decides, as the export states it: the same threshold, normaliser and regions as
    its predictions in Loupe."""
    return DecisionRule(
        threshold=version.threshold,
        normalizer=ScoreNormalizer(**version.normalizer),
        pixel_threshold=version.pixel_threshold,
        min_region_area=MIN_REGION_AREA,
    )


def provenance(*, version: ModelVersion) -> dict[str, Any]:
    """Where the exported model comes from, recorded in its manifest."""
    return {
        "version_id": version.pk,
        "collection_id": version.collection_id,
        "training_snapshot": version.snapshot_id,
        "loupe_version": importlib.metadata.version("loupe"),
        "algorithm": version.algorithm,
        "exported_at": timezone.now().isoformat(timespec="seconds"),
    }


def export_write(
    *, version: ModelVersion, directory: str | Path, progress: Callable[[str, int, int], None] | None = None
) -> ExportResult:
    """Export the version into `directory` and measure the runtimes against it (`result.passed` says
    whether it may ship).

    Raises:
        VersionNotReady, NotExportable: the version cannot be exported (see `export_check`).
        NothingToCompare: no image is left to check it on.
        ValueError: the learning core cannot export this model (the message says why).
    """
    export_check(version=version)
    images = parity_images(version=version)
    detector = model_load(version)
    if not isinstance(detector, FeatureDetector):
        raise NotExportable(version)
    return export_model(
        detector,
        directory,
        rule=decision_rule(version=version),
        provenance=provenance(version=version),
        parity_images=StoredImages(images),
        progress=progress,
    )


def _files_store(*, prefix: str, directory: Path, names: list[str]) -> None:
    """Upload the export's files under `prefix`, replacing what an earlier attempt left there."""
    storage_tree_delete(prefix=prefix)
    for name in names:
        with (directory / name).open("rb") as file:
            saved = default_storage.save(f"{prefix}/{name}", file)
        if saved != f"{prefix}/{name}":
            raise JobError(f"storage renamed {prefix}/{name} to {saved}; remove the stray file")


def export_execute(context: JobContext) -> None:
    """Write the job's export, check its parity, and store its files; a parity failure ends the export
    failed with its figures (and no files)."""
    export_id = context.job.parameters["export"]
    export = ModelExport.objects.select_related("model_version").filter(pk=export_id).first()
    if export is None:
        raise JobError(f"export {export_id} was deleted; there is nothing to write")
    version = export.model_version
    ModelExport.objects.filter(pk=export.pk).update(status=ExportStatus.RUNNING)
    context.progress(0.01, f"exporting model {version.pk}")
    with tempfile.TemporaryDirectory() as folder:
        try:
            result = export_write(
                version=version, directory=folder, progress=context.stage_progress(0.02, 0.9, "export")
            )
        except (VersionNotReady, NotExportable, NothingToCompare, ValueError) as error:
            raise JobError(str(error)) from None
        export.manifest = result.manifest
        export.parity = [figures.to_dict() for figures in result.parity]
        if not result.passed:
            reason = "; ".join(result.failures)
            with transaction.atomic():
                context.hold_check()
                export.status, export.failure_reason, export.files = ExportStatus.FAILED, reason, []
                export.save(update_fields=["status", "failure_reason", "files", "manifest", "parity"])
            raise JobError(reason)
        context.progress(0.93, f"storing {len(result.files)} files")
        _files_store(prefix=export.storage_prefix, directory=Path(folder), names=result.files)
    export.files = [{"name": name, "size": result.sizes[name]} for name in result.files]
    export.status, export.failure_reason = ExportStatus.READY, ""
    with transaction.atomic():
        context.hold_check()
        export.save(update_fields=["status", "failure_reason", "files", "manifest", "parity"])
        context.complete(
            {"export": export.pk, "files": export.files, "parity": export.parity},
            message=f"exported model {version.pk}",
        )
