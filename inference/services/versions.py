"""Model versions: starting training on a frozen data snapshot, and their files in storage.

Importing this module does not import the learning core (torch): the web process uses it.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotations.models import Collection
from annotations.services.projects import collection_writable_require
from annotations.services.storage import storage_tree_delete
from inference.ml.thresholds import ScoreNormalizer
from inference.models import (
    Job,
    JobKind,
    LearningSettings,
    ModelVersion,
    ModelVersionStatus,
    Prediction,
    SnapshotRole,
)
from inference.selectors import production_version
from inference.services.heatmaps import heatmap_files_delete
from inference.services.jobs import job_create
from inference.services.snapshots import snapshot_create

ARTIFACT_FILES = ("model.safetensors", "model.json")
# A better child: a higher image AUROC than its parent on the same test images, and none of these lower
# by more than PROMOTION_TOLERANCE (what a test split of a few dozen images cannot tell apart).
PROMOTION_GUARDS = ("f1_max", "aupro", "pixel_auroc")
PROMOTION_TOLERANCE = 0.01
DEFAULT_BACKBONE = "efficientnet_lite0"


class VersionNotReady(Exception):
    def __init__(self, version: ModelVersion, doing: str) -> None:
        super().__init__(f"model {version.pk} is {version.status}; only a ready model can be {doing}")


class NothingToTrainOn(Exception):
    def __init__(self, collection: Collection) -> None:
        super().__init__(
            f"collection {collection.name!r} has no training images: put defect-free images in the train "
            "split (labeled normal, or unlabeled) and try again"
        )


def artifact_prefix(*, collection_id: int, version_id: int) -> str:
    return f"models/{collection_id}/{version_id}"


def artifact_delete(*, prefix: str) -> None:
    for name in ARTIFACT_FILES:
        if default_storage.exists(f"{prefix}/{name}"):
            default_storage.delete(f"{prefix}/{name}")


def model_version_delete(*, version: ModelVersion) -> None:
    """Delete a version with its predictions and exports, and once committed every file it has: the
    model, its exports (inside its folder) and its predictions' heatmaps."""
    with transaction.atomic():
        heatmaps = [name for name in version.predictions.values_list("heatmap", flat=True) if name]
        prefix = version.artifact_prefix
        version.delete()

        def files_delete() -> None:
            if prefix:
                storage_tree_delete(prefix=prefix)
            for name in heatmaps:
                heatmap_files_delete(name)

        transaction.on_commit(files_delete)


@transaction.atomic
def training_start(
    *,
    collection: Collection,
    algorithm: str,
    parameters: dict[str, Any] | None = None,
    parent: ModelVersion | None = None,
    created_by: AbstractBaseUser | None = None,
    score_after: bool = True,
) -> Job:
    """A new model version (status training) and the train job that makes it.

    The training and test images are frozen now, so what is trained is what was asked for.

    Raises:
        CollectionArchived: the collection is read-only.
        NothingToTrainOn: the collection has no training images.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    snapshot = snapshot_create(collection=collection)
    if not snapshot.counts.get(SnapshotRole.TRAIN):
        raise NothingToTrainOn(collection)  # the transaction, snapshot included, rolls back
    parameters = dict(parameters or {})
    version = ModelVersion.objects.create(
        collection=collection,
        algorithm=algorithm,
        backbone=parameters.get("backbone", DEFAULT_BACKBONE),
        parameters=parameters,
        parent=parent,
        snapshot=snapshot,
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    version.artifact_prefix = artifact_prefix(collection_id=collection.pk, version_id=version.pk)
    version.save(update_fields=["artifact_prefix"])
    return job_create(
        kind=JobKind.TRAIN,
        collection=collection,
        model_version=version,
        parameters={"score_after": score_after},
        created_by=created_by,
    )


def model_version_abandon(*, version_id: int) -> None:
    """A version whose training will not finish: marked failed, its files removed."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or version.status == ModelVersionStatus.READY:
        return
    ModelVersion.objects.filter(pk=version_id).update(status=ModelVersionStatus.FAILED)
    if version.artifact_prefix:
        transaction.on_commit(lambda: artifact_delete(prefix=version.artifact_prefix))


