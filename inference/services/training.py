"""Training: a version's frozen data snapshot in, a fitted model, its threshold, metrics and test
predictions out. A thin adapter between ORM rows and the learning core; runs in Celery workers.

It ends with `context.complete(...)` inside the transaction that writes its results, so a worker that
lost its job writes nothing.
"""

import resource
import tempfile

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import Image
from inference.ml.algorithms import AnomalyDetector, LabeledImage, Scribble, get_algorithm
from inference.ml.metrics import evaluate
from inference.ml.postprocess import heatmap_range
from inference.ml.preprocessing import ImageInput
from inference.ml.thresholds import ScoreNormalizer, choose_threshold
from inference.models import JobKind, ModelVersion, ModelVersionStatus, SnapshotImage, SnapshotRole
from inference.services.defect_types import defect_types_fit, defect_types_report
from inference.services.jobs import JobContext, JobError, job_create
from inference.services.scoring import (
    StoredImages,
    flagged_region_types,
    images_in_order,
    predictions_write,
    snapshot_test_set,
)
from inference.services.snapshots import snapshot_image_ids
from inference.services.versions import artifact_delete
from inference.truth import ImageTruth, snapshot_truth

TARGET_FPR = 0.01  # without labeled defects: flag at most 1% of held-out normal images
SELF_SCORE_SAMPLE = 32  # training images scored for a threshold when no normal test image exists


def labeled_image(truth: ImageTruth, picture: ImageInput) -> LabeledImage | None:
    """What one labeled image of the snapshot teaches the learning core: its weak label, or a hard
    normal; None for a plain normal or an unlabeled image (those are the memory bank's business)."""
    if truth.hard_normal:
        return LabeledImage(image=picture, kind="normal_hard")
    weak = truth.weak_label()
    if weak is None:
        return None
    return LabeledImage(
        image=picture,
        kind=weak.kind,
        mask=weak.mask,
        boxes=weak.boxes,
        scribbles=tuple(Scribble(points=points, width=width) for points, width in weak.scribbles),
        points=weak.points,
    )


def _labeled(version: ModelVersion, *, with_defects: bool) -> tuple[list[LabeledImage], list[int]]:
    """The snapshot's hard normals and, `with_defects`, its labeled defects as weak labels (pictures
    read now: an algorithm that learns no defects is not made to read them), with each one's image id."""
    roles = [SnapshotRole.HARD_NORMAL] + ([SnapshotRole.LABELED] if with_defects else [])
    truths = snapshot_truth(snapshot=version.snapshot, roles=roles)
    images = {image.pk: image for image in Image.objects.filter(pk__in=[t.image_id for t in truths])}
    labels, ids = [], []
    for truth in truths:
        if truth.image_id not in images:  # deleted a moment ago
            continue
        label = labeled_image(truth, StoredImages([images[truth.image_id]])[0])
        if label is not None:
            labels.append(label)
            ids.append(truth.image_id)
    return labels, ids


def _artifact_save(*, detector: AnomalyDetector, prefix: str) -> None:
    """Write the model under `prefix`, replacing what an interrupted attempt left there."""
    artifact_delete(prefix=prefix)
    with tempfile.TemporaryDirectory() as folder:
        for path in detector.save(folder):
            with path.open("rb") as file:
                saved = default_storage.save(f"{prefix}/{path.name}", file)
            if saved != f"{prefix}/{path.name}":
                raise JobError(f"storage renamed {prefix}/{path.name} to {saved}; remove the stray file")


def _peak_memory_bytes(detector: AnomalyDetector) -> int:
    import torch

    if detector.device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(detector.device))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


def _fit_order_save(version: ModelVersion, train_ids: list[int], labeled_ids: list[int]) -> None:
    """Record each fitted image's position, what predictions' nearest-normal indices count."""
    rows = {
        (row.role, row.image_id): row
        for row in SnapshotImage.objects.filter(snapshot_id=version.snapshot_id).exclude(
            role=SnapshotRole.TEST
        )
    }
    labeled_roles = (SnapshotRole.LABELED, SnapshotRole.HARD_NORMAL)
    updated = []
    for index, image_id in enumerate(train_ids):
        row = rows[(SnapshotRole.TRAIN, image_id)]
        row.fit_index = index
        updated.append(row)
    for index, image_id in enumerate(labeled_ids, start=len(train_ids)):
        row = next(rows[(role, image_id)] for role in labeled_roles if (role, image_id) in rows)
        row.fit_index = index
        updated.append(row)
    SnapshotImage.objects.bulk_update(updated, ["fit_index"], batch_size=1000)


