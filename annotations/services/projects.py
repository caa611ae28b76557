"""Projects, members, collections and defect types."""

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import QuerySet
from django.utils import timezone

from annotations.models import Collection, DefectType, Membership, Project, Region, Role
from annotations.selectors import project_list, user_find
from annotations.services.storage import collection_files_delete


class LastManager(Exception):
    """A project must keep at least one manager."""

    def __init__(self) -> None:
        super().__init__("a project needs at least one manager: make someone else manager first")


class ProjectNameTaken(Exception):
    """One of the user's own projects has this name, in some case."""

    def __init__(self, *, name: str) -> None:
        super().__init__(
            f"you already have a project named {name!r} (names are compared ignoring case): choose another"
        )


def _save_named(save: Callable[[], None], taken: Callable[[], Exception]) -> None:
    """Run `save()`, telling a clash with another object's name apart as the exception `taken()` makes.

    Collections and defect types each have one unique rule, their name (in the project, the
    collection): a clash there is the only way to an IntegrityError.
    """
    try:
        # A savepoint: the caller's transaction stays usable after the clash.
        with transaction.atomic():
            save()
    except IntegrityError:
        raise taken() from None


def _project_name_require_free(*, user: AbstractBaseUser, name: str, exclude: int | None = None) -> None:
    """Raise if a project the user can see has this name, ignoring case.

    Only those: two teams may each have a "Line 3", and refusing a name another team holds would tell
    the user that team's project exists. The user's row is locked until commit, so two of their own
    requests cannot both find a name free.
    """
    get_user_model().objects.select_for_update().only("pk").get(pk=user.pk)
    clash = project_list(user=user).filter(name__iexact=name).exclude(pk=exclude)
    if clash.exists():
        raise ProjectNameTaken(name=name)


@transaction.atomic
def project_create(*, name: str, description: str = "", created_by: AbstractBaseUser) -> Project:
    """Create a project whose creator is its first manager.

    Raises:
        ProjectNameTaken: one of the creator's projects has this name, ignoring case.
    """
    _project_name_require_free(user=created_by, name=name)
    project = Project.objects.create(name=name, description=description, created_by=created_by)
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


# --- archived collections: kept whole, read-only ----------------------------------------------


class CollectionArchived(Exception):
    """A write into an archived collection (the API answers 409 with the message)."""

    def __init__(self, *, name: str) -> None:
        super().__init__(
            f"collection {name!r} is archived, so it is read-only: a manager can restore it "
            "(Collection settings) before anything in it changes"
        )


def collection_writable_require(*, collections: QuerySet[Collection]) -> None:
    """Raise unless every collection of `collections` is open for writes.

    The services that write into a collection call it (images stored, moved and deleted, labels
    changed, defect types changed, jobs started that change the collection), so every interface —
    pages, API, commands, jobs — meets the same refusal. Read from the database, not from an
    instance the caller may have fetched before someone archived the collection.

    Raises:
        CollectionArchived: one of them is archived.
    """
    archived = collections.filter(archived_at__isnull=False).values_list("name", flat=True).first()
    if archived is not None:
        raise CollectionArchived(name=archived)


def collection_archive(*, collection: Collection) -> Collection:
    """Archive a collection: nothing in it changes until it is restored; it leaves the lists."""
    if collection.archived_at is None:
        collection.archived_at = timezone.now()
        collection.save(update_fields=["archived_at"])
    return collection


def collection_restore(*, collection: Collection) -> Collection:
    """Open an archived collection again, as it was."""
    if collection.archived_at is not None:
        collection.archived_at = None
        collection.save(update_fields=["archived_at"])
    return collection


# --- defect types ----------------------------------------------------------------------------

# A distinct, readable colour for each new defect type of a collection, in order.
DEFECT_COLORS = ["#e6194b", "#3cb44b", "#4363d8", "#f58231", "#911eb4", "#42d4f4", "#f032e6", "#bfef45"]

# The annotator's own keys, which no defect type may take (the front end reads the same file).
RESERVED_HOTKEYS: frozenset[str] = frozenset(
    json.loads((Path(__file__).resolve().parents[1] / "reserved_hotkeys.json").read_text())["keys"]
)


class HotkeyRefused(Exception):
    """A defect type's hotkey that the annotator could not use (the API answers 400 on `hotkey`)."""


class DefectTypeNameTaken(Exception):
    def __init__(self, *, name: str) -> None:
        super().__init__(f"the collection already has a defect type {name!r}: choose another name")


def _hotkey_check(collection_id: int, hotkey: str, *, exclude: int | None = None) -> None:
    """Keys are compared as the annotator reads them, ignoring case."""
    if not hotkey:
        return
    key = hotkey.lower()
    if len(hotkey) != 1:
        raise HotkeyRefused(f"a hotkey is one character; {hotkey!r} is {len(hotkey)}")
    if key in RESERVED_HOTKEYS:
        shown = "Space" if key == " " else key
        raise HotkeyRefused(
            f"{shown!r} is one of the annotator's own keys (tools, verdicts, commands): choose a digit "
            "or another letter"
        )
    clash = (
        DefectType.objects.filter(collection_id=collection_id, hotkey__in={key, key.upper()})
        .exclude(pk=exclude)
        .values_list("name", flat=True)
        .first()
    )
    if clash is not None:
        raise HotkeyRefused(f"{key!r} is already the hotkey of defect type {clash!r}: choose another key")


