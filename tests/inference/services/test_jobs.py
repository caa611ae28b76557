"""The job state machine, without a worker: claim, heartbeat, cancel, the reaper."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import Job, JobKind, JobStatus, ModelVersionStatus, SnapshotRole
from inference.services import jobs
from inference.services.jobs import (
    JobCancelled,
    JobNotCancellable,
    LeaseLost,
    job_cancel,
    job_claim,
    job_create,
    job_heartbeat,
    job_run,
    jobs_reap_stale,
)
from inference.services.versions import NothingToTrainOn, training_start
from tests.inference.helpers import synthetic_collection_fill


def _job(team, **fields) -> Job:
    job = job_create(kind=JobKind.SCORE, collection=team.collection)
    Job.objects.filter(pk=job.pk).update(**fields)
    job.refresh_from_db()
    return job


def test_a_job_is_sent_once_its_transaction_commits(team, sent, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        job = job_create(kind=JobKind.SCORE, collection=team.collection)
        assert sent == []
    assert sent == [(job.pk, "score")]
    assert job.status == JobStatus.QUEUED


def test_only_one_claim_wins(team, sent):
    job = _job(team)
    assert job_claim(job_id=job.pk, owner="a") is not None
    assert job_claim(job_id=job.pk, owner="b") is None
    job.refresh_from_db()
    assert (job.status, job.lease_owner, job.attempts) == (JobStatus.RUNNING, "a", 1)


def test_a_finished_job_is_not_claimed_again(team, sent):
    job = _job(team, status=JobStatus.SUCCEEDED)
    assert job_claim(job_id=job.pk, owner="a") is None


def test_an_expired_lease_can_be_claimed_with_attempts_left(team, sent):
    past = timezone.now() - timedelta(seconds=1)
    job = _job(team, status=JobStatus.RUNNING, lease_owner="gone", lease_expires_at=past, attempts=1)
    assert job_claim(job_id=job.pk, owner="b").attempts == 2
    spent = _job(team, status=JobStatus.RUNNING, lease_owner="gone", lease_expires_at=past, attempts=3)
    assert job_claim(job_id=spent.pk, owner="b") is None


def test_heartbeat_renews_and_reports_cancellation(team, sent):
    job = _job(team)
    job_claim(job_id=job.pk, owner="a")
    assert not job_heartbeat(job_id=job.pk, owner="a", progress=0.5, message="half").cancel_requested
    job_cancel(job=job)
    assert job_heartbeat(job_id=job.pk, owner="a").cancel_requested
    job.refresh_from_db()
    assert (job.progress, job.status) == (0.5, JobStatus.RUNNING)
    with pytest.raises(LeaseLost):
        job_heartbeat(job_id=job.pk, owner="b")


def test_cancel_a_queued_job_at_once_and_a_finished_one_not_at_all(team, sent):
    job = job_cancel(job=_job(team))
    assert job.status == JobStatus.CANCELLED
    with pytest.raises(JobNotCancellable):
        job_cancel(job=job)


def test_reaper_requeues_then_gives_up_with_a_reason(team, sent, django_capture_on_commit_callbacks):
    past = timezone.now() - timedelta(seconds=1)
    retry = _job(team, status=JobStatus.RUNNING, lease_owner="gone", lease_expires_at=past, attempts=1)
    spent = _job(team, status=JobStatus.RUNNING, lease_owner="gone", lease_expires_at=past, attempts=3)
    live = _job(
        team, status=JobStatus.RUNNING, lease_owner="alive", lease_expires_at=past + timedelta(hours=1)
    )
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        report = jobs_reap_stale()
    assert (report.requeued, report.failed) == ([retry.pk], [spent.pk])
    assert sent == [(retry.pk, "score")]
    retry.refresh_from_db(), spent.refresh_from_db(), live.refresh_from_db()
    assert retry.status == JobStatus.QUEUED and retry.lease_owner == ""
    assert spent.status == JobStatus.FAILED and "stopped responding" in spent.failure_reason
    assert live.status == JobStatus.RUNNING


def test_reaper_resends_a_queued_job_nobody_started(team, sent, settings, django_capture_on_commit_callbacks):
    settings.LOUPE_JOB_REQUEUE_SECONDS = 60
    old = _job(team, enqueued_at=timezone.now() - timedelta(minutes=5))
    _job(team)
    sent.clear()
    with django_capture_on_commit_callbacks(execute=True):
        assert jobs_reap_stale().resent == [old.pk]
    assert sent == [(old.pk, "score")]


def test_a_failing_job_records_why(team, sent):
    job = _job(team)

    def work(context):
        raise ValueError("no images at all")

    job_run(job_id=job.pk, work=work)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert job.failure_reason == "ValueError: no images at all"


def test_a_cancelled_training_leaves_a_failed_version(team, sent):
    synthetic_collection_fill(team.collection, train=2, test_normal=0, test_defective=0)
    job = training_start(collection=team.collection, algorithm="patchcore")

    def work(context):
        raise JobCancelled()

    job_run(job_id=job.pk, work=work)
    job.refresh_from_db()
    assert job.status == JobStatus.CANCELLED
    assert job.model_version.status == ModelVersionStatus.FAILED


def test_training_needs_training_images(team, sent):
    with pytest.raises(NothingToTrainOn, match="no training images"):
        training_start(collection=team.collection, algorithm="patchcore")


def test_training_freezes_its_data_snapshot(team, sent):
    made = synthetic_collection_fill(team.collection, train=3, test_normal=1, test_defective=1)
    version = training_start(collection=team.collection, algorithm="patchcore").model_version
    rows = version.snapshot.images.order_by("role", "image_id")
    assert [(row.role, row.image_id, row.annotation_version) for row in rows] == [
        *((SnapshotRole.TEST, image.pk, 1) for image in made["test_normal"] + made["test_defective"]),
        *((SnapshotRole.TRAIN, image.pk, 0) for image in made["train"]),
    ]
    assert version.artifact_prefix == f"models/{team.collection.pk}/{version.pk}"


def test_a_worker_that_lost_its_lease_writes_nothing(team, sent):
    job = _job(team)
    job_claim(job_id=job.pk, owner="old")
    Job.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))
    assert job_claim(job_id=job.pk, owner="new") is not None  # the reaper or a redelivery gave it away
    with pytest.raises(LeaseLost):
        jobs.job_complete(job_id=job.pk, owner="old", result={"by": "old"})
    with pytest.raises(LeaseLost):
        jobs.job_hold_check(job_id=job.pk, owner="old")
    jobs.job_complete(job_id=job.pk, owner="new", result={"by": "new"})
    job.refresh_from_db()
    assert (job.status, job.result, job.attempts) == (JobStatus.SUCCEEDED, {"by": "new"}, 2)
