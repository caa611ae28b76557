"""Reads, scoped by membership like `annotations.selectors`: another team's job, model or prediction
does not exist for you."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Exists, F, OuterRef, QuerySet

from annotations.models import Image
from annotations.selectors import Cursor, User, image_list, keyset_order, project_list
from inference.models import (
    Disagreement,
    Job,
    JobStatus,
    ModelExport,
    ModelVersion,
    ModelVersionStatus,
    Prediction,
    Review,
    SnapshotImage,
    SnapshotRole,
)
from inference.truth import UNLABELED, snapshot_labels

# How the gallery can be ordered (see `annotations.selectors.keyset_order`): upload order, or by the
# normalized score of a model version, lowest or highest first.
IMAGE_ORDERS = ("id", "score", "-score")


def scored_image_list(
    *,
    user: User,
    collection_id: int | None = None,
    split: str | None = None,
    verdict: str | None = None,
    defect_type_id: int | None = None,
    model_version_id: int | None = None,
    score_min: float | None = None,
    score_max: float | None = None,
    reviewed: bool | None = None,
    order: str = "id",
) -> QuerySet[Image]:
    """`annotations.selectors.image_list`, also filtered by a model's scores and by reviews, and
    ordered by one of `IMAGE_ORDERS`.

    The score filters and orders use the normalized scores of the model version `model_version_id`
    and leave out the images it has not scored (all of them when no version is given); in a score
    order each image carries its `score`. `reviewed`: whether someone reviewed a prediction of the
    image, of any version (a review is a label; it outlives its model).
    """
    images = image_list(
        user=user, collection_id=collection_id, split=split, verdict=verdict, defect_type_id=defect_type_id
    )
    if reviewed is not None:
        review = Exists(Review.objects.filter(prediction__image_id=OuterRef("pk")))
        images = images.filter(review if reviewed else ~review)
    bounds: dict[str, float] = {}
    if score_min is not None:
        bounds["normalized_score__gte"] = score_min
    if score_max is not None:
        bounds["normalized_score__lte"] = score_max
    if bounds or order != "id":
        if model_version_id is None:
            return images.none()
        if order == "id":
            # A lookup per image: a page in id order stops early, whatever share of the images match.
            scored = Prediction.objects.filter(model_version_id=model_version_id, image_id=OuterRef("pk"))
            images = images.filter(Exists(scored.filter(**bounds)))
        else:
            # One join, in one filter() call so that the bounds and `score` share it: the predictions'
            # index on (model version, normalized score) hands the images over in score order.
            images = images.filter(
                predictions__model_version_id=model_version_id,
                **{f"predictions__{name}": value for name, value in bounds.items()},
            ).annotate(score=F("predictions__normalized_score"))
    return images.order_by(*keyset_order(order))


def image_cursor(*, image_id: int | None, order: str, model_version_id: int | None) -> Cursor | None:
    """The cursor at an image in one of `IMAGE_ORDERS`, read afresh (so it holds after the image's
    labels change); None when there is no image id or, in a score order, the image has no score."""
    if image_id is None:
        return None
    if order == "id":
        return Cursor(image_id)
    score = (
        Prediction.objects.filter(model_version_id=model_version_id, image_id=image_id)
        .values_list("normalized_score", flat=True)
        .first()
    )
    return None if score is None else Cursor(image_id, score)


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


def export_list(*, user: User, model_version_id: int | None = None) -> QuerySet[ModelExport]:
    """Exports of the models of the user's projects, newest first."""
    exports = ModelExport.objects.filter(
        model_version__collection__project__in=project_list(user=user)
    ).select_related("model_version__collection", "job")
    if model_version_id is not None:
        exports = exports.filter(model_version_id=model_version_id)
    return exports


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


