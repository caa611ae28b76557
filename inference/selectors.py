"""Reads, scoped by membership like `annotations.selectors`: another team's job, model or prediction
does not exist for you."""

from django.db.models import QuerySet

from annotations.selectors import User, project_list
from inference.models import Job, ModelVersion, ModelVersionStatus, Prediction


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
        "collection"
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
