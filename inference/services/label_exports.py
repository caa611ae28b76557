"""Label exports: a collection's images and labels in a label format, written to a zip by the label
export job and kept in Django's default storage (local disk or S3) for members to download. The
writing itself is `annotations.services.label_export`.

    queued ──job claims──▶ running ──zip stored──▶ succeeded (its result names the zip)
                              └──failed, cancelled, given up──▶ failed / cancelled (no zip kept)

The job holds what it made in its `result`: `name` (the zip's file name, under
`label_export_prefix`), `size`, and the export's report (`images`, `labeled`, `regions`, `left_out`).
"""

import tempfile

from django.contrib.auth.models import AbstractBaseUser
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.models import Collection
from annotations.services.label_export import LABEL_FORMATS, export_zip_name, labels_export_zip
from annotations.services.storage import storage_tree_delete
from inference.models import Job, JobKind, JobStatus
from inference.services.jobs import JobContext, JobError, job_create

# Larger collections are exported by a job; the collection page streams smaller ones at once.
DIRECT_EXPORT_LIMIT = 200
# The report lists at most this many left-out regions and images in the job's result.
LEFT_OUT_SHOWN = 200


class LabelExportNotReady(Exception):
    def __init__(self, job: Job) -> None:
        if job.status == JobStatus.SUCCEEDED:
            why = "its file is no longer in storage: export again"
        elif job.status in (JobStatus.QUEUED, JobStatus.RUNNING):
            why = f"it is {job.status}: wait until it succeeds"
        else:
            why = f"it {job.status}: export again"
        super().__init__(f"label export {job.pk} has no file to download; {why}")


def label_export_prefix(job: Job) -> str:
    """The storage folder of a label export's zip."""
    return f"label-exports/{job.collection_id}/{job.pk}"


def label_export_start(*, collection: Collection, format: str, by: AbstractBaseUser | None) -> Job:
    """A queued label export of the collection in `format` (one of `LABEL_FORMATS`).

    Raises:
        ValueError: an unknown format.
    """
    if format not in LABEL_FORMATS:
        raise ValueError(f"unknown label format {format!r}: choose one of {', '.join(LABEL_FORMATS)}")
    return job_create(
        kind=JobKind.LABEL_EXPORT, collection=collection, parameters={"format": format}, created_by=by
    )


def label_export_execute(context: JobContext) -> None:
    """Write the job's export to a zip and store it; the job's result names it."""
    job = context.job
    collection, format = job.collection, job.parameters.get("format")
    if format not in LABEL_FORMATS:
        raise JobError(f"unknown label format {format!r}: start the export again with one of {LABEL_FORMATS}")
    context.progress(0.01, f"exporting {collection.name} as {format}")

    def progress(done: int, total: int) -> None:
        if done % 20 == 0 or done == total:
            context.progress(0.02 + 0.88 * done / max(total, 1), f"{format}: image {done} of {total}")

    name = export_zip_name(collection, format)
    prefix = label_export_prefix(job)
    with tempfile.TemporaryFile() as archive:
        report = labels_export_zip(collection=collection, format=format, file=archive, progress=progress)
        context.progress(0.92, "storing the zip")
        # What an earlier attempt of this job left there would make storage pick another name.
        storage_tree_delete(prefix=prefix)
        archive.seek(0)
        key = default_storage.save(f"{prefix}/{name}", File(archive, name=name))
        if key != f"{prefix}/{name}":
            raise JobError(f"storage renamed {prefix}/{name} to {key}; remove the stray file")
        size = default_storage.size(key)
    summary = report.to_dict()
    result = summary | {
        "name": name,
        "size": size,
        "left_out": summary["left_out"][:LEFT_OUT_SHOWN],
        "left_out_count": len(report.left_out),
    }
    with transaction.atomic():
        context.hold_check()
        context.complete(result, message=f"exported {report.images} images as {format}")


def label_export_abandon(job: Job) -> None:
    """A label export that will not finish keeps no file."""
    prefix = label_export_prefix(job)
    transaction.on_commit(lambda: storage_tree_delete(prefix=prefix))


def label_export_open(*, job: Job) -> File:
    """The finished export's zip, open for reading.

    Raises:
        LabelExportNotReady: it has not succeeded, or storage has lost its file.
    """
    name = job.result.get("name") if job.status == JobStatus.SUCCEEDED else None
    if not name:
        raise LabelExportNotReady(job)
    try:
        return default_storage.open(f"{label_export_prefix(job)}/{name}", "rb")
    except FileNotFoundError:
        raise LabelExportNotReady(job) from None
