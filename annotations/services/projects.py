"""Projects, members, collections and defect types."""

from collections.abc import Callable
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from annotations.models import Collection, DefectType, Image, Membership, Project, Region, Role


class LastManager(Exception):
    """A project must keep at least one manager."""

    def __init__(self) -> None:
        super().__init__("a project needs at least one manager: make someone else manager first")


class ProjectNameTaken(Exception):
    """Another project has this name, in some case (the database's constraint says so)."""

    def __init__(self, *, name: str) -> None:
        super().__init__(
            f"a project named {name!r} already exists (names are compared ignoring case): choose another"
        )


def _project_save(project: Project, save: Callable[[], None]) -> None:
    """Run `save()`, telling a clash with another project's name apart as ProjectNameTaken."""
    try:
        # A savepoint: the caller's transaction stays usable after the clash.
        with transaction.atomic():
            save()
    except IntegrityError:
        # The name's constraint is the project's only unique one; a clash there is the only way in.
        raise ProjectNameTaken(name=project.name) from None


@transaction.atomic
def project_create(*, name: str, description: str = "", created_by: AbstractBaseUser) -> Project:
    """Create a project whose creator is its first manager.

    Raises:
        ProjectNameTaken: another project has this name, ignoring case.
    """
    project = Project(name=name, description=description, created_by=created_by)
    _project_save(project, project.save)
    Membership.objects.create(project=project, user=created_by, role=Role.MANAGER)
    return project


def _other_managers_exist(membership: Membership) -> bool:
    return (
        Membership.objects.filter(project_id=membership.project_id, role=Role.MANAGER)
        .exclude(pk=membership.pk)
        .exists()
    )


def _lock_for_change(membership: Membership) -> Membership:
    """The membership, fresh, with its project locked until commit: two managers demoting each other at
    once must not both see the other as the manager who stays."""
    Project.objects.select_for_update().only("pk").get(pk=membership.project_id)
    return Membership.objects.get(pk=membership.pk)


@transaction.atomic
def membership_update(*, membership: Membership, role: Role) -> Membership:
    """Change a member's role; the last manager cannot step down."""
    membership = _lock_for_change(membership)
    if membership.role == Role.MANAGER and role != Role.MANAGER and not _other_managers_exist(membership):
        raise LastManager()
    membership.role = role
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_delete(*, membership: Membership) -> None:
    """Remove a member; the last manager cannot leave."""
    membership = _lock_for_change(membership)
    if membership.role == Role.MANAGER and not _other_managers_exist(membership):
        raise LastManager()
    membership.delete()


def collection_get_or_create(
    *, project: Project, name: str, description: str = ""
) -> tuple[Collection, bool]:
    return Collection.objects.get_or_create(project=project, name=name, defaults={"description": description})


# A distinct, readable colour for each new defect type of a collection, in order.
DEFECT_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]


def defect_type_create(
    *, collection: Collection, name: str, color: str | None = None, hotkey: str | None = None
) -> DefectType:
    """A new defect type; without a colour or hotkey it gets the collection's next ones."""
    count = DefectType.objects.filter(collection=collection).count()
    if color is None:
        color = DEFECT_COLORS[count % len(DEFECT_COLORS)]
    if hotkey is None:
        hotkey = str(count + 1) if count < 9 else ""
    return DefectType.objects.create(collection=collection, name=name, color=color, hotkey=hotkey)


def defect_type_get_or_create(*, collection: Collection, name: str) -> tuple[DefectType, bool]:
    """The collection's defect type of this name, created with the next colour and hotkey if new."""
    existing = DefectType.objects.filter(collection=collection, name=name).first()
    if existing:
        return existing, False
    return defect_type_create(collection=collection, name=name), True


class AlreadyMember(Exception):
    def __init__(self, *, username: str) -> None:
        super().__init__(f"{username} is already a member of this project: change their role instead")


class DefectTypeInUse(Exception):
    def __init__(self, *, name: str, regions: int) -> None:
        super().__init__(
            f"defect type {name!r} is used by {regions} labeled region(s): relabel them before deleting it"
        )


def _update_fields(instance: Any, changes: dict[str, Any]) -> None:
    """Set the given fields that differ and save only those."""
    changed = [name for name, value in changes.items() if getattr(instance, name) != value]
    for name in changed:
        setattr(instance, name, changes[name])
    if changed:
        instance.save(update_fields=changed)


@transaction.atomic
def project_update(*, project: Project, **changes: Any) -> Project:
    """Change a project's `name` and/or `description`.

    Raises:
        ProjectNameTaken: another project has the new name, ignoring case.
    """
    _project_save(project, lambda: _update_fields(project, changes))
    return project


@transaction.atomic
def membership_create(*, project: Project, user: AbstractBaseUser, role: Role) -> Membership:
    if Membership.objects.filter(project=project, user=user).exists():
        raise AlreadyMember(username=user.get_username())
    return Membership.objects.create(project=project, user=user, role=role)


@transaction.atomic
def collection_create(*, project: Project, name: str, description: str = "") -> Collection:
    return Collection.objects.create(project=project, name=name, description=description)


@transaction.atomic
def collection_update(*, collection: Collection, **changes: Any) -> Collection:
    """Change a collection's `name` and/or `description`."""
    _update_fields(collection, changes)
    return collection


def collection_delete(*, collection: Collection) -> None:
    """Delete a collection with its images, labels and defect types, and its files once committed."""
    with transaction.atomic():
        files = [
            name
            for pair in Image.objects.filter(collection=collection).values_list("file", "thumbnail")
            for name in pair
            if name
        ]
        # Regions protect their defect types: remove the labels' regions first, then everything else.
        Region.objects.filter(annotation__image__collection=collection).delete()
        collection.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files])


@transaction.atomic
def defect_type_update(*, defect_type: DefectType, **changes: Any) -> DefectType:
    """Change a defect type's `name`, `color` and/or `hotkey`."""
    _update_fields(defect_type, changes)
    return defect_type


@transaction.atomic
def defect_type_delete(*, defect_type: DefectType) -> None:
    """Delete a defect type that no region uses."""
    regions = Region.objects.filter(defect_type=defect_type).count()
    if regions:
        raise DefectTypeInUse(name=defect_type.name, regions=regions)
    defect_type.delete()
