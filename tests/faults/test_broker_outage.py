"""Redis (the broker) stopped while jobs are queued and running, then started again, empty: every job
ends accounted for and runs once, the web answers during the outage and sends again after it."""

import time

import pytest

from inference.models import Job, JobStatus, ModelVersionStatus
from inference.services.versions import training_start
from tests.annotations.api.helpers import API
from tests.faults.conftest import OUTAGE_SECONDS
from tests.inference.conftest import wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

# The first training holds after its fit until the test says go, so the broker goes down while it runs.
WAITS = ("--include", "tests.faults.worker_waits")


def _train(collection, *, score_after=False) -> Job:
    return training_start(
        collection=collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=score_after
    )


def test_jobs_queued_and_running_through_a_broker_outage_all_run_once(
    celery_worker_process, own_redis, team, api_client, tmp_path
):
    synthetic_collection_fill(team.collection, train=30, test_normal=2, test_defective=2, size=128)
    gate = tmp_path / "gate"
    gate.mkdir()
    worker = celery_worker_process(
        options=WAITS, CELERY_BROKER_URL=own_redis.url, LOUPE_TEST_WORKER_GATE=str(gate)
    )
    running = _train(team.collection, score_after=True)  # its scoring job is made when it ends
    waiting = [_train(team.collection) for _ in range(2)]  # their messages die with the broker
    deadline = time.monotonic() + 120
    while not (gate / "reached").exists():
        assert time.monotonic() < deadline, worker.output()  # the first training never ended its fit
        time.sleep(0.1)

    own_redis.stop()
    down_since = time.monotonic()
    api_client.force_authenticate(team.manager)
    body = {
        "kind": "train",
        "collection": team.collection.pk,
        "parameters": FAST_PARAMETERS,
        "score_after": False,
    }
    response = api_client.post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 202, response.content
    during = Job.objects.get(pk=response.json()["id"])
    assert (during.status, during.enqueued_at) == (JobStatus.QUEUED, None)
    assert "broker is not answering" in during.message
    assert api_client.get(f"{API}/jobs/{during.pk}/").json()["status"] == "queued"
    time.sleep(max(0.0, OUTAGE_SECONDS - (time.monotonic() - down_since)))

    own_redis.start()
    assert Job.objects.get(pk=running.pk).status == JobStatus.RUNNING  # it ran through the outage
    (gate / "go").touch()
    response = api_client.post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 202, response.content
    after = Job.objects.get(pk=response.json()["id"])
    assert after.enqueued_at is not None, after.message  # the web's next send reached the new broker

    expected = {running.pk, *(job.pk for job in waiting), during.pk, after.pk}
    for job_id in expected:
        wait_for_job(job_id, timeout=180)
    jobs = list(Job.objects.filter(collection=team.collection))
    assert {job.pk for job in jobs if job.kind == "train"} == expected
    assert len(jobs) == len(expected) + 1  # and the scoring that the first training asked for
    score = wait_for_job(next(job.pk for job in jobs if job.kind == "score"), timeout=120)
    for job in [*jobs, score]:
        job.refresh_from_db()
        # One claim each: no job ran twice, though some had their message sent more than once.
        assert (job.status, job.attempts) == (JobStatus.SUCCEEDED, 1), (job.pk, job.failure_reason)
        if job.kind == "train":
            assert job.model_version.status == ModelVersionStatus.READY
    assert "sent the queued jobs again" in worker.output()
