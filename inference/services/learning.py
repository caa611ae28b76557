"""The work of train, score and evaluate jobs: ORM rows in, the learning core (`inference.ml`) in the
middle, model files, predictions and metrics out. Runs in Celery workers only.

Every function here takes a claimed `JobContext` and ends with `context.complete(...)` inside the
transaction that writes its results, so a worker that lost its job writes nothing.
"""

import logging
import resource
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from numpy.typing import NDArray
from PIL import Image as PILImage
from scipy import ndimage

from annotations.geometry import mask_decode
from annotations.models import AnnotationRevision, Image, RegionKind, Verdict
from inference.ml import metrics
from inference.ml.active import map_descriptor
from inference.ml.algorithms import AnomalyDetector, LabeledImage, get_algorithm, load_algorithm
from inference.ml.algorithms.semisupervised import SemiSupervisedPatchCore
from inference.ml.thresholds import (
    ScoreNormalizer,
    defect_regions,
    f1_optimal_threshold,
    normal_quantile_threshold,
)
from inference.models import JobKind, ModelVersion, ModelVersionStatus, Prediction
from inference.services.heatmaps import heatmap_key, heatmap_png
from inference.services.jobs import JobContext, JobError, job_create
from inference.services.reviews import review_ranks_update
from inference.services.versions import ARTIFACT_FILES, artifact_delete, snapshot, test_image_list
from inference.services.weak_labels import labeled_image

logger = logging.getLogger(__name__)

SCORE_BATCH = 16
TARGET_FPR = 0.01  # without labeled defects: flag at most 1% of held-out normal images
MIN_REGION_AREA = 16  # px; smaller blobs above the threshold are noise


class StoredImages(Sequence):
    """Images read from storage one at a time, as the learning core asks for them."""

    def __init__(self, images: Sequence[Image]) -> None:
        self.images = list(images)

    def __len__(self) -> int:
        return len(self.images)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, slice):
            return StoredImages(self.images[index])
        with self.images[index].file.open("rb") as file:
            picture = PILImage.open(file)
            picture.load()
        return picture


def _images_in_order(ids: list[int]) -> list[Image]:
    by_id = Image.objects.in_bulk(ids)
    return [by_id[pk] for pk in ids if pk in by_id]


def _callback(context: JobContext, start: float, span: float, phase: str):
    """A progress callback for the learning core that never goes backwards: its stages (features,
    coreset, ...) are not known in advance, so the first gets half of the span, each next one half of
    what is left."""
    stages: list[str] = []

    def progress(stage: str, done: int, total: int) -> None:
        if stage not in stages:
            stages.append(stage)
        index = stages.index(stage)
        offset = span * (1 - 0.5**index)
        context.progress(
            start + offset + span * 0.5 ** (index + 1) * done / max(total, 1),
            f"{phase}: {stage} {done}/{total}",
        )

    return progress


# --- the truth, as labeled at a snapshot --------------------------------------------------------


def _truth_at(snapshot_rows: list[list[int]]) -> dict[int, tuple[int | None, NDArray[np.bool_] | None]]:
    """Per image id: (1 defective / 0 normal / None not labeled, its defect mask or None), as labeled at
    the annotation version the snapshot names."""
    wanted = {(image_id, version) for image_id, version in snapshot_rows if version > 0}
    revisions = AnnotationRevision.objects.filter(
        annotation__image_id__in=[image_id for image_id, _ in wanted]
    ).values_list("annotation__image_id", "version", "verdict", "regions")
    truth: dict[int, tuple[int | None, NDArray[np.bool_] | None]] = {}
    for image_id, version, verdict, regions in revisions:
        if (image_id, version) not in wanted:
            continue
        if verdict == Verdict.NORMAL:
            truth[image_id] = (0, None)
        elif verdict == Verdict.DEFECTIVE:
            masks = [mask_decode(r["geometry"]) for r in regions if r["kind"] == RegionKind.MASK]
            truth[image_id] = (1, np.logical_or.reduce(masks) if masks else None)
    return truth


