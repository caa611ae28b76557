"""Projects, members, collections and defect types."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotations.models import Collection, DefectType, Membership, Project, Role


class LastManager(Exception):
    """A project must keep at least one manager."""

    def __init__(self) -> None:
        super().__init__("a project needs at least one manager: make someone else manager first")


@transaction.atomic
def project_create(*, name: str, description: str = "", created_by: AbstractBaseUser) -> Project:
    """Create a project whose creator is its first manager."""
    project = Project.objects.create(name=name, description=description, created_by=created_by)
    Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


def _other_managers_exist(membership: Membership) -> bool:
    return (
        Membership.objects.filter(project_id=membership.project_id, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


@transaction.atomic
def membership_update(*, membership: Membership, role: Role) -> Membership:
    """Change a member's role; the last manager cannot step down."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.MANAGER and role != Role.MANAGER and not _other_managers_exist(membership):
        raise LastManager()
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member; the last manager cannot leave."""
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    if membership.role == Role.MANAGER and not _other_managers_exist(membership):
        raise LastManager()
    membership.delete()


def collection_get_or_create(
    *, project: Project, name: str, description: str = ""
) -> tuple[Collection, bool]:
    return Collection.objects.get_or_create(project=project, name=name, defaults={"description": description})


# A distinct, readable colour for each new defect type of a collection, in order.
DEFECT_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


def defect_type_get_or_create(*, collection: Collection, name: str) -> tuple[DefectType, bool]:
    """The collection's defect type of this name, created with the next colour and hotkey if new."""
    existing = DefectType.objects.filter(collection=collection, name=name).first()
    if existing:
        return existing, False
    count = DefectType.objects.filter(collection=collection).count()
    hotkey = str(count + 1) if count < 9 else ""
    defect_type = DefectType.objects.create(
        collection=collection, name=name, color=DEFECT_COLORS[count % len(DEFECT_COLORS)], hotkey=hotkey
    )
    return defect_type, True
