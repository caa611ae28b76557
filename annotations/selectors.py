"""Reads, always scoped by membership: what a user is not a member of does not exist for them."""

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.db.models import QuerySet

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


def collection_list(*, user: User, project_id: int | None = None) -> QuerySet[Collection]:
    collections = Collection.objects.filter(project__in=project_list(user=user)).select_related("project")
    return collections if project_id is None else collections.filter(project_id=project_id)


def defect_type_list(*, user: User, collection_id: int | None = None) -> QuerySet[DefectType]:
    defect_types = DefectType.objects.filter(collection__project__in=project_list(user=user))
    return defect_types if collection_id is None else defect_types.filter(collection_id=collection_id)


def image_list(
    *,
    user: User,
    collection_id: int | None = None,
    split: str | None = None,
    verdict: str | None = None,
    defect_type_id: int | None = None,
) -> QuerySet[Image]:
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
    return images


def revision_list(*, image: Image) -> QuerySet[AnnotationRevision]:
    return AnnotationRevision.objects.filter(annotation__image=image).select_related("author")


def user_role(*, user: User, project_id: int) -> Role | None:
    role = Membership.objects.filter(project_id=project_id, user_id=user.pk).values_list("role", flat=True)
    return Role(role[0]) if role else None


def user_has_role(*, user: User, project_id: int, minimum: Role) -> bool:
    """Whether the user's role in the project is `minimum` or one above it."""
    role = user_role(user=user, project_id=project_id)
    return role is not None and ROLE_RANK[role] >= ROLE_RANK[minimum]
