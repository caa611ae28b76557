"""Reads, always scoped by membership: what a user is not a member of does not exist for them."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from annotations.models import (
    ROLE_RANK,
    AnnotationRevision,
    Collection,
    DefectType,
    Image,
    Membership,
    Project,
    Role,
)
from inference.models import Prediction, Review

User = AbstractBaseUser | AnonymousUser


def project_list(*, user: User) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user_id=user.pk)


def membership_list(*, user: User, project_id: int | None = None) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(project__in=project_list(user=user)).select_related(
        "user", "project"
    )
    return memberships if project_id is None else memberships.filter(project_id=project_id)


def collection_list(*, user: User, project_id: int | None = None) -> QuerySet[Collection]:
    collections = Collection.objects.filter(project__in=project_list(user=user)).select_related("project")
    return collections if project_id is None else collections.filter(project_id=project_id)


def defect_type_list(*, user: User, collection_id: int | None = None) -> QuerySet[DefectType]:
    defect_types = DefectType.objects.filter(collection__project__in=project_list(user=user))
    return defect_types if collection_id is None else defect_types.filter(collection_id=collection_id)


# How the grid can be ordered: the keys of its keyset pages, the id last so that every key is unique.
IMAGE_ORDERS = {"id": ("pk",), "score": ("score", "pk"), "-score": ("-score", "-pk")}


def image_list(
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
    """Images, filtered and ordered (see `IMAGE_ORDERS`).

    The score filters and orders use the normalized scores of the model version `model_version_id`
    and leave out the images it has not scored; in a score order each image carries its `score`.
    `reviewed`: whether someone reviewed a prediction of the image, of any version (a review is a
    label; it outlives its model).
    """
    images = Image.objects.filter(collection__project__in=project_list(user=user)).select_related(
        "annotation", "collection"
    )
    if collection_id is not None:
        images = images.filter(collection_id=collection_id)
    if split:
        images = images.filter(split=split)
    if verdict:
        images = images.filter(annotation__verdict=verdict)
    if defect_type_id is not None:
        images = images.filter(annotation__regions__defect_type_id=defect_type_id).distinct()
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
    return images.order_by(*IMAGE_ORDERS[order])


@dataclass(frozen=True)
class Cursor:
    """Where a page starts or ends: an image's id and, in a score order, its score."""

    pk: int
    score: float | None = None


def image_cursor(*, image_id: int | None, order: str, model_version_id: int | None) -> Cursor | None:
    """The cursor at an image, read afresh (so it holds after the image's labels change); None when
    there is no image id or, in a score order, the image has no score."""
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


def _cursor(image: Image, order: str) -> Cursor:
    return Cursor(image.pk, None if order == "id" else image.score)


def _beyond(order: str, cursor: Cursor, *, backwards: bool = False) -> Q:
    """The images after the cursor in the order (before it, `backwards`), as a keyset condition,
    written `key >= k AND (key > k OR id > i)` so that an index on the key can serve it."""
    after = "lt" if order.startswith("-") != backwards else "gt"
    if order == "id":
        return Q(**{f"pk__{after}": cursor.pk})
    return Q(**{f"score__{after}e": cursor.score}) & (
        Q(**{f"score__{after}": cursor.score}) | Q(**{f"pk__{after}": cursor.pk})
    )


def _reversed(order: str) -> list[str]:
    return [key[1:] if key.startswith("-") else f"-{key}" for key in IMAGE_ORDERS[order]]


@dataclass(frozen=True)
class ImagePage:
    images: list[Image]
    has_previous: bool
    has_next: bool


def image_page(
    images: QuerySet[Image], *, order: str, after: Cursor | None, before: Cursor | None, size: int
) -> ImagePage:
    """A keyset page of `images` (from `image_list` with the same order): each page costs the same,
    however deep, on any number of images."""
    if before is not None:
        earlier = images.filter(_beyond(order, before, backwards=True)).order_by(*_reversed(order))
        page = list(earlier[: size + 1])
        has_previous = len(page) > size
        page = page[:size][::-1]
        has_next = bool(page) and images.filter(_beyond(order, _cursor(page[-1], order))).exists()
        return ImagePage(page, has_previous, has_next)
    later = images if after is None else images.filter(_beyond(order, after))
    page = list(later[: size + 1])
    has_previous = (
        bool(page)
        and after is not None
        and images.filter(_beyond(order, _cursor(page[0], order), backwards=True)).exists()
    )
    return ImagePage(page[:size], has_previous, len(page) > size)


def image_neighbours(
    images: QuerySet[Image], *, order: str, cursor: Cursor | None
) -> tuple[int | None, int | None]:
    """The ids of the images just before and just after the cursor in `images` (ordered by `order`)."""
    if cursor is None:
        return None, None
    earlier = images.filter(_beyond(order, cursor, backwards=True)).order_by(*_reversed(order))
    later = images.filter(_beyond(order, cursor))
    return earlier.values_list("pk", flat=True).first(), later.values_list("pk", flat=True).first()


def revision_list(*, image: Image) -> QuerySet[AnnotationRevision]:
    return AnnotationRevision.objects.filter(annotation__image=image).select_related("author")


def user_role(*, user: User, project_id: int) -> Role | None:
    role = Membership.objects.filter(project_id=project_id, user_id=user.pk).values_list("role", flat=True)
    return Role(role[0]) if role else None


def user_has_role(*, user: User, project_id: int, minimum: Role) -> bool:
    """Whether the user's role in the project is `minimum` or one above it."""
    role = user_role(user=user, project_id=project_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]