def model_version_threshold_range(*, version: ModelVersion) -> tuple[float, float]:
    """The thresholds a version may be given (raw units): its score range at training, widened by
    its own width on each side. Fixed at training, so no series of thresholds grows the normalizer
    without bound (each one outside the range widens it)."""
    low, high = version.heatmap_low, version.heatmap_high
    if low is None or high is None:
        low, high = version.normalizer["low"], version.normalizer["high"]
    span = max(high - low, 1e-6)
    return low - span, high + span


@transaction.atomic
def model_version_threshold_set(
    *, version: ModelVersion, threshold: float, by: AbstractBaseUser | None
) -> ModelVersion:
    """Move a ready version's image threshold (raw units) and re-decide all its predictions with it.

    The normalizer keeps its range (widened if the threshold falls outside it), so 0.5 stays the
    threshold of every normalized score.

    Raises:
        CollectionArchived: the collection is read-only.
        VersionNotReady: the version is training or failed.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=version.collection_id))
    # Locked, so two managers saving at once leave one threshold and predictions that agree with it.
    version = ModelVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ModelVersionStatus.READY:
        raise VersionNotReady(version, "given a threshold")
    normalizer = ScoreNormalizer.fit([version.normalizer["low"], version.normalizer["high"]], threshold)
    predictions = list(Prediction.objects.filter(model_version=version).only("id", "score"))
    normalized = normalizer([p.score for p in predictions])
    for prediction, value in zip(predictions, normalized, strict=True):
        prediction.normalized_score = float(value)
        prediction.is_defective = prediction.score >= threshold
    Prediction.objects.bulk_update(predictions, ["normalized_score", "is_defective"], batch_size=500)
    version.threshold = threshold
    version.threshold_method = "manual"
    version.normalizer = normalizer.to_dict()
    version.threshold_set_at = timezone.now()
    version.threshold_set_by = by if by is not None and by.is_authenticated else None
    version.save(
        update_fields=["threshold", "threshold_method", "normalizer", "threshold_set_at", "threshold_set_by"]
    )
    return version


def model_version_promote(*, version: ModelVersion, by: AbstractBaseUser | None) -> ModelVersion:
    """Make a ready version the collection's production model (the most recently promoted one is).

    Raises:
        CollectionArchived: the collection is read-only.
        VersionNotReady: the version is training or failed.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=version.collection_id))
    if version.status != ModelVersionStatus.READY:
        raise VersionNotReady(version, "promoted")
    version.promoted_at = timezone.now()
    version.promoted_by = by if by is not None and by.is_authenticated else None
    version.save(update_fields=["promoted_at", "promoted_by"])
    return version


def child_beats_parent(*, child: dict[str, Any], parent: dict[str, Any]) -> bool:
    """Whether a child version's metrics beat its parent's, both measured on the child's test images:
    a higher image AUROC, and no guard metric (`PROMOTION_GUARDS`) both report lower by more than
    `PROMOTION_TOLERANCE`. Without an image AUROC on both sides there is nothing to go by: False."""
    if not isinstance(child.get("image_auroc"), float | int) or not isinstance(
        parent.get("image_auroc"), float | int
    ):
        return False
    if child["image_auroc"] <= parent["image_auroc"]:
        return False
    return all(
        child[key] >= parent[key] - PROMOTION_TOLERANCE
        for key in PROMOTION_GUARDS
        if isinstance(child.get(key), float | int) and isinstance(parent.get(key), float | int)
    )


def model_version_promote_if_better(*, child: ModelVersion) -> bool:
    """Promote `child` when its collection asks for better children to be promoted automatically, its
    parent is the version in production, and it beats that parent on its test images (the parent's
    figures there are `child.metrics["parent"]`). Returns whether it was promoted."""
    wanted = LearningSettings.objects.filter(
        collection_id=child.collection_id, promote_better_child=True, collection__archived_at__isnull=True
    ).exists()
    production = production_version(collection_id=child.collection_id)
    if not wanted or production is None or child.parent_id != production.pk:
        return False
    if not child_beats_parent(child=child.metrics, parent=child.metrics.get("parent") or {}):
        return False
    model_version_promote(version=child, by=None)
    return True
