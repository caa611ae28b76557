"""Exports of model versions: starting one, giving one up, deleting one, and where its files are.

The export itself (the learning core: ONNX, OpenVINO, parity) is `inference.services.exporting`, run by
the export job in the workers; importing this module does not import torch: the web process uses it.

    queued ──job claims──▶ running ──parity passed──▶ ready
                              └──parity failed, not exportable, cancelled, given up──▶ failed
"""

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction

from annotations.services.storage import storage_tree_delete
from inference.models import ExportStatus, Job, JobKind, ModelExport, ModelVersion, ModelVersionStatus
from inference.services.jobs import job_create
from inference.services.versions import VersionNotReady

EXPORTABLE_ALGORITHMS = ("patchcore", "padim", "patchcore_ss")


class NotExportable(Exception):
    def __init__(self, version: ModelVersion) -> None:
        super().__init__(
            f"model {version.pk} is a {version.algorithm} model; only {', '.join(EXPORTABLE_ALGORITHMS)} "
            "models can be exported: train one of those to take the model out of Loupe"
        )


def version_exportable(version: ModelVersion) -> bool:
    """Whether the version can be exported now (see `export_check` for why not)."""
    return version.status == ModelVersionStatus.READY and version.algorithm in EXPORTABLE_ALGORITHMS


def export_check(*, version: ModelVersion) -> None:
    """Make sure the version can be exported.

    Raises:
        VersionNotReady: it is training or failed.
        NotExportable: its algorithm has no export.
    """
    if version.status != ModelVersionStatus.READY:
        raise VersionNotReady(version, "exported")
    if version.algorithm not in EXPORTABLE_ALGORITHMS:
        raise NotExportable(version)


def export_prefix(*, version: ModelVersion, export_id: int) -> str:
    """The storage folder of an export: inside its version's, so it is deleted with the version."""
    return f"{version.artifact_prefix}/exports/{export_id}"


@transaction.atomic
def export_start(*, version: ModelVersion, by: AbstractBaseUser | None) -> Job:
    """A queued export of a ready version and the export job that writes it.

    Raises:
        VersionNotReady, NotExportable: see `export_check`.
    """
    export_check(version=version)
    creator = by if by is not None and by.is_authenticated else None
    export = ModelExport.objects.create(model_version=version, created_by=creator)
    export.storage_prefix = export_prefix(version=version, export_id=export.pk)
    job = job_create(
        kind=JobKind.EXPORT,
        collection=version.collection,
        model_version=version,
        parameters={"export": export.pk},
        created_by=by,
    )
    export.job = job
    export.save(update_fields=["storage_prefix", "job"])
    return job


def export_abandon(*, export_id: int, reason: str) -> None:
    """An export whose job will not succeed: failed with the reason, its files removed (the parity
    figures it measured stay)."""
    export = ModelExport.objects.filter(pk=export_id).exclude(status=ExportStatus.READY).first()
    if export is None:
        return
    ModelExport.objects.filter(pk=export.pk).update(
        status=ExportStatus.FAILED, failure_reason=reason or "it was given up", files=[]
    )
    if export.storage_prefix:
        transaction.on_commit(lambda: storage_tree_delete(prefix=export.storage_prefix))


def export_delete(*, export: ModelExport) -> None:
    """Delete an export, and its files once committed."""
    with transaction.atomic():
        prefix = export.storage_prefix
        export.delete()
        if prefix:
            transaction.on_commit(lambda: storage_tree_delete(prefix=prefix))


class ExportFileNotFound(Exception):
    def __init__(self, export: ModelExport, name: str) -> None:
        listed = ", ".join(entry["name"] for entry in export.files) or "none: it is not ready"
        super().__init__(f"export {export.pk} has no file {name!r}; its files: {listed}")


def export_file_open(*, export: ModelExport, name: str) -> File:
    """One of the export's files, open for reading; only a file the export lists.

    Raises:
        ExportFileNotFound: the export does not list it, or storage has lost it.
    """
    if export.status != ExportStatus.READY or name not in {entry["name"] for entry in export.files}:
        raise ExportFileNotFound(export, name)
    try:
        return default_storage.open(f"{export.storage_prefix}/{name}", "rb")
    except FileNotFoundError:
        raise ExportFileNotFound(export, name) from None
