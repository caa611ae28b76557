"""Jobs on a real Celery worker subprocess: train, score, a worker killed mid-job, duplicate messages."""

import io
import time
from datetime import timedelta

import pytest
from django.utils import timezone
from PIL import Image as PILImage

from inference.models import Job, JobKind, JobStatus, ModelVersion, ModelVersionStatus, Prediction
from inference.services import jobs
from inference.services.jobs import job_create
from inference.services.versions import training_start
from tests.annotations.api.helpers import API, results
from tests.inference.conftest import _purge_queues, wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _score_job(version) -> Job:
    return Job.objects.get(kind=JobKind.SCORE, model_version=version)


def test_train_score_and_read_heatmaps_over_the_api(celery_worker_process, team, media_root, api_client):
    made = synthetic_collection_fill(team.collection)
    celery_worker_process()
    api_client.force_authenticate(team.manager)
    response = api_client.post(
        f"{API}/jobs/",
        {"kind": "train", "collection": team.collection.pk, "parameters": FAST_PARAMETERS},
        format="json",
    )
    assert response.status_code == 202, response.content
    job_id = response.json()["id"]
    seen = set()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        body = api_client.get(f"{API}/jobs/{job_id}/").json()
        seen.add(body["status"])
        if body["status"] in ("succeeded", "failed", "cancelled"):
            break
        time.sleep(0.2)
    assert body["status"] == "succeeded", body
    assert body["progress"] == 1.0 and "running" in seen
    version = ModelVersion.objects.get(pk=body["model_version"])
    assert version.status == ModelVersionStatus.READY
    assert version.metrics["image_auroc"] > 0.7
    assert {"pixel_auroc", "aupro", "f1_max"} <= set(version.metrics)
    assert version.threshold_method == "f1_max"
    assert sorted(p.name for p in (media_root / version.artifact_prefix).iterdir()) == [
        "model.json",
        "model.safetensors",
    ]
    score = wait_for_job(_score_job(version).pk)
    assert score.status == JobStatus.SUCCEEDED, score.failure_reason
    images = team.collection.images.count()
    assert images == 1 + sum(len(group) for group in made.values())

    predictions = results(
        api_client.get(f"{API}/predictions/", {"model_version": version.pk, "page_size": 100})
    )
    assert len(predictions) == images
    defect = made["test_defective"][0]
    prediction = next(p for p in predictions if p["image"] == defect.pk)
    assert 0 <= prediction["normalized_score"] <= 1
    heatmap = api_client.get(prediction["heatmap"])
    assert heatmap.status_code == 200 and heatmap["Content-Type"] == "image/png"
    with PILImage.open(io.BytesIO(b"".join(heatmap.streaming_content))) as picture:
        assert (picture.mode, picture.size) == ("L", (defect.width, defect.height))
    overlay = api_client.get(f"{API}/model-versions/{version.pk}/images/{defect.pk}/overlay/?opacity=0.6")
    assert overlay.status_code == 200 and overlay["Cache-Control"].startswith("private")
    with PILImage.open(io.BytesIO(overlay.content)) as picture:
        assert (picture.mode, picture.size) == ("RGB", (defect.width, defect.height))
    again = api_client.get(
        f"{API}/model-versions/{version.pk}/images/{defect.pk}/overlay/?opacity=0.6",
        HTTP_IF_NONE_MATCH=overlay["ETag"],
    )
    assert again.status_code == 304


def _artifact_files(media_root) -> list[str]:
    models = media_root / "models"
    return (
        sorted(str(p.relative_to(media_root)) for p in models.rglob("*") if p.is_file())
        if models.exists()
        else []
    )


# Long enough (several heartbeats) that a test can act while the fit is under way.
LONG_TRAINING = {**FAST_PARAMETERS, "image_size": 192, "coreset_ratio": 0.5}


def test_a_worker_killed_mid_training_neither_sticks_nor_runs_twice(celery_worker_process, team, media_root):
    synthetic_collection_fill(team.collection, train=60, test_normal=2, test_defective=2, size=192)
    first = celery_worker_process()
    job = training_start(
        collection=team.collection,
        algorithm="patchcore",
        parameters=LONG_TRAINING,
        score_after=False,
    )
    running = wait_for_job(
        job.pk, until=lambda j: j.status == JobStatus.RUNNING and j.message.startswith("fit")
    )
    first.kill()
    owner = running.lease_owner
    assert Job.objects.get(pk=job.pk).status == JobStatus.RUNNING  # until its lease runs out

    celery_worker_process()
    job = wait_for_job(job.pk)
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert job.attempts == 2 and owner != "" and "requeued" not in job.failure_reason
    version = ModelVersion.objects.get(collection=team.collection)
    assert version.status == ModelVersionStatus.READY
    assert _artifact_files(media_root) == [
        f"{version.artifact_prefix}/model.json",
        f"{version.artifact_prefix}/model.safetensors",
    ]