def _labeled_images(snapshot_rows: list[list[Any]]) -> tuple[list[LabeledImage], list[Image]]:
    """The labeled snapshot as the learning core's weak labels (pictures read now), and the hard
    normals' images (what an algorithm without a head learns as plain normals)."""
    hard = {image_id for image_id, _, hard_normal in snapshot_rows if hard_normal}
    wanted = {(image_id, version) for image_id, version, _ in snapshot_rows}
    revisions = AnnotationRevision.objects.filter(
        annotation__image_id__in=[image_id for image_id, _ in wanted]
    ).values_list("annotation__image_id", "version", "verdict", "regions")
    at_snapshot = {
        image_id: (verdict, regions)
        for image_id, version, verdict, regions in revisions
        if (image_id, version) in wanted
    }
    images = _images_in_order([image_id for image_id, _, _ in snapshot_rows])
    labels = []
    for image in images:
        if image.pk not in at_snapshot:
            continue
        verdict, regions = at_snapshot[image.pk]
        label = labeled_image(
            image=StoredImages([image])[0], verdict=verdict, regions=regions, hard_normal=image.pk in hard
        )
        if label is not None:
            labels.append(label)
    return labels, [image for image in images if image.pk in hard]


def evaluation_metrics(
    *,
    image_ids: list[int],
    scores: NDArray[np.floating],
    maps: list[NDArray[np.float32]],
    truth: dict[int, tuple[int | None, NDArray[np.bool_] | None]],
    threshold: float | None,
) -> dict[str, Any]:
    """Image AUROC, F1-max (+ its threshold), pixel AUROC and AUPRO, and the figures at `threshold`,
    over the labeled images (pixel metrics: normal images and defective ones with a mask)."""
    labeled = [i for i, pk in enumerate(image_ids) if truth.get(pk, (None, None))[0] is not None]
    labels = np.array([truth[image_ids[i]][0] for i in labeled], dtype=bool)
    out: dict[str, Any] = {
        "n_images": len(image_ids),
        "n_labeled": len(labeled),
        "n_defective": int(labels.sum()),
    }
    if not labeled or labels.all() or not labels.any():
        out["note"] = "image metrics need labeled normal and defective test images"
        return out
    labeled_scores = np.asarray(scores)[labeled]
    best = metrics.f1_max(labeled_scores, labels)
    out.update(
        image_auroc=metrics.auroc(labeled_scores, labels),
        f1_max=best.f1,
        f1_max_threshold=best.threshold,
    )
    if threshold is not None:
        stats = metrics.threshold_stats(labeled_scores, labels, threshold)
        out["at_threshold"] = {
            "threshold": threshold,
            "precision": stats.precision,
            "recall": stats.recall,
            "fpr": stats.fpr,
            "fnr": stats.fnr,
            "f1": stats.f1,
        }
    pixel_maps, pixel_masks = [], []
    for i in labeled:
        label, mask = truth[image_ids[i]]
        if label == 0:
            pixel_maps.append(maps[i])
            pixel_masks.append(np.zeros(maps[i].shape, dtype=bool))
        elif mask is not None and mask.shape == maps[i].shape:
            pixel_maps.append(maps[i])
            pixel_masks.append(mask)
    if any(mask.any() for mask in pixel_masks):
        out["n_masks"] = sum(int(mask.any()) for mask in pixel_masks)
        out["pixel_auroc"] = metrics.auroc(
            np.concatenate([m.ravel() for m in pixel_maps]), np.concatenate([m.ravel() for m in pixel_masks])
        )
        out["aupro"] = metrics.aupro(pixel_maps, pixel_masks)
    return out


