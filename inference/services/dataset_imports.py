"""Imports from the browser, as a job.

The files a person drops (with their paths relative to the folder they dropped) and their zips are
staged in the default storage under one prefix per upload, so a worker on another machine reads them
as well as one beside the web server. The worker copies them into its own temporary folder, extracts
the zips there as hostile (`annotations.services.archives`), plans what it finds (`dataset_plan`: the
MVTec AD layout or a plain folder) and imports it into the collection with the ingest's rules. The
staged files are deleted when the job ends, however it ends.

    stage (one request per batch) ──▶ start (202, the job) ──▶ worker: copy, extract, plan, import
"""

import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path, PurePosixPath
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from annotations.models import Collection
from annotations.services.archives import (
    ArchiveCaps,
    ArchiveRefused,
    relative_path_check,
    zip_check,
    zip_extract,
)
from annotations.services.importing import PlannedCollection, dataset_import
from annotations.services.projects import collection_writable_require
from annotations.services.storage import storage_tree_delete
from inference.ml.data import IMAGE_SUFFIXES
from inference.models import Job, JobKind
from inference.services.importing import DatasetError, dataset_plan
from inference.services.jobs import JobContext, JobError, job_create
from inference.services.scoring_jobs import new_images_score

STAGING_AREA = "imports"
# An upload staged this long ago that never became a job (its tab was closed) is deleted.
STAGING_KEPT = timedelta(days=1)
# A job's summary lists at most this many refused files (and counts them all).
REFUSED_LISTED = 500
# Left by macOS and Windows beside the files people meant; never images, never reported.
_LITTER = re.compile(r"^(__MACOSX|\..*|Thumbs\.db|desktop\.ini)$")
_KEY = re.compile(r"^[0-9a-f]{32}$")


class ImportRefused(ValueError):
    """The upload cannot be staged or started as sent; nothing was stored. The message says why."""


def import_staging_prefix(*, collection_id: int, user_id: int, key: str) -> str:
    """Where one upload's files are staged: the key names it, the collection and the user fence it
    (another person's key leads to their own, empty, folder)."""
    return f"{STAGING_AREA}/{collection_id}/{user_id}/{key}"


@dataclass(frozen=True)
class StagedUpload:
    key: str
    files: int  # staged by this request
    archives: int


def _staged_names(prefix: str) -> Iterator[str]:
    """The stored names under `prefix`, relative to it."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    yield from files
    for folder in folders:
        yield from (f"{folder}/{name}" for name in _staged_names(f"{prefix}/{folder}"))


def import_stage(
    *,
    collection: Collection,
    user: AbstractBaseUser,
    key: str | None,
    files: list[tuple[str, File]],
    archives: list[File],
) -> StagedUpload:
    """Stage one batch of an upload: files under their relative paths, and zips (checked on their
    central directory, so a hostile one is refused before the job). Everything is checked before the
    first file is stored.

    Raises:
        ImportRefused: an unsafe or repeated path, a refused zip, an unknown key, or too many files.
        CollectionArchived: the collection is read-only.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    if key is None:
        import_staging_sweep(collection_id=collection.pk, user_id=user.pk)
    if key is not None and not _KEY.match(key):
        raise ImportRefused(f"{key!r} is not an upload key: send the key the first batch answered with")
    key = key or uuid.uuid4().hex
    prefix = import_staging_prefix(collection_id=collection.pk, user_id=user.pk, key=key)
    _not_started_require(prefix)
    if len(files) + len(archives) > settings.LOUPE_IMPORT_MAX_FILES:
        raise ImportRefused(
            f"{len(files) + len(archives):,} files in one import, above the limit of "
            f"{settings.LOUPE_IMPORT_MAX_FILES:,}; import them in parts"
        )
    targets: dict[str, File] = {}
    try:
        for name, upload in files:
            target = f"{prefix}/files/{relative_path_check(name)}"
            if target in targets or default_storage.exists(target):
                raise ImportRefused(f"{name!r} was sent twice in this upload; send each file once")
            targets[target] = upload
    except ArchiveRefused as error:
        raise ImportRefused(str(error)) from None
    for upload in archives:
        try:
            zip_check(archive=upload)
            name = relative_path_check(upload.name).name
        except ArchiveRefused as error:
            raise ImportRefused(f"{upload.name} was refused: {error}") from None
        upload.seek(0)
        targets[f"{prefix}/archives/{uuid.uuid4().hex}/{name}"] = upload
    stored = []
    try:
        for target, upload in targets.items():
            stored.append(default_storage.save(target, upload))
    except BaseException:
        for name in stored:
            default_storage.delete(name)
        raise
    return StagedUpload(key=key, files=len(files), archives=len(archives))


