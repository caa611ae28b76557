"""The kinds of background job, each declared once: its Celery task and queue, the work it does, who
may start it, and what is undone when it is given up. Registered at start-up (`InferenceConfig.ready`);
`inference.tasks` defines one task per kind from here.
"""

from annotations.models import Role
from inference.models import Job, JobKind
from inference.services.dataset_imports import import_abandon
from inference.services.exports import export_abandon
from inference.services.jobs import JobKindSpec, job_kind_register
from inference.services.label_exports import label_export_abandon
from inference.services.versions import model_version_abandon


def _training_abandon(job: Job) -> None:
    """A training that will not finish leaves a failed version and no files."""
    if job.model_version_id:
        model_version_abandon(version_id=job.model_version_id)


def _export_abandon(job: Job) -> None:
    """An export that will not finish is failed with its job's reason, and keeps no files."""
    if job.parameters.get("export"):
        export_abandon(export_id=job.parameters["export"], reason=job.failure_reason or job.message)


JOB_KINDS = (
    JobKindSpec(
        kind=JobKind.TRAIN,
        task="inference.train",
        queue="gpu",
        work="inference.services.training.train_execute",
        start_role=Role.MANAGER,
        abandon=_training_abandon,
    ),
    JobKindSpec(
        kind=JobKind.SCORE,
        task="inference.score",
        queue="gpu",
        work="inference.services.scoring.score_execute",
        start_role=Role.REVIEWER,
        share="inference.services.scoring.score_share",
    ),
    # Evaluation loads a model and predicts: the accelerator's work, like scoring.
    JobKindSpec(
        kind=JobKind.EVALUATE,
        task="inference.evaluate",
        queue="gpu",
        work="inference.services.evaluation.evaluate_execute",
        start_role=Role.REVIEWER,
    ),
    # Tracing, converting and checking a model on images: the accelerator's work when it has one.
    JobKindSpec(
        kind=JobKind.EXPORT,
        task="inference.export",
        queue="gpu",
        work="inference.services.exporting.export_execute",
        start_role=Role.MANAGER,
        abandon=_export_abandon,
        reads_only=True,
    ),
    # Copying, extracting and ingesting an upload: no model involved. Started by its own route
    # (POST /api/v1/collections/{id}/imports/, annotators and above), which stages the files first.
    JobKindSpec(
        kind=JobKind.IMPORT,
        task="inference.import",
        queue="default",
        work="inference.services.dataset_imports.import_execute",
        abandon=import_abandon,
    ),
    # Writing a collection's images and labels to a zip: no model involved. Started by its own route
    # (POST /api/v1/collections/{id}/label-exports/, any member), which names the format.
    JobKindSpec(
        kind=JobKind.LABEL_EXPORT,
        task="inference.label_export",
        queue="default",
        work="inference.services.label_exports.label_export_execute",
        abandon=label_export_abandon,
        reads_only=True,
    ),
    # Re-ranking the review queue and starting a due retraining: queued by decisions, never in a request.
    JobKindSpec(
        kind=JobKind.RANK,
        task="inference.rank",
        queue="default",
        work="inference.services.reviews.review_followup_execute",
    ),
)


def job_kinds_register() -> None:
    for spec in JOB_KINDS:
        job_kind_register(spec)
