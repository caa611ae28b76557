"""Reads, scoped by membership like `annotations.selectors`: another team's job, model or prediction
does not exist for you."""

from typing import Any

from django.db.models import QuerySet

from annotations.selectors import User, project_list
from inference.models import Job, ModelVersion, ModelVersionStatus, Prediction, Review, SnapshotRole
from inference.truth import UNLABELED, snapshot_labels


def job_list(
    *,
    user: User,
    collection_id: int | None = None,
    status: str | None = None,
    kind: str | None = None,
    model_version_id: int | None = None,
) -> QuerySet[Job]:
    jobs = Job.objects.filter(collection__project__in=project_list(user=user)).select_related("collection")
    if collection_id is not None:
        jobs = jobs.filter(collection_id=collection_id)
    if status:
        jobs = jobs.filter(status=status)
    if kind:
        jobs = jobs.filter(kind=kind)
    if model_version_id is not None:
        jobs = jobs.filter(model_version_id=model_version_id)
    return jobs


def model_version_list(
    *, user: User, collection_id: int | None = None, status: str | None = None
) -> QuerySet[ModelVersion]:
    versions = ModelVersion.objects.filter(collection__project__in=project_list(user=user)).select_related(
        "collection", "snapshot"
    )
    if collection_id is not None:
        versions = versions.filter(collection_id=collection_id)
    if status:
        versions = versions.filter(status=status)
    return versions


def prediction_list(
    *,
    user: User,
    model_version_id: int | None = None,
    image_id: int | None = None,
    is_defective: bool | None = None,
) -> QuerySet[Prediction]:
    predictions = Prediction.objects.filter(
        model_version__collection__project__in=project_list(user=user)
    ).select_related("model_version__collection", "image")
    if model_version_id is not None:
        predictions = predictions.filter(model_version_id=model_version_id)
    if image_id is not None:
        predictions = predictions.filter(image_id=image_id)
    if is_defective is not None:
        predictions = predictions.filter(is_defective=is_defective)
    return predictions


def collection_latest_jobs(*, collection_id: int, limit: int = 5) -> QuerySet[Job]:
    """The collection's latest jobs (the caller has checked membership)."""
    return Job.objects.filter(collection_id=collection_id).select_related("model_version")[:limit]


def active_model_version(*, collection_id: int) -> ModelVersion | None:
    """The version a collection's predictions are shown from: the most recently promoted ready one,
    else the newest ready one (the caller has checked membership)."""
    ready = ModelVersion.objects.filter(collection_id=collection_id, status=ModelVersionStatus.READY)
    promoted = ready.filter(promoted_at__isnull=False).order_by("-promoted_at").first()
    return promoted or ready.order_by("-id").first()


def model_version_test_scores(*, version: ModelVersion) -> list[dict[str, Any]]:
    """The version's predictions on its test snapshot, each labeled as the image was at that snapshot
    (the labels its stored metrics count): 1 defective, 0 normal, None otherwise (the caller has
    checked membership)."""
    labels = snapshot_labels(snapshot=version.snapshot, role=SnapshotRole.TEST) if version.snapshot_id else {}
    rows = (
        Prediction.objects.filter(model_version=version)
        .order_by("image_id")
        .values_list("image_id", "score", "normalized_score")
    )
    return [
        {
            "image": image_id,
            "score": score,
            "normalized_score": normalized,
            "label": None if labels[image_id] == UNLABELED else labels[image_id],
        }
        for image_id, score, normalized in rows
        # Kept in Python, not `image_id__in`: a snapshot can hold more ids than SQLite takes parameters.
        if image_id in labels
    ]


def review_list(
    *,
    user: User,
    collection_id: int | None = None,
    model_version_id: int | None = None,
    image_id: int | None = None,
) -> QuerySet[Review]:
    """Decisions on predictions, newest first, with who took them."""
    reviews = Review.objects.filter(
        prediction__model_version__collection__project__in=project_list(user=user)
    ).select_related("reviewer", "prediction__image", "prediction__model_version__collection")
    if collection_id is not None:
        reviews = reviews.filter(prediction__model_version__collection_id=collection_id)
    if model_version_id is not None:
        reviews = reviews.filter(prediction__model_version_id=model_version_id)
    if image_id is not None:
        reviews = reviews.filter(prediction__image_id=image_id)
    return reviews