def collection_job_counts(*, collection_id: int) -> dict[str, int]:
    """How many of the collection's jobs are running and queued, all of them, not only the latest
    that a page lists (the caller has checked membership)."""
    rows = (
        Job.objects.filter(collection_id=collection_id, status__in=[JobStatus.RUNNING, JobStatus.QUEUED])
        .values_list("status")
        .annotate(count=Count("id"))
        .order_by()
    )
    by_status = dict(rows)
    running, queued = by_status.get(JobStatus.RUNNING, 0), by_status.get(JobStatus.QUEUED, 0)
    return {"running": running, "queued": queued, "unfinished": running + queued}


def production_version(*, collection_id: int) -> ModelVersion | None:
    """The collection's production model: its most recently promoted ready version. A version is in
    production only when someone (or the collection's "promote a better child" setting) promoted it."""
    return (
        ModelVersion.objects.filter(
            collection_id=collection_id, status=ModelVersionStatus.READY, promoted_at__isnull=False
        )
        .order_by("-promoted_at")
        .first()
    )


def active_model_version(*, collection_id: int) -> ModelVersion | None:
    """The version a collection's predictions are shown from: the production one, else (before any
    promotion, and marked so on the pages) the newest ready one (the caller has checked membership)."""
    return (
        production_version(collection_id=collection_id)
        or ModelVersion.objects.filter(collection_id=collection_id, status=ModelVersionStatus.READY)
        .order_by("-id")
        .first()
    )


TEST_SCORES_BATCH = 20_000  # rows read at once by `model_version_test_scores`


@dataclass(frozen=True)
class TestScoresPage:
    """Some of a version's test scores, in image id order; `last` is the id to go on after, None at
    the end."""

    rows: list[dict[str, Any]]
    last: int | None


def model_version_test_scores_page(*, version: ModelVersion, after: int = 0, limit: int) -> TestScoresPage:
    """The version's predictions on its test snapshot with image ids above `after`, at most `limit`,
    each labeled as the image was at that snapshot (the labels its stored metrics count): 1 defective,
    0 normal, None otherwise (the caller has checked membership). A keyset page, so each costs the same
    whatever the test split's size."""
    in_test = SnapshotImage.objects.filter(
        snapshot_id=version.snapshot_id, role=SnapshotRole.TEST, image_id=OuterRef("image_id")
    )
    found = list(
        Prediction.objects.filter(Exists(in_test), model_version=version, image_id__gt=after)
        .order_by("image_id")
        .values_list("image_id", "score", "normalized_score")[: limit + 1]
    )
    rows = found[:limit]
    if not rows:
        return TestScoresPage(rows=[], last=None)
    labels = snapshot_labels(
        snapshot=version.snapshot, role=SnapshotRole.TEST, image_range=(rows[0][0], rows[-1][0])
    )
    return TestScoresPage(
        rows=[
            {
                "image": image_id,
                "score": score,
                "normalized_score": normalized,
                "label": None if labels[image_id] == UNLABELED else labels[image_id],
            }
            for image_id, score, normalized in rows
        ],
        last=rows[-1][0] if len(found) > limit else None,
    )


def model_version_test_scores(*, version: ModelVersion) -> list[dict[str, Any]]:
    """Every row of `model_version_test_scores_page`, page after page."""
    rows: list[dict[str, Any]] = []
    after: int | None = 0
    while after is not None:
        page = model_version_test_scores_page(version=version, after=after, limit=TEST_SCORES_BATCH)
        rows.extend(page.rows)
        after = page.last
    return rows


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


def disagreement_list(
    *, user: User, collection_id: int | None = None, image_id: int | None = None, open_only: bool = False
) -> QuerySet[Disagreement]:
    """Reviews that contradicted a human label, newest first, with who reviewed and who resolved."""
    rows = Disagreement.objects.filter(image__collection__project__in=project_list(user=user)).select_related(
        "review__reviewer", "resolved_by", "image__collection"
    )
    if collection_id is not None:
        rows = rows.filter(image__collection_id=collection_id)
    if image_id is not None:
        rows = rows.filter(image_id=image_id)
    if open_only:
        rows = rows.filter(resolved_at__isnull=True)
    return rows
