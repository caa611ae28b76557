"""Reads of the pages: what a page shows, scoped by membership through the apps' selectors."""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Q, QuerySet

from annotations.counts import Counts, counts_kept
from annotations.models import Annotation, Collection, Image, Region, RegionKind, Role, Split, Verdict
from annotations.selectors import (
    User,
    collection_list,
    image_list,
    image_neighbours,
    membership_list,
    project_list,
)
from frontend.forms import ImageFilterForm
from inference.models import ModelVersion, Review
from inference.selectors import (
    active_model_version,
    image_cursor,
    prediction_list,
    review_list,
    scored_image_list,
)


def grid_images(
    *, user: User, collection: Collection, form: ImageFilterForm, version: ModelVersion | None
) -> QuerySet[Image]:
    """The collection's images as the grid's filters and order pick them, scored by `version`."""
    return scored_image_list(
        user=user,
        collection_id=collection.pk,
        model_version_id=version.pk if version else None,
        order=form.ordering(),
        **form.filters(),
    )


def grid_neighbours(*, user: User, image: Image, form: ImageFilterForm) -> tuple[int | None, int | None]:
    """The images before and after this one in the grid, with the grid's filters and order."""
    version = active_model_version(collection_id=image.collection_id)
    order = form.ordering()
    cursor = image_cursor(image_id=image.pk, order=order, model_version_id=version.pk if version else None)
    images = grid_images(user=user, collection=image.collection, form=form, version=version)
    return image_neighbours(images, order=order, cursor=cursor)


@dataclass
class GridMarks:
    """What the tiles of one grid page show beside their images, per image id.

    Attributes:
        region_counts: how many regions each image has.
        region_types: each image's defect type ids, in the order first met.
        predictions: the version's `normalized_score` and `is_defective`.
        reviews: the image's last review (any version's).
    """

    region_counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    region_types: dict[int, dict[int, None]] = field(default_factory=lambda: defaultdict(dict))
    predictions: dict[int, dict[str, Any]] = field(default_factory=dict)
    reviews: dict[int, Review] = field(default_factory=dict)


def grid_marks(
    *, user: User, collection: Collection, images: list[Image], version: ModelVersion | None
) -> GridMarks:
    """Regions, the version's predictions and the last reviews of one page of images (three queries,
    whatever the page size)."""
    ids = [image.pk for image in images]
    marks = GridMarks()
    for image_id, defect_type_id in Region.objects.filter(annotation__image_id__in=ids).values_list(
        "annotation__image_id", "defect_type_id"
    ):
        marks.region_counts[image_id] += 1
        if defect_type_id is not None:
            marks.region_types[image_id][defect_type_id] = None
    if version is not None:
        marks.predictions = {
            row["image_id"]: row
            for row in prediction_list(user=user, model_version_id=version.pk)
            .filter(image_id__in=ids)
            .values("image_id", "normalized_score", "is_defective")
        }
    # Newest first, so the first review of an image is its last decision.
    for review in review_list(user=user, collection_id=collection.pk).filter(prediction__image_id__in=ids):
        marks.reviews.setdefault(review.prediction.image_id, review)
    return marks


def collection_summary(*, user: User, collection: Collection) -> Counts:
    """The collection's image count, per split (`split_<value>`) and per verdict (`verdict_<value>`);
    a large collection's as counted a moment ago (`annotations.counts`)."""
    return counts_kept(
        "summary",
        lambda: image_list(user=user, collection_id=collection.pk).aggregate(
            total=Count("id"),
            **{f"split_{value}": Count("id", filter=Q(split=value)) for value in Split.values},
            **{
                f"verdict_{value}": Count("id", filter=Q(annotation__verdict=value))
                for value in Verdict.values
            },
        ),
        collection_id=collection.pk,
    )


def grid_matching(*, collection: Collection, images: QuerySet[Image], query: str) -> Counts:
    """How many images the grid's filters (`query`) let through; in a large collection, as counted a
    moment ago (however few they are: the count looks through all of them)."""
    return counts_kept(f"matching:{query}", lambda: {"total": images.count()}, collection_id=collection.pk)


def project_rows(*, user: User) -> list[dict[str, Any]]:
    """The user's projects by name, each with the user's role, its collections and their image counts."""
    roles = dict(membership_list(user=user).filter(user_id=user.pk).values_list("project_id", "role"))
    collections: dict[int, list[Collection]] = defaultdict(list)
    open_collections = collection_list(user=user, archived=False)
    for collection in open_collections.annotate(image_count=Count("images")).order_by("name"):
        collections[collection.project_id].append(collection)
    return [
        {
            "project": project,
            "role": Role(roles[project.pk]).label if project.pk in roles else "",
            "collections": collections[project.pk],
            "image_count": sum(c.image_count for c in collections[project.pk]),
        }
        for project in project_list(user=user).order_by("name")
    ]


def project_collections(
    *, user: User, project_id: int, archived: bool | None = False
) -> QuerySet[Collection]:
    """A project's collections by name (the open ones unless `archived` says otherwise, as
    `collection_list`), with their image counts per split and label, and defect types."""
    labeled = [Verdict.NORMAL, Verdict.DEFECTIVE, Verdict.UNSURE]
    return (
        collection_list(user=user, project_id=project_id, archived=archived)
        .annotate(
            image_count=Count("images"),
            train_count=Count("images", filter=Q(images__split=Split.TRAIN)),
            test_count=Count("images", filter=Q(images__split=Split.TEST)),
            labeled_count=Count("images", filter=Q(images__annotation__verdict__in=labeled)),
            defective_count=Count("images", filter=Q(images__annotation__verdict=Verdict.DEFECTIVE)),
        )
        .prefetch_related("defect_types")
        .order_by("name")
    )


def image_labels_now(*, image: Image) -> tuple[Annotation | None, list[Region]]:
    """The image's current annotation and its regions with their defect types (the caller has
    checked membership)."""
    annotation = Annotation.objects.filter(image=image).first()
    return annotation, list(annotation.regions.select_related("defect_type")) if annotation else []


def image_label_version(*, image: Image) -> int:
    """The version of the image's labels (0: never labeled)."""
    return Annotation.objects.filter(image=image).values_list("version", flat=True).first() or 0


def image_mask_regions(*, image: Image) -> QuerySet[Region]:
    """The image's mask regions with their defect types."""
    return Region.objects.filter(annotation__image=image, kind=RegionKind.MASK).select_related("defect_type")