def _choose_threshold(
    *, image_ids: list[int], scores: NDArray[np.floating], truth: dict, fallback: NDArray[np.floating]
) -> tuple[float, str]:
    """F1-optimal with labeled defects in the test split, else a normal-score quantile."""
    labels = {pk: truth.get(pk, (None, None))[0] for pk in image_ids}
    labeled = [i for i, pk in enumerate(image_ids) if labels[pk] is not None]
    chosen = np.asarray(scores)[labeled]
    flags = np.array([labels[image_ids[i]] for i in labeled], dtype=bool)
    if flags.any() and not flags.all():
        return f1_optimal_threshold(chosen, flags), "f1_max"
    if labeled and not flags.any():
        return normal_quantile_threshold(chosen, TARGET_FPR), f"normal_quantile_fpr_{TARGET_FPR:g}"
    # No labeled normal test image: the training images' own scores, the best there is (optimistic).
    return normal_quantile_threshold(fallback, 0.0), "train_max"


# --- model files --------------------------------------------------------------------------------


def _artifact_save(*, detector: AnomalyDetector, prefix: str) -> None:
    """Write the model under `prefix`, replacing what an interrupted attempt left there."""
    artifact_delete(prefix=prefix)
    with tempfile.TemporaryDirectory() as folder:
        for path in detector.save(folder):
            with path.open("rb") as file:
                saved = default_storage.save(f"{prefix}/{path.name}", file)
            if saved != f"{prefix}/{path.name}":
                raise JobError(f"storage renamed {prefix}/{path.name} to {saved}; remove the stray file")


def model_load(version: ModelVersion) -> AnomalyDetector:
    with tempfile.TemporaryDirectory() as folder:
        for name in ARTIFACT_FILES:
            with default_storage.open(f"{version.artifact_prefix}/{name}", "rb") as source:
                Path(folder, name).write_bytes(source.read())
        return load_algorithm(folder, device=settings.LOUPE_ML_DEVICE)


# --- predictions --------------------------------------------------------------------------------


def _regions(anomaly_map: NDArray[np.float32], threshold: float) -> list[dict[str, float | int]]:
    labels, count = defect_regions(anomaly_map, threshold, MIN_REGION_AREA)
    regions = []
    for index, box in enumerate(ndimage.find_objects(labels), start=1):
        if box is None:
            continue
        inside = labels[box] == index
        regions.append(
            {
                "x": box[1].start,
                "y": box[0].start,
                "width": box[1].stop - box[1].start,
                "height": box[0].stop - box[0].start,
                "area": int(inside.sum()),
                "peak": float(anomaly_map[box][inside].max()),
            }
        )
    return regions


def _predictions_write(
    *,
    version: ModelVersion,
    images: list[Image],
    scores: NDArray[np.floating],
    maps: list[NDArray[np.float32]],
    nearest: NDArray[np.int64] | None,
    train_ids: list[int],
) -> None:
    """Heatmap files first (fixed keys, replaced), then one upsert per (version, image): running this
    twice leaves one prediction per image."""
    normalizer = ScoreNormalizer(**version.normalizer)
    low, high = version.heatmap_low, version.heatmap_high
    rows = []
    for i, image in enumerate(images):
        key = heatmap_key(version=version, image_id=image.pk)
        if default_storage.exists(key):
            default_storage.delete(key)
        stored = default_storage.save(key, ContentFile(heatmap_png(maps[i], low, high)))
        near = int(nearest[i]) if nearest is not None and 0 <= nearest[i] < len(train_ids) else None
        rows.append(
            Prediction(
                model_version=version,
                image=image,
                score=float(scores[i]),
                normalized_score=float(normalizer(scores[i])),
                is_defective=bool(scores[i] >= version.threshold),
                heatmap=stored,
                heatmap_low=low,
                heatmap_high=high,
                regions=_regions(maps[i], version.pixel_threshold),
                descriptor=[round(float(v), 4) for v in map_descriptor(maps[i], low, high)],
                nearest_normal_id=train_ids[near] if near is not None else None,
            )
        )
    Prediction.objects.bulk_create(
        rows,
        update_conflicts=True,
        unique_fields=["model_version", "image"],
        update_fields=[
            "score",
            "normalized_score",
            "is_defective",
            "heatmap",
            "heatmap_low",
            "heatmap_high",
            "regions",
            "nearest_normal",
            "descriptor",
        ],
    )


def _peak_memory_bytes(detector: AnomalyDetector) -> int:
    import torch

    if detector.device.type == "cuda":
        return int(torch.cuda.max_memory_allocated(detector.device))
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB


# --- the three kinds of work --------------------------------------------------------------------


def train_execute(context: JobContext) -> None:
    """Fit on the version's training snapshot, threshold and evaluate on its test snapshot, save."""
    version = ModelVersion.objects.select_related("collection").get(pk=context.job.model_version_id)
    train_ids = [pk for pk, _ in version.train_snapshot]
    train_images = _images_in_order(train_ids)
    train_ids = [image.pk for image in train_images]
    if not train_images:
        raise JobError("every training image of this version has been deleted; start a new training")
    params = {k: v for k, v in version.parameters.items() if k != "backbone"}
    params["backbone"] = version.backbone
    detector = get_algorithm(version.algorithm, device=settings.LOUPE_ML_DEVICE, **params)
    labeled, hard_normals = _labeled_images(version.labeled_snapshot)
    fit_progress = _callback(context, 0.02, 0.58, "fit")
    if isinstance(detector, SemiSupervisedPatchCore):
        context.progress(
            0.02, f"fitting {version.algorithm} on {len(train_images)} images and {len(labeled)} labeled"
        )
        report = detector.fit(StoredImages(train_images), labeled=labeled, progress=fit_progress)
    else:
        # Without a head, a false alarm a reviewer rejected is one more normal image to learn.
        train_images += [image for image in hard_normals if image.pk not in set(train_ids)]
        context.progress(0.02, f"fitting {version.algorithm} on {len(train_images)} images")
        report = detector.fit(StoredImages(train_images), progress=fit_progress)
    train_ids = [image.pk for image in train_images]

    test_ids = [pk for pk, _ in version.test_snapshot]
    test_images = _images_in_order(test_ids)
    test_ids = [image.pk for image in test_images]
    truth = _truth_at(version.test_snapshot)
    if test_images:
        predicted = detector.predict(StoredImages(test_images), progress=_callback(context, 0.6, 0.3, "test"))
        scores, maps, nearest = predicted.scores, predicted.anomaly_maps, predicted.nearest_normal
    else:
        scores, maps, nearest = np.zeros(0, np.float32), [], None
    fallback = scores
    if not any(truth.get(pk, (None,))[0] == 0 for pk in test_ids):
        sample = train_images[: min(len(train_images), 32)]
        fallback = detector.predict(
            StoredImages(sample), progress=_callback(context, 0.9, 0.03, "self")
        ).scores
    threshold, method = _choose_threshold(image_ids=test_ids, scores=scores, truth=truth, fallback=fallback)
    all_scores = np.concatenate([np.asarray(scores, np.float64), np.asarray(fallback, np.float64)])
    pixels = np.concatenate([m.ravel()[:: max(1, m.size // 4096)] for m in maps]) if maps else all_scores
    low = float(min(np.percentile(pixels, 1), threshold))
    high = float(max(np.percentile(pixels, 99.9), threshold + (threshold - low), all_scores.max()))

    context.progress(0.93, "saving the model")
    _artifact_save(detector=detector, prefix=version.artifact_prefix)
    context.progress(0.94, f"computing metrics on {len(test_images)} test images")
    version.metrics = evaluation_metrics(
        image_ids=test_ids, scores=scores, maps=maps, truth=truth, threshold=threshold
    )
    version.metrics["fit"] = {"n_images": report.n_images, "n_patches": report.n_patches, **report.details}
    version.threshold, version.threshold_method, version.pixel_threshold = threshold, method, threshold
    version.normalizer = ScoreNormalizer.fit(all_scores, threshold).to_dict()
    version.heatmap_low, version.heatmap_high = low, high
    version.fit_seconds = report.seconds
    version.peak_memory_bytes = _peak_memory_bytes(detector)  # CPU: the worker process's peak RSS
    version.device = str(detector.device)
    version.status = ModelVersionStatus.READY
    context.progress(0.95, f"writing {len(test_images)} test predictions")
    with transaction.atomic():
        context.hold_check()
        version.save()
        _predictions_write(
            version=version,
            images=test_images,
            scores=scores,
            maps=maps,
            nearest=nearest,
            train_ids=train_ids,
        )
        context.complete(
            {"model_version": version.pk, "metrics": version.metrics, "threshold": threshold},
            message=f"trained model {version.pk}",
        )
        parent = version.parent
        if parent is not None and parent.status == ModelVersionStatus.READY and version.test_snapshot:
            # The parent on the very images its child was tested on: the comparison before a promotion.
            job_create(
                kind=JobKind.EVALUATE,
                collection=version.collection,
                model_version=parent,
                parameters={"test_snapshot": version.test_snapshot, "compare_with": version.pk},
                created_by=context.job.created_by,
            )
        if context.job.parameters.get("score_after", True):
            job_create(
                kind=JobKind.SCORE,
                collection=version.collection,
                model_version=version,
                created_by=context.job.created_by,
            )


def score_execute(context: JobContext) -> None:
    """Score every image of the collection (or those the job names) that has no prediction yet from
    this version, in batches, each committed with its predictions: an interrupted job resumes."""
    version = ModelVersion.objects.get(pk=context.job.model_version_id)
    if version.status != ModelVersionStatus.READY:
        raise JobError(f"model {version.pk} is {version.status}, not ready; only a trained model can score")
    images = Image.objects.filter(collection_id=version.collection_id).order_by("id")
    if context.job.parameters.get("image_ids"):
        images = images.filter(pk__in=context.job.parameters["image_ids"])
    todo = list(images.exclude(predictions__model_version=version))
    total = len(todo)
    context.progress(0.01, "loading the model")
    detector = model_load(version) if todo else None
    train_ids = [pk for pk, _ in version.train_snapshot]
    for start in range(0, total, SCORE_BATCH):
        batch = todo[start : start + SCORE_BATCH]
        predicted = detector.predict(
            StoredImages(batch),
            progress=_callback(context, 0.02 + 0.98 * start / total, 0.98 * len(batch) / total, "score"),
        )
        with transaction.atomic():
            context.hold_check()
            _predictions_write(
                version=version,
                images=batch,
                scores=predicted.scores,
                maps=predicted.anomaly_maps,
                nearest=predicted.nearest_normal,
                train_ids=train_ids,
            )
        context.progress(0.02 + 0.98 * (start + len(batch)) / total, f"scored {start + len(batch)}/{total}")
    with transaction.atomic():
        review_ranks_update(version=version)
        count = Prediction.objects.filter(model_version=version).count()
        context.complete({"scored": total, "predictions": count}, message=f"scored {total} images")


def evaluate_execute(context: JobContext) -> None:
    """Metrics of a version on a frozen test snapshot (the one in the job, else the current test split)."""
    version = ModelVersion.objects.select_related("collection").get(pk=context.job.model_version_id)
    if version.status != ModelVersionStatus.READY:
        raise JobError(
            f"model {version.pk} is {version.status}, not ready; only a trained model can be evaluated"
        )
    rows = context.job.parameters.get("test_snapshot") or snapshot(
        test_image_list(collection=version.collection)
    )
    images = _images_in_order([pk for pk, _ in rows])
    if not images:
        raise JobError("the test split is empty: move labeled images into it to evaluate")
    context.progress(0.02, "loading the model")
    detector = model_load(version)
    predicted = detector.predict(StoredImages(images), progress=_callback(context, 0.05, 0.9, "evaluate"))
    result = evaluation_metrics(
        image_ids=[image.pk for image in images],
        scores=predicted.scores,
        maps=predicted.anomaly_maps,
        truth=_truth_at(rows),
        threshold=version.threshold,
    )
    result["model_version"] = version.pk
    child_id = context.job.parameters.get("compare_with")
    with transaction.atomic():
        context.hold_check()
        child = ModelVersion.objects.select_for_update().filter(pk=child_id).first() if child_id else None
        if child is not None:
            child.metrics = {**child.metrics, "parent": result}
            child.save(update_fields=["metrics"])
        result["test_snapshot"] = rows
        context.complete(result, message=f"evaluated model {version.pk} on {len(images)} images")
