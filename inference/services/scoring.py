"""Scoring: one path from stored images to scores, maps, regions and decisions, used by the score job,
training's test predictions and evaluation (and later the inspection endpoint and the export's
parity check). Runs in Celery workers: it loads the learning core.
"""

import contextlib
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from PIL import Image as PILImage

from annotations.models import Image
from inference.ml.active import map_descriptor
from inference.ml.algorithms import AnomalyDetector, Predictions, load_algorithm
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.postprocess import extract_regions, region_masks
from inference.ml.thresholds import ScoreNormalizer
from inference.models import (
    DataSnapshot,
    Job,
    ModelVersion,
    ModelVersionStatus,
    Prediction,
    SnapshotImage,
    SnapshotRole,
)
from inference.services.heatmaps import heatmap_files_delete, heatmap_key, heatmap_png
from inference.services.job_shares import ShareContext, share_request
from inference.services.jobs import JobContext, JobError
from inference.services.reviews import review_ranks_update
from inference.services.score_chunks import (
    ChunkHold,
    ChunkLost,
    ChunksProgress,
    chunk_claim,
    chunk_exhausted_reason,
    chunk_finish,
    chunk_held,
    chunk_hold_check,
    chunk_scored,
    chunks_plan,
    chunks_progress,
)
from inference.services.versions import ARTIFACT_FILES
from inference.truth import ImageTruth, snapshot_truth

SCORE_BATCH = 16
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


def images_in_order(ids: Sequence[int]) -> list[Image]:
    """The images of `ids` that still exist, in that order."""
    by_id = Image.objects.in_bulk(list(ids))
    return [by_id[pk] for pk in ids if pk in by_id]


def snapshot_test_set(snapshot: DataSnapshot) -> tuple[list[Image], list[ImageTruth]]:
    """The snapshot's test images that still exist, in id order, and their truth at the snapshot."""
    truths = snapshot_truth(snapshot=snapshot, roles=[SnapshotRole.TEST])
    images = images_in_order([t.image_id for t in truths])
    present = {image.pk for image in images}
    return images, [t for t in truths if t.image_id in present]


class ModelFilesMissing(JobError):
    """A version's model files are not in storage (deleted by hand, or a storage that lost them): it
    cannot score until it is trained again."""

    def __init__(self, version: ModelVersion, name: str) -> None:
        super().__init__(f"the files of model {version.pk} are missing from storage ({name}): train it again")


def model_load(version: ModelVersion) -> AnomalyDetector:
    """The version's fitted model, read from storage.

    Raises:
        ModelFilesMissing: one of its files is not in storage.
    """
    with tempfile.TemporaryDirectory() as folder:
        for name in ARTIFACT_FILES:
            key = f"{version.artifact_prefix}/{name}"
            try:
                with default_storage.open(key, "rb") as source:
                    Path(folder, name).write_bytes(source.read())
            except FileNotFoundError:
                raise ModelFilesMissing(version, key) from None
        return load_algorithm(folder, device=settings.LOUPE_ML_DEVICE)


def fitted_image_ids(version: ModelVersion) -> list[int]:
    """The ids of the images the version was fitted on, in the order it saw them: what its
    predictions' nearest-normal indices count."""
    return list(
        SnapshotImage.objects.filter(snapshot_id=version.snapshot_id, fit_index__isnull=False)
        .order_by("fit_index")
        .values_list("image_id", flat=True)
    )


RegionTypes = list[list[tuple[str, float]]]
"""Per image, the known defect type of each flagged region and its probability."""


def flagged_region_types(
    *, detector: AnomalyDetector, images: list[Image], predicted: Predictions, threshold: float
) -> RegionTypes | None:
    """The type of each region the maps flag at `threshold` (in `extract_regions` order), read by the
    model's defect-type head from the images' features; None when the model learned no types."""
    if not isinstance(detector, FeatureDetector) or detector.defect_types is None:
        return None
    masks = [region_masks(anomaly_map, threshold, MIN_REGION_AREA) for anomaly_map in predicted.anomaly_maps]
    flagged = [i for i, regions in enumerate(masks) if regions]
    named: RegionTypes = [[] for _ in images]
    if flagged:
        found = detector.region_types(StoredImages([images[i] for i in flagged]), [masks[i] for i in flagged])
        for index, types in zip(flagged, found, strict=True):
            named[index] = types
    return named


