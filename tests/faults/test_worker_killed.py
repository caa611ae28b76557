"""A worker SIGKILLed during scoring and during an export: the job's lease runs out, the reaper gives
it to the next worker (scoring resumes, one prediction per image) or fails it with the reason at the
attempt cap (the export keeps no file). The worker kills its own process group at a known step
(`worker_dies`): a fast machine finished the job before a kill sent from outside could land."""

import signal

import pytest

from inference.models import ExportStatus, Job, JobKind, JobStatus, ModelExport, Prediction
from inference.services.exports import export_start
from inference.services.scoring_jobs import scoring_start
from inference.services.versions import training_start
from tests.inference.conftest import wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

SCORING = {**FAST_PARAMETERS, "image_size": 128}
DIES = ("--include", "tests.faults.worker_dies")


def _stored(media_root, prefix: str) -> list[str]:
    folder = media_root / prefix
    return (
        sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())
        if folder.exists()
        else []
    )


def test_a_worker_killed_while_scoring_then_while_exporting(celery_worker_process, team, media_root):
    made = synthetic_collection_fill(team.collection, train=60, test_normal=2, test_defective=2, size=128)
    worker = celery_worker_process()
    trained = wait_for_job(
        training_start(
            collection=team.collection, algorithm="patchcore", parameters=SCORING, score_after=False
        ).pk
    )
    assert trained.status == JobStatus.SUCCEEDED, trained.failure_reason
    version = trained.model_version
    images = 1 + sum(len(group) for group in made.values())

    # Scoring: killed once its first batch was committed; the next worker scores only the rest.
    worker.stop()
    worker = celery_worker_process(options=DIES, LOUPE_TEST_WORKER_DIES_AFTER="scoring-batch")
    score = scoring_start(version=version, by=None)
    assert worker.wait_exit() == -signal.SIGKILL
    assert Job.objects.get(pk=score.pk).status == JobStatus.RUNNING
    assert 0 < Prediction.objects.filter(model_version=version).count() < images
    worker = celery_worker_process()
    score = wait_for_job(score.pk)
    assert (score.status, score.attempts) == (JobStatus.SUCCEEDED, 2), score.failure_reason
    assert score.result["scored"] < images  # the second attempt resumed after the committed batch
    assert Prediction.objects.filter(model_version=version).count() == images
    heatmaps = list((media_root / "predictions").rglob("*.png"))
    assert len(heatmaps) == images  # one file per prediction: none left over from the killed attempt

    # Export, with one attempt allowed: killed while it traces and checks, it fails with the reason.
    worker.stop()
    worker = celery_worker_process(options=DIES, LOUPE_TEST_WORKER_DIES_AFTER="export-write")
    export_job = export_start(version=version, by=None)
    Job.objects.filter(pk=export_job.pk).update(max_attempts=1)
    assert worker.wait_exit() == -signal.SIGKILL
    assert Job.objects.get(pk=export_job.pk).status == JobStatus.RUNNING
    celery_worker_process()
    export_job = wait_for_job(export_job.pk)
    assert export_job.status == JobStatus.FAILED
    assert "stopped responding" in export_job.failure_reason and "attempt 1 of 1" in export_job.failure_reason
    export = ModelExport.objects.get(job=export_job)
    assert export.status == ExportStatus.FAILED and export.files == []
    assert "stopped responding" in export.failure_reason
    assert _stored(media_root, export.storage_prefix) == []
    assert not Job.objects.filter(kind=JobKind.EXPORT).exclude(pk=export_job.pk).exists()