def _next_free_digit(collection_id: int) -> str:
    taken = set(DefectType.objects.filter(collection_id=collection_id).values_list("hotkey", flat=True))
    return next((digit for digit in "123456789" if digit not in taken), "")


def _defect_type_save(defect_type: DefectType, save: Callable[[], None]) -> None:
    _save_named(save, lambda: DefectTypeNameTaken(name=defect_type.name))


@transaction.atomic
def defect_type_create(
    *, collection: Collection, name: str, color: str | None = None, hotkey: str | None = None
) -> DefectType:
    """A new defect type; without a colour or hotkey it gets the collection's next ones.

    Raises:
        CollectionArchived, HotkeyRefused, DefectTypeNameTaken.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    count = DefectType.objects.filter(collection=collection).count()
    if color is None:
        color = DEFECT_COLORS[count % len(DEFECT_COLORS)]
    if hotkey is None:
        hotkey = _next_free_digit(collection.pk)
    _hotkey_check(collection.pk, hotkey)
    defect_type = DefectType(collection=collection, name=name, color=color, hotkey=hotkey)
    _defect_type_save(defect_type, defect_type.save)
    return defect_type


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
def project_update(*, project: Project, changed_by: AbstractBaseUser, **changes: Any) -> Project:
    """Change a project's `name` and/or `description`.

    Raises:
        ProjectNameTaken: another of the projects `changed_by` can see has the new name, ignoring case.
    """
    if "name" in changes:
        _project_name_require_free(user=changed_by, name=changes["name"], exclude=project.pk)
    _update_fields(project, changes)
    return project


class NoSuchAccount(Exception):
    def __init__(self, *, identifier: str) -> None:
        super().__init__(
            f"no account has the username or e-mail {identifier!r}: an administrator makes accounts "
            "(see the README), then add it here"
        )


@transaction.atomic
def membership_create(*, project: Project, identifier: str, role: Role) -> Membership:
    """Add the account named by username or e-mail address to the project.

    The answer says whether an account exists, so callers call it only once they know the acting user
    may add members to this project (a manager): to anyone else it would be a directory of accounts.

    Raises:
        NoSuchAccount: no account (or more than one) has that username or address.
        AlreadyMember: the account is in the project already.
    """
    user = user_find(identifier=identifier)
    if user is None:
        raise NoSuchAccount(identifier=identifier)
    if Membership.objects.filter(project=project, user=user).exists():
        raise AlreadyMember(username=user.get_username())
    return Membership.objects.create(project=project, user=user, role=role)


class CollectionNameTaken(Exception):
    def __init__(self, *, name: str) -> None:
        super().__init__(f"the project already has a collection {name!r}: choose another name")


def _collection_save(collection: Collection, save: Callable[[], None]) -> None:
    _save_named(save, lambda: CollectionNameTaken(name=collection.name))


@transaction.atomic
def collection_create(*, project: Project, name: str, description: str = "") -> Collection:
    """Raises: CollectionNameTaken."""
    collection = Collection(project=project, name=name, description=description)
    _collection_save(collection, collection.save)
    return collection


@transaction.atomic
def collection_update(*, collection: Collection, **changes: Any) -> Collection:
    """Change a collection's `name` and/or `description`.

    Raises:
        CollectionArchived: restore it first.
        CollectionNameTaken: another collection of the project has the new name.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    _collection_save(collection, lambda: _update_fields(collection, changes))
    return collection


def collection_delete(*, collection: Collection) -> None:
    """Delete a collection with its images, labels and defect types, and its files once committed."""
    with transaction.atomic():
        # Regions protect their defect types: remove the labels' regions first, then everything else.
        Region.objects.filter(annotation__image__collection=collection).delete()
        collection_id = collection.pk
        collection.delete()
        transaction.on_commit(lambda: collection_files_delete(collection_id=collection_id))


@transaction.atomic
def defect_type_update(*, defect_type: DefectType, **changes: Any) -> DefectType:
    """Change a defect type's `name`, `color` and/or `hotkey`.

    Raises:
        CollectionArchived, HotkeyRefused, DefectTypeNameTaken.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=defect_type.collection_id))
    if "hotkey" in changes:
        _hotkey_check(defect_type.collection_id, changes["hotkey"], exclude=defect_type.pk)
    _defect_type_save(defect_type, lambda: _update_fields(defect_type, changes))
    return defect_type


@transaction.atomic
def defect_type_delete(*, defect_type: DefectType) -> None:
    """Delete a defect type that no region uses."""
    collection_writable_require(collections=Collection.objects.filter(pk=defect_type.collection_id))
    regions = Region.objects.filter(defect_type=defect_type).count()
    if regions:
        raise DefectTypeInUse(name=defect_type.name, regions=regions)
    defect_type.delete()
