"""Reads, always scoped by membership: what a user is not a member of does not exist for them."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import Model, Q, QuerySet

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

User = AbstractBaseUser | AnonymousUser


def project_list(*, user: User) -> QuerySet[Project]:
    return Project.objects.filter(memberships__user_id=user.pk)


def membership_list(*, user: User, project_id: int | None = None) -> QuerySet[Membership]:
    memberships = Membership.objects.filter(project__in=project_list(user=user)).select_related(
        "user", "project"
    )
    return memberships if project_id is None else memberships.filter(project_id=project_id)


def collection_list(
    *, user: User, project_id: int | None = None, archived: bool | None = None
) -> QuerySet[Collection]:
    """The user's collections; `archived` True or False keeps only the archived or the open ones
    (lists and pickers show the open ones; a page or a route reached by id finds either)."""
    collections = Collection.objects.filter(project__in=project_list(user=user)).select_related("project")
    if archived is not None:
        collections = collections.filter(archived_at__isnull=not archived)
    return collections if project_id is None else collections.filter(project_id=project_id)


def defect_type_list(*, user: User, collection_id: int | None = None) -> QuerySet[DefectType]:
    defect_types = DefectType.objects.filter(collection__project__in=project_list(user=user)).select_related(
        "collection"
    )
    return defect_types if collection_id is None else defect_types.filter(collection_id=collection_id)


def image_list(
    *,
    user: User,
    collection_id: int | None = None,
    split: str | None = None,
    verdict: str | None = None,
    defect_type_id: int | None = None,
) -> QuerySet[Image]:
    """Images, filtered, in id order (`inference.selectors.scored_image_list` adds the model's
    scores and reviews)."""
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
    return images.order_by(*keyset_order("id"))


# --- keyset pages -------------------------------------------------------------------------------
# An order is "id" or "<key>" / "-<key>", where `key` is a value the rows carry (a field or an
# annotation such as a score); the id breaks ties, in the same direction, so every position is unique.


def keyset_order(order: str) -> tuple[str, ...]:
    """The `order_by` of a keyset order: ("pk",) for "id", ("-score", "-pk") for "-score"."""
    sign, key = ("-", order[1:]) if order.startswith("-") else ("", order)
    return (f"{sign}pk",) if key == "id" else (f"{sign}{key}", f"{sign}pk")


@dataclass(frozen=True)
class Cursor:
    """Where a page starts or ends: a row's id and, in an order by a key, its value of the key."""

    pk: int
    key: Any = None


def _key(order: str) -> str:
    return order.lstrip("-")


def _cursor(row: Model, order: str) -> Cursor:
    return Cursor(row.pk, None if _key(order) == "id" else getattr(row, _key(order)))


def _beyond(order: str, cursor: Cursor, *, backwards: bool = False) -> Q:
    """The rows after the cursor in the order (before it, `backwards`), as a keyset condition,
    written `key >= k AND (key > k OR id > i)` so that an index on the key can serve it."""
    after = "lt" if order.startswith("-") != backwards else "gt"
    key = _key(order)
    if key == "id":
        return Q(**{f"pk__{after}": cursor.pk})
    return Q(**{f"{key}__{after}e": cursor.key}) & (
        Q(**{f"{key}__{after}": cursor.key}) | Q(**{f"pk__{after}": cursor.pk})
    )


def _reversed(order: str) -> list[str]:
    return [key[1:] if key.startswith("-") else f"-{key}" for key in keyset_order(order)]


@dataclass(frozen=True)
class ImagePage:
    images: list[Image]
    has_previous: bool
    has_next: bool


def image_page(
    images: QuerySet[Image], *, order: str, after: Cursor | None, before: Cursor | None, size: int
) -> ImagePage:
    """A keyset page of `images` (ordered by `keyset_order(order)`): each page costs the same,
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


def user_find(*, identifier: str) -> AbstractBaseUser | None:
    """The account a manager names to add it to a project: by username, else by e-mail address
    (None when no account, or several, have that address). Not scoped: any account can be added."""
    users = get_user_model().objects.filter(is_active=True)
    by_name = users.filter(username=identifier).first()
    if by_name is not None or "@" not in identifier:
        return by_name
    by_email = list(users.filter(email__iexact=identifier)[:2])
    return by_email[0] if len(by_email) == 1 else None


def user_role(*, user: User, project_id: int) -> Role | None:
    role = Membership.objects.filter(project_id=project_id, user_id=user.pk).values_list("role", flat=True)
    return Role(role[0]) if role else None


def user_has_role(*, user: User, project_id: int, minimum: Role) -> bool:
    """Whether the user's role in the project is `minimum` or one above it."""
    role = user_role(user=user, project_id=project_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]