def _not_started_require(prefix: str) -> None:
    started = Job.objects.filter(kind=JobKind.IMPORT, parameters__staging=prefix).first()
    if started is not None:
        raise ImportRefused(f"this upload was started already, as job {started.pk}; start a new upload")


def import_staging_sweep(*, collection_id: int, user_id: int) -> list[str]:
    """Delete this person's uploads to the collection that were staged over `STAGING_KEPT` ago and
    never started (a job deletes its own when it ends); the keys deleted."""
    try:
        keys, _ = default_storage.listdir(f"{STAGING_AREA}/{collection_id}/{user_id}")
    except FileNotFoundError:
        return []
    swept = []
    for key in keys:
        prefix = import_staging_prefix(collection_id=collection_id, user_id=user_id, key=key)
        if Job.objects.filter(kind=JobKind.IMPORT, parameters__staging=prefix).exists():
            continue
        first = next(_staged_names(prefix), None)
        if (
            first is None
            or default_storage.get_modified_time(f"{prefix}/{first}") < timezone.now() - STAGING_KEPT
        ):
            storage_tree_delete(prefix=prefix)
            swept.append(key)
    return swept


@transaction.atomic
def import_start(
    *, collection: Collection, user: AbstractBaseUser, key: str, format: str | None = None
) -> Job:
    """The import job of a staged upload, queued once the transaction commits. `format`: one of
    `DATASET_FORMATS`; None: the MVTec AD layout when the upload is in it, else a plain folder.

    Raises:
        ImportRefused: nothing was staged under the key, or it was started already.
        CollectionArchived: the collection is read-only.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    if not _KEY.match(key):
        raise ImportRefused(f"{key!r} is not an upload key: send the key the staging answered with")
    prefix = import_staging_prefix(collection_id=collection.pk, user_id=user.pk, key=key)
    _not_started_require(prefix)
    if next(_staged_names(prefix), None) is None:
        raise ImportRefused("nothing was uploaded under this key: send files or a zip first")
    return job_create(
        kind=JobKind.IMPORT,
        collection=collection,
        parameters={"staging": prefix, "format": format},
        created_by=user,
    )


def import_abandon(job: Job) -> None:
    """An import that will not succeed keeps no staged files (what it imported stays: each image was
    stored whole, and a new import finds it again by its content)."""
    prefix = job.parameters.get("staging", "")
    if prefix.startswith(f"{STAGING_AREA}/"):
        transaction.on_commit(lambda: storage_tree_delete(prefix=prefix))


def _copy_staged(*, prefix: str, root: Path, context: JobContext) -> list[tuple[str, Path]]:
    """Copy the staged files into `root`; the local copies of the zips, with their names."""
    names = list(_staged_names(prefix))
    archives, copied = [], 0
    for done, name in enumerate(names, 1):
        area, _, rest = name.partition("/")
        if area == "archives":
            target = root.parent / "archives" / rest
            archives.append((PurePosixPath(rest).name, target))
        else:
            target = root.joinpath(*relative_path_check(rest).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        with default_storage.open(f"{prefix}/{name}", "rb") as source, target.open("xb") as output:
            shutil.copyfileobj(source, output)
            # A zip's bytes are counted as it is extracted, by what it unpacks to.
            copied += output.tell() if area != "archives" else 0
        if copied > settings.LOUPE_IMPORT_MAX_BYTES:
            raise JobError(
                f"the upload holds more than the {settings.LOUPE_IMPORT_MAX_BYTES / 2**20:,.0f} MiB "
                "one import may hold, nothing was imported; import it in parts"
            )
        if done % 50 == 0 or done == len(names):
            context.progress(0.1 * done / len(names), f"copying the upload: {done}/{len(names)} files")
    return archives


def _extract(*, archives: list[tuple[str, Path]], root: Path) -> None:
    used = sum(path.stat().st_size for path in root.rglob("*") if path.is_file())
    count = sum(1 for path in root.rglob("*") if path.is_file())
    for name, path in archives:
        caps = ArchiveCaps(
            max_bytes=settings.LOUPE_IMPORT_MAX_BYTES - used,
            max_members=settings.LOUPE_IMPORT_MAX_FILES - count,
        )
        try:
            extracted = zip_extract(archive=path, into=root, caps=caps)
        except ArchiveRefused as error:
            raise JobError(f"{name} was refused, nothing was imported: {error}") from None
        used += sum(root.joinpath(*member.parts).stat().st_size for member in extracted)
        count += len(extracted)
        path.unlink()


def _tidy(root: Path) -> None:
    """Remove the operating systems' litter, so that it neither counts as a file nor hides the folder
    the upload holds."""
    for path in sorted(root.rglob("*"), key=lambda p: len(p.parts)):
        if not path.exists() or not _LITTER.match(path.name):
            continue
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()


def _plan_root(root: Path) -> Path:
    """The folder to plan: the upload, or the one folder it holds (a dropped folder or a zip of one)."""
    while True:
        entries = list(root.iterdir())
        if len(entries) != 1 or not entries[0].is_dir():
            return root
        if (root / "train").is_dir() or (root / "test").is_dir():
            return root
        root = entries[0]


def _plan(root: Path, format: str | None) -> PlannedCollection:
    try:
        plans = dataset_plan(root, format=format)
    except DatasetError as error:
        raise JobError(str(error).replace(str(root), "the upload")) from None
    if len(plans) > 1:
        names = ", ".join(plan.name for plan in plans)
        raise JobError(
            f"the upload holds {len(plans)} MVTec AD categories ({names}); import each category into "
            "its own collection"
        )
    return plans[0]


def _unplanned(*, plan: PlannedCollection, root: Path, upload: Path) -> list[tuple[str, str]]:
    """The files of the upload the plan does not read, each with why."""
    used = {p.path for p in plan.images} | {p.mask_path for p in plan.images if p.mask_path}
    labeled = plan.layout not in ("mvtec", "folder")
    refused = []
    for path in sorted(p for p in upload.rglob("*") if p.is_file() and p not in used):
        name = str(path.relative_to(upload))
        is_image = path.suffix.lower() in IMAGE_SUFFIXES
        if labeled and not is_image:
            continue  # the label files and their companions: the plan read them and reports its refusals
        if labeled:
            reason = f"no {plan.layout} label file of the upload names it"
        elif not is_image:
            reason = f"not an image file ({path.suffix or 'no extension'}); nothing else is imported"
        elif plan.layout == "mvtec":
            reason = "outside the MVTec AD layout (train/good, test/<defect>, ground_truth/<defect>)"
        elif not path.is_relative_to(root):
            reason = "outside the folder that was imported"
        else:
            reason = "in a subfolder: a plain folder is imported from its top level only"
        refused.append((name, reason))
    return refused


def import_execute(context: JobContext) -> None:
    """The import job's work: copy, extract, plan and import the staged upload into the collection."""
    job = context.job
    prefix = job.parameters["staging"]
    with tempfile.TemporaryDirectory(prefix="loupe-import-") as temp:
        upload = Path(temp) / "upload"
        upload.mkdir()
        archives = _copy_staged(prefix=prefix, root=upload, context=context)
        _extract(archives=archives, root=upload)
        _tidy(upload)
        root = _plan_root(upload)
        plan = _plan(root, job.parameters.get("format"))
        total = len(plan.images)
        done = 0

        def on_image(_: Any) -> None:
            nonlocal done
            done += 1
            context.progress(0.1 + 0.9 * done / total, f"importing: {done}/{total} images")

        summary = next(
            dataset_import(
                plans=[plan],
                project=job.collection.project,
                imported_by=job.created_by,
                on_image=on_image,
                into=job.collection,
            )
        )
        # Images are named by their path; label files the plan refused, relative to the planned folder.
        refused = [(str((root / name).relative_to(upload)), reason) for name, reason in summary.rejected]
        refused += _unplanned(plan=plan, root=root, upload=upload)
    result = {
        "layout": plan.layout,
        "images": total,
        "added": summary.added,
        "duplicates": summary.duplicates,
        "masks": summary.masks,
        "empty_masks": summary.empty_masks,
        "labeled": summary.labeled,
        # Images that kept the label a person gave them, instead of the label file's.
        "kept_labels": [
            {"file": name, "reason": reason} for name, reason in summary.skipped[:REFUSED_LISTED]
        ],
        "refused_count": len(refused),
        "refused": [{"file": name, "reason": reason} for name, reason in refused[:REFUSED_LISTED]],
    }
    message = f"{summary.added} added, {summary.duplicates} already there, {len(refused)} refused"
    with transaction.atomic():
        context.hold_check()
        if summary.added:
            new_images_score(collection=job.collection, image_ids=None, by=job.created_by)
        context.complete(result, message=message)
    storage_tree_delete(prefix=prefix)
