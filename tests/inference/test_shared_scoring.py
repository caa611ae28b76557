"""One scoring job shared by two real workers: its chunks are taken by both, and every image is scored
once; a helper that vanishes mid-chunk leaves its chunk to be finished by the job's holder."""

from pathlib import Path

import pytest

from inference.models import FINISHED, ChunkStatus, JobKind, JobStatus, Prediction, ScoreChunk
from inference.services.jobs import job_create, job_run
from inference.services.training import train_execute
from inference.services.versions import training_start
from tests.inference.conftest import wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CHUNK = 4
SHARED = ("--include", "tests.inference.chunk_waits")


def _trained_version(collection):
    synthetic_collection_fill(collection, train=8, test_normal=2, test_defective=2)
    training = training_start(
        collection=collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
    )
    job_run(job_id=training.pk, work=train_execute)  # here, so both workers start on a ready model
    training.refresh_from_db()
    assert training.status == JobStatus.SUCCEEDED, training.failure_reason
    return training.model_version


def test_two_workers_share_one_scoring_job_and_score_each_image_once(
    celery_worker_process, team, media_root, job_settings
):
    version = _trained_version(team.collection)
    synthetic_collection_fill(team.collection, train=22, test_normal=0, test_defective=0, seed=1)
    unscored = team.collection.images.exclude(predictions__model_version=version).count()
    assert unscored >= 6 * CHUNK
    for _ in range(2):
        celery_worker_process(options=SHARED, LOUPE_SCORE_CHUNK_IMAGES=str(CHUNK))

    job = wait_for_job(
        job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version).pk, timeout=240
    )

    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    chunks = list(ScoreChunk.objects.filter(job=job).order_by("number"))
    assert all(chunk.status == ChunkStatus.DONE for chunk in chunks)
    assert [chunk.images for chunk in chunks[:-1]] == [CHUNK] * (len(chunks) - 1)
    assert all(a.last_image_id < b.first_image_id for a, b in zip(chunks, chunks[1:], strict=False))
    # Each image written once: the chunks' counts of what they wrote sum to the images there were.
    assert sum(chunk.scored for chunk in chunks) == unscored == job.result["scored"]
    processes = {chunk.owner.rsplit(":", 1)[0] for chunk in chunks}
    assert len(processes) == 2 == job.result["workers"]
    images = team.collection.images.count()
    assert Prediction.objects.filter(model_version=version).count() == images
    assert len(list(Path(media_root, "predictions").rglob("*.png"))) == images


def test_a_helper_killed_mid_chunk_leaves_the_rest_of_it_to_another_worker(
    celery_worker_process, team, media_root, job_settings
):
    version = _trained_version(team.collection)
    synthetic_collection_fill(team.collection, train=50, test_normal=0, test_defective=0, seed=2)
    unscored = team.collection.images.exclude(predictions__model_version=version).count()
    chunk_images = 20  # more than a batch (16): the killed worker leaves its chunk half-scored
    celery_worker_process(options=SHARED, LOUPE_SCORE_CHUNK_IMAGES=str(chunk_images))
    doomed = celery_worker_process(
        options=("--include", "tests.inference.chunk_waits,tests.faults.worker_dies"),
        LOUPE_SCORE_CHUNK_IMAGES=str(chunk_images),
        LOUPE_TEST_WORKER_DIES_AFTER="scoring-batch",
    )

    job = wait_for_job(
        job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version).pk, timeout=240
    )

    assert doomed.wait_exit(timeout=10) != 0
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    chunks = list(ScoreChunk.objects.filter(job=job))
    assert all(chunk.status == ChunkStatus.DONE for chunk in chunks)
    assert max(chunk.attempts for chunk in chunks) == 2  # the killed worker's chunk, taken over
    assert sum(chunk.scored for chunk in chunks) == unscored == job.result["scored"]
    assert Prediction.objects.filter(model_version=version).count() == team.collection.images.count()


def test_two_workers_on_their_own_queues_train_one_collection_while_scoring_another(
    celery_worker_process, team, other_team, media_root, job_settings, tmp_path
):
    version = _trained_version(other_team.collection)
    synthetic_collection_fill(other_team.collection, train=12, test_normal=0, test_defective=0, seed=3)
    synthetic_collection_fill(team.collection, train=8, test_normal=2, test_defective=2)
    gate = tmp_path / "gate"
    gate.mkdir()
    # The trainer serves only the gpu queue and holds its training after the fit until told.
    celery_worker_process(
        options=("--queues", "gpu", "--include", "tests.faults.worker_waits"),
        LOUPE_TEST_WORKER_GATE=str(gate),
    )
    training = training_start(
        collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
    )
    wait_for_job(training.pk, until=lambda job: (gate / "reached").exists() or job.status in FINISHED)
    assert (gate / "reached").exists(), "the training did not reach its gate"
    celery_worker_process(options=("--queues", "gpu,default"))

    scoring = wait_for_job(
        job_create(kind=JobKind.SCORE, collection=other_team.collection, model_version=version).pk
    )
    assert scoring.status == JobStatus.SUCCEEDED, scoring.failure_reason
    training.refresh_from_db()
    assert training.status == JobStatus.RUNNING  # the other collection was scored while it trained
    (gate / "go").touch()
    assert wait_for_job(training.pk).status == JobStatus.SUCCEEDED
    assert scoring.result["scored"] == other_team.collection.images.exclude(split="test").count()