def region_rows(anomaly_map: Any, threshold: float, types: list[tuple[str, float]] | None) -> list[dict]:
    """The map's flagged regions as predictions store them, each with its type where `types` names it."""
    regions = [region.to_dict() for region in extract_regions(anomaly_map, threshold, MIN_REGION_AREA)]
    if types is not None:
        for region, (name, probability) in zip(regions, types, strict=True):
            region.update(defect_type=name, type_probability=round(probability, 3))
    return regions


def predictions_write(
    *,
    version: ModelVersion,
    images: list[Image],
    predicted: Predictions,
    fitted_ids: list[int],
    region_types: RegionTypes | None = None,
    regions: list[list[dict]] | None = None,
) -> None:
    """Heatmap files first (fixed keys, replaced), then one upsert per (version, image): running this
    twice leaves one prediction per image. `region_types` (from :func:`flagged_region_types`) names
    the type of each flagged region; `regions`, each image's `region_rows` when the caller has them."""
    normalizer = ScoreNormalizer(**version.normalizer)
    low, high = version.heatmap_low, version.heatmap_high
    nearest = predicted.nearest_normal
    rows = []
    for i, image in enumerate(images):
        anomaly_map, score = predicted.anomaly_maps[i], float(predicted.scores[i])
        key = heatmap_key(version=version, image_id=image.pk)
        heatmap_files_delete(key)  # a score again: its overlay, drawn from the old map, goes too
        stored = default_storage.save(key, ContentFile(heatmap_png(anomaly_map, low, high)))
        near = int(nearest[i]) if nearest is not None and 0 <= nearest[i] < len(fitted_ids) else None
        rows.append(
            Prediction(
                model_version=version,
                image=image,
                score=score,
                normalized_score=float(normalizer(score)),
                is_defective=score >= version.threshold,
                heatmap=stored,
                heatmap_low=low,
                heatmap_high=high,
                regions=regions[i]
                if regions is not None
                else region_rows(
                    anomaly_map, version.pixel_threshold, region_types[i] if region_types else None
                ),
                descriptor=[round(float(v), 4) for v in map_descriptor(anomaly_map, low, high)],
                nearest_normal_id=fitted_ids[near] if near is not None else None,
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


def _unscored(version: ModelVersion, job: Job) -> QuerySet[Image]:
    """The images the scoring job scores that have no prediction from the version yet, by id."""
    images = Image.objects.filter(collection_id=version.collection_id)
    if job.parameters.get("image_ids"):
        images = images.filter(pk__in=job.parameters["image_ids"])
    scored = Prediction.objects.filter(model_version=version, image=OuterRef("pk"))
    return images.exclude(Exists(scored)).order_by("id")


@dataclass
class ChunkScorer:
    """What a worker needs to score chunks of one job: the version, its model (loaded at the first
    chunk, so a worker that finds nothing to take loads nothing) and its fitted images' ids."""

    job: Job
    version: ModelVersion
    detector: AnomalyDetector | None = None
    fitted_ids: list[int] = field(default_factory=list)

    def score(self, hold: ChunkHold, after_batch: Callable[[], None] = lambda: None) -> None:
        """Score the held chunk's images that have no prediction yet, a batch at a time, each batch
        committed with its predictions and the chunk's count while the chunk is still `hold`'s."""
        if self.detector is None:
            self.detector = model_load(self.version)
            self.fitted_ids = fitted_image_ids(self.version)
        chunk = hold.chunk
        todo = list(
            _unscored(self.version, self.job).filter(
                pk__gte=chunk.first_image_id, pk__lte=chunk.last_image_id
            )
        )
        for start in range(0, len(todo), SCORE_BATCH):
            batch = todo[start : start + SCORE_BATCH]
            hold.check()
            predicted = self.detector.predict(StoredImages(batch), progress=lambda *_: hold.check())
            types = flagged_region_types(
                detector=self.detector,
                images=batch,
                predicted=predicted,
                threshold=self.version.pixel_threshold,
            )
            with transaction.atomic():
                chunk_hold_check(chunk=chunk, owner=hold.owner)
                predictions_write(
                    version=self.version,
                    images=batch,
                    predicted=predicted,
                    fitted_ids=self.fitted_ids,
                    region_types=types,
                )
                chunk_scored(chunk=chunk, count=len(batch))
            after_batch()
        chunk_finish(chunk=chunk, owner=hold.owner)


def _ready_version(job: Job) -> ModelVersion:
    version = ModelVersion.objects.get(pk=job.model_version_id)
    if version.status != ModelVersionStatus.READY:
        raise JobError(f"model {version.pk} is {version.status}, not ready; only a trained model can score")
    return version


def _plan_unscored(context: JobContext, version: ModelVersion) -> ChunksProgress:
    """Once every chunk the job has is done (none yet, at its start), cut the images still unscored
    into new ones: a requeued job goes on with its plan, and images left unscored are planned again."""
    with transaction.atomic():
        context.hold_check()
        if chunks_progress(job=context.job).finished:
            ids = _unscored(version, context.job).values_list("pk", flat=True).iterator(chunk_size=5000)
            chunks_plan(job=context.job, image_ids=ids, size=settings.LOUPE_SCORE_CHUNK_IMAGES)
    return chunks_progress(job=context.job)


def _chunks_take_all(context: JobContext, scorer: ChunkScorer) -> None:
    """Take the job's chunks one at a time until every one is done: the others' too, once their
    worker's lease runs out; waiting while they are held."""
    job = context.job

    def report() -> None:
        now = chunks_progress(job=job)
        context.progress(0.02 + 0.98 * now.fraction, f"scored {now.scored}/{now.images}")

    while True:
        chunk = chunk_claim(job=job, owner=context.owner)
        if chunk is not None:
            with contextlib.suppress(ChunkLost), chunk_held(chunk=chunk, owner=context.owner) as hold:
                scorer.score(hold, after_batch=report)
            continue
        now = chunks_progress(job=job)
        if now.exhausted is not None:
            raise JobError(chunk_exhausted_reason(now.exhausted))
        if now.finished:
            return
        context.progress(
            0.02 + 0.98 * now.fraction, f"scored {now.scored}/{now.images}; others score the rest"
        )
        time.sleep(min(1.0, settings.LOUPE_JOB_LEASE_SECONDS / 6))


def score_execute(context: JobContext) -> None:
    """Score every image of the collection (or those the job names) that has no prediction yet from
    this version. The images are cut into chunks (`score_chunks`) that this worker and the helpers it
    asks for take one at a time; it waits for the others' chunks, takes over any whose worker vanished,
    and completes the job when every chunk is done. An interrupted job resumes where it stopped."""
    job = context.job
    version = _ready_version(job)
    scorer = ChunkScorer(job=job, version=version)
    while not (plan := _plan_unscored(context, version)).finished:
        share_request(job=job, count=min(settings.LOUPE_SCORE_HELPERS, plan.chunks - plan.done - 1))
        left = f"{plan.images - plan.scored} images in {plan.chunks - plan.done} chunks"
        context.progress(0.02 + 0.98 * plan.fraction, f"scoring {left}")
        _chunks_take_all(context, scorer)
    with transaction.atomic():
        review_ranks_update(version=version)
        count = Prediction.objects.filter(model_version=version).count()
        context.complete(
            {"scored": plan.scored, "predictions": count, "chunks": plan.chunks, "workers": plan.workers},
            message=f"scored {plan.scored} images",
        )


def score_share(context: ShareContext) -> None:
    """A helper's part of a scoring job: take its chunks one at a time while any is left."""
    scorer = ChunkScorer(job=context.job, version=_ready_version(context.job))
    while context.running():
        chunk = chunk_claim(job=context.job, owner=context.owner)
        if chunk is None:
            return
        with contextlib.suppress(ChunkLost), chunk_held(chunk=chunk, owner=context.owner) as hold:
            scorer.score(hold)