def test_jobs_whose_worker_vanished_before_starting(celery_worker_process, team, media_root):
    """A job claimed by a worker that died before doing anything is run again, or failed with the
    reason once out of attempts; a queued job whose message was lost is sent again."""
    synthetic_collection_fill(team.collection, train=8, test_normal=2, test_defective=2)
    jobs = [
        training_start(
            collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
        )
        for _ in range(3)
    ]
    _purge_queues()  # their messages went with the vanished worker
    gone = timezone.now() - timedelta(seconds=1)
    retried, spent, lost = jobs
    Job.objects.filter(pk=retried.pk).update(
        status=JobStatus.RUNNING, lease_owner="vanished", lease_expires_at=gone, attempts=1
    )
    Job.objects.filter(pk=spent.pk).update(
        status=JobStatus.RUNNING, lease_owner="vanished", lease_expires_at=gone, attempts=1, max_attempts=1
    )
    Job.objects.filter(pk=lost.pk).update(enqueued_at=gone - timedelta(minutes=1))

    celery_worker_process(LOUPE_JOB_REQUEUE_SECONDS="5")
    retried, spent, lost = (wait_for_job(job.pk) for job in jobs)
    assert (retried.status, retried.attempts) == (JobStatus.SUCCEEDED, 2)
    assert (lost.status, lost.attempts) == (JobStatus.SUCCEEDED, 1)
    assert spent.status == JobStatus.FAILED
    assert "stopped responding" in spent.failure_reason and "attempt 1 of 1" in spent.failure_reason
    assert spent.model_version.status == ModelVersionStatus.FAILED
    assert _artifact_files(media_root) == sorted(
        f"{job.model_version.artifact_prefix}/{name}"
        for job in (retried, lost)
        for name in ("model.json", "model.safetensors")
    )


def test_the_same_scoring_message_twice_leaves_one_prediction_per_image(
    celery_worker_process, team, media_root
):
    synthetic_collection_fill(team.collection, train=8, test_normal=2, test_defective=2)
    worker = celery_worker_process()
    trained = wait_for_job(
        training_start(
            collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
        ).pk
    )
    version = trained.model_version
    score = job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    jobs._send(score.pk, JobKind.SCORE)  # delivered twice
    assert wait_for_job(score.pk).status == JobStatus.SUCCEEDED
    deadline = time.monotonic() + 30
    while (
        worker.output().count("inference.score[") < 4 and time.monotonic() < deadline
    ):  # received+done twice
        time.sleep(0.2)
    assert "nothing to claim" in worker.output()
    # A late redelivery after the job was made claimable again (say, a reaped lease) redoes it in place.
    Job.objects.filter(pk=score.pk).update(status=JobStatus.QUEUED)
    Prediction.objects.filter(model_version=version, image=team.image).delete()
    jobs._send(score.pk, JobKind.SCORE)
    assert wait_for_job(score.pk).status == JobStatus.SUCCEEDED
    images = team.collection.images.count()
    assert Prediction.objects.filter(model_version=version).count() == images
    heatmaps = list((media_root / "predictions").rglob("*.png"))
    assert len(heatmaps) == images


def test_cancel_stops_a_running_training(celery_worker_process, team, media_root, api_client):
    synthetic_collection_fill(team.collection, train=60, test_normal=2, test_defective=2, size=192)
    celery_worker_process()
    job = training_start(
        collection=team.collection,
        algorithm="patchcore",
        parameters=LONG_TRAINING,
        score_after=False,
    )
    wait_for_job(job.pk, until=lambda j: j.status == JobStatus.RUNNING and j.message.startswith("fit"))
    api_client.force_authenticate(team.reviewer)
    assert api_client.post(f"{API}/jobs/{job.pk}/cancel/").status_code == 403  # training is a manager's
    api_client.force_authenticate(team.manager)
    response = api_client.post(f"{API}/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["cancel_requested"]
    job = wait_for_job(job.pk, timeout=30)
    assert job.status == JobStatus.CANCELLED
    assert job.model_version.status == ModelVersionStatus.FAILED
    assert _artifact_files(media_root) == []
