"""A scoring job's chunks without a worker: planning, claims, leases, and a job whose chunk ran out of
attempts; and helpers of a shared job."""

from datetime import timedelta

import pytest
from django.utils import timezone

from inference.models import ChunkStatus, Job, JobKind, JobStatus, ScoreChunk
from inference.services.job_shares import job_share_run, share_request
from inference.services.jobs import LeaseLost, job_claim, job_create, job_run
from inference.services.score_chunks import (
    ChunkLost,
    chunk_claim,
    chunk_finish,
    chunk_heartbeat,
    chunk_held,
    chunk_hold_check,
    chunks_plan,
    chunks_progress,
)
from inference.services.scoring import score_execute
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version


@pytest.fixture
def job(team, sent):
    job = job_create(kind=JobKind.SCORE, collection=team.collection)
    assert job_claim(job_id=job.pk, owner="holder") is not None
    job.refresh_from_db()
    return job


def _expire(chunk: ScoreChunk) -> None:
    ScoreChunk.objects.filter(pk=chunk.pk).update(lease_expires_at=timezone.now() - timedelta(seconds=1))


def test_ids_are_cut_into_ranges_numbered_after_the_last(job):
    chunks_plan(job=job, image_ids=iter(range(10, 20)), size=4)
    chunks_plan(job=job, image_ids=[40, 41], size=4)
    planned = list(
        ScoreChunk.objects.filter(job=job).values_list("number", "first_image_id", "last_image_id")
    )
    assert planned == [(0, 10, 13), (1, 14, 17), (2, 18, 19), (3, 40, 41)]
    progress = chunks_progress(job=job)
    assert (progress.chunks, progress.done, progress.images, progress.scored) == (4, 0, 12, 0)
    assert not progress.finished


def test_each_chunk_is_taken_by_one_worker_until_its_lease_ends(job):
    chunks_plan(job=job, image_ids=range(1, 9), size=4)
    first, second = chunk_claim(job=job, owner="a"), chunk_claim(job=job, owner="b")
    assert (first.number, second.number) == (0, 1)
    assert chunk_claim(job=job, owner="c") is None  # both held
    chunk_heartbeat(chunk=second, owner="b")
    _expire(second)
    taken = chunk_claim(job=job, owner="c")
    assert (taken.number, taken.owner, taken.attempts) == (1, "c", 2)
    for lost in (chunk_heartbeat, chunk_hold_check, chunk_finish):
        with pytest.raises(ChunkLost):
            lost(chunk=second, owner="b")  # it is c's now: b may neither renew, write nor finish it
    chunk_finish(chunk=first, owner="a")
    chunk_finish(chunk=taken, owner="c")
    done = chunks_progress(job=job)
    assert done.finished and done.workers == 2  # "a" and "c", each a process of its own here


def test_a_chunk_of_a_job_that_no_longer_runs_is_lost(job):
    chunks_plan(job=job, image_ids=[1, 2], size=4)
    chunk = chunk_claim(job=job, owner="a")
    Job.objects.filter(pk=job.pk).update(cancel_requested=True)
    assert chunk_heartbeat(chunk=chunk, owner="a").cancel_requested
    Job.objects.filter(pk=job.pk).update(status=JobStatus.CANCELLED)
    with pytest.raises(LeaseLost):
        chunk_heartbeat(chunk=chunk, owner="a")


def test_a_chunk_whose_workers_kept_vanishing_fails_its_job_with_the_images_named(team, sent):
    image = add_image(team.collection, "new.png", seed=2)
    version = scored_version(team.collection, {})
    job = job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    ScoreChunk.objects.create(
        job=job,
        number=0,
        first_image_id=image.pk,
        last_image_id=image.pk,
        images=1,
        status=ChunkStatus.RUNNING,
        owner="gone",
        lease_expires_at=timezone.now() - timedelta(seconds=1),
        attempts=job.max_attempts,
    )
    job_run(job_id=job.pk, work=score_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert f"images {image.pk} to {image.pk} could not be scored" in job.failure_reason
    assert "stopped 3 times" in job.failure_reason


def test_helpers_are_asked_for_and_do_nothing_once_the_job_has_ended(
    job, sent, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        share_request(job=job, count=2)
    assert sent[-2:] == [(job.pk, "inference.score_share")] * 2
    helped = []
    job_share_run(job_id=job.pk, work=lambda context: helped.append(context.running()))
    Job.objects.filter(pk=job.pk).update(status=JobStatus.SUCCEEDED)
    job_share_run(job_id=job.pk, work=lambda context: helped.append("late"))
    job_share_run(job_id=job.pk + 1000, work=lambda context: helped.append("unknown"))
    assert helped == [True]


def test_a_helper_that_fails_gives_its_chunk_back_at_once_and_does_not_raise(job):
    chunks_plan(job=job, image_ids=[1, 2], size=4)

    def broken(context):
        chunk = chunk_claim(job=job, owner=context.owner)
        with chunk_held(chunk=chunk, owner=context.owner):
            raise RuntimeError("the disk is full")

    job_share_run(job_id=job.pk, work=broken)  # logged, not raised
    (chunk,) = ScoreChunk.objects.filter(job=job)
    assert (chunk.status, chunk.owner, chunk.lease_expires_at, chunk.attempts) == (
        ChunkStatus.PENDING,
        "",
        None,
        1,
    )
    assert chunk_claim(job=job, owner="holder").number == 0  # the job's holder takes it without waiting