def train_execute(context: JobContext) -> None:
    """Fit on the version's training snapshot, threshold and evaluate on its test snapshot, save."""
    version = ModelVersion.objects.select_related("collection", "snapshot").get(
        pk=context.job.model_version_id
    )
    train_images = images_in_order(snapshot_image_ids(snapshot=version.snapshot, role=SnapshotRole.TRAIN))
    if not train_images:
        raise JobError("every training image of this version has been deleted; start a new training")
    params = {k: v for k, v in version.parameters.items() if k != "backbone"}
    detector = get_algorithm(
        version.algorithm, device=settings.LOUPE_ML_DEVICE, backbone=version.backbone, **params
    )
    labeled, labeled_ids = _labeled(version, with_defects=detector.uses_labels)
    context.progress(
        0.02, f"fitting {version.algorithm} on {len(train_images)} images and {len(labeled)} labeled"
    )
    report = detector.fit(
        StoredImages(train_images), labeled=labeled, progress=context.stage_progress(0.02, 0.58, "fit")
    )
    train_ids = [image.pk for image in train_images]
    context.progress(0.6, "learning the labeled defect types")
    learned_types = defect_types_fit(detector=detector, version=version)

    test_images, test = snapshot_test_set(version.snapshot)
    labels = np.array([t.label for t in test], np.int64)
    if test_images:
        predicted = detector.predict(
            StoredImages(test_images), progress=context.stage_progress(0.6, 0.3, "test")
        )
        scores, maps = predicted.scores, predicted.anomaly_maps
    else:
        predicted, scores, maps = None, np.zeros(0, np.float32), []
    fallback = scores
    if not (labels == 0).any():
        sample = train_images[:SELF_SCORE_SAMPLE]
        fallback = detector.predict(
            StoredImages(sample), progress=context.stage_progress(0.9, 0.03, "self")
        ).scores
    threshold, method = choose_threshold(scores, labels, fallback, target_fpr=TARGET_FPR)
    all_scores = np.concatenate([np.asarray(scores, np.float64), np.asarray(fallback, np.float64)])
    low, high = heatmap_range(maps, all_scores, threshold)

    context.progress(0.93, "saving the model")
    _artifact_save(detector=detector, prefix=version.artifact_prefix)
    context.progress(0.94, f"computing metrics on {len(test_images)} test images")
    version.metrics = evaluate(scores, labels, maps, [t.defect_mask() for t in test], threshold=threshold)
    version.metrics["fit"] = {"n_images": report.n_images, "n_patches": report.n_patches, **report.details}
    types = defect_types_report(detector=detector, images=test_images, truths=test, learned=learned_types)
    if types is not None:
        version.metrics["defect_types"] = types
    version.threshold, version.threshold_method, version.pixel_threshold = threshold, method, threshold
    version.normalizer = ScoreNormalizer.fit(all_scores, threshold).to_dict()
    version.heatmap_low, version.heatmap_high = low, high
    version.fit_seconds = report.seconds
    version.peak_memory_bytes = _peak_memory_bytes(detector)  # CPU: the worker process's peak RSS
    version.device = str(detector.device)
    version.status = ModelVersionStatus.READY
    region_types = (
        flagged_region_types(detector=detector, images=test_images, predicted=predicted, threshold=threshold)
        if predicted is not None
        else None
    )
    context.progress(0.95, f"writing {len(test_images)} test predictions")
    with transaction.atomic():
        context.hold_check()
        version.save()
        _fit_order_save(version, train_ids, labeled_ids)
        if predicted is not None:
            predictions_write(
                version=version,
                images=test_images,
                predicted=predicted,
                fitted_ids=train_ids + labeled_ids,
                region_types=region_types,
            )
        context.complete(
            {"model_version": version.pk, "metrics": version.metrics, "threshold": threshold},
            message=f"trained model {version.pk}",
        )
        parent = version.parent
        if parent is not None and parent.status == ModelVersionStatus.READY and test_images:
            # The parent on the very images its child was tested on: the comparison before a promotion.
            job_create(
                kind=JobKind.EVALUATE,
                collection=version.collection,
                model_version=parent,
                parameters={"snapshot": version.snapshot_id, "compare_with": version.pk},
                created_by=context.job.created_by,
            )
        if context.job.parameters.get("score_after", True):
            job_create(
                kind=JobKind.SCORE,
                collection=version.collection,
                model_version=version,
                created_by=context.job.created_by,
            )
