"""PostgreSQL restarted, and every connection of the web and a worker cut again and again, under load:
requests during it answer (503 while the database is away, never a 500 or a hang), none fails after
it, and the jobs end accounted for.

While a real web server (gunicorn, with the settings' CONN_MAX_AGE and CONN_HEALTH_CHECKS) serves
requests and a real worker trains, the test terminates every backend of its own test database
(`pg_terminate_backend`: each kept connection dies at once) each second, and half-way through
restarts the server itself (`pg_ctlcluster … restart`: connections die and new ones are refused
until it is back). The restart is of the machine's server, so it happens only where
`LOUPE_FAULT_RESTART_POSTGRES=1` says that is allowed (CI); elsewhere the cuts alone run."""

import os
import subprocess
import threading
import time
from collections import Counter

import psycopg
import pytest
import requests
from django.db import connection
from rest_framework.authtoken.models import Token

from inference.load import database_url
from inference.models import Job, JobStatus
from inference.services.versions import training_start
from tests.faults.conftest import _free_port, fault_tool_require
from tests.inference.conftest import REPO, wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

LONGER = {**FAST_PARAMETERS, "image_size": 128, "coreset_ratio": 0.5}
RESTART = os.environ.get("LOUPE_FAULT_RESTART_POSTGRES") == "1"
CUT_SECONDS = 10  # cuts each second; the restart half-way


def _terminate_backends(database: str, spare: int) -> int:
    """Cut every connection to `database` but `spare`'s; how many were cut."""
    db = connection.settings_dict
    with psycopg.connect(
        host=db["HOST"] or "localhost", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres"
    ) as admin:
        rows = admin.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> %s",
            [database, spare],
        ).fetchall()
    return len(rows)


def _server_restart() -> float:
    """Restart the PostgreSQL cluster this test's database lives on (fast: open connections are cut);
    the seconds it took."""
    port = str(connection.settings_dict["PORT"] or 5432)
    fault_tool_require("pg_ctlcluster")
    clusters = subprocess.run(
        ["pg_lsclusters", "--no-header"], capture_output=True, text=True, check=True
    ).stdout.split("\n")
    version, name = next(line.split()[:2] for line in clusters if line.split()[2:3] == [port])
    started = time.monotonic()
    subprocess.run(
        ["pg_ctlcluster", "--skip-systemctl-redirect", version, name, "restart", "-m", "fast"],
        check=True,
        timeout=120,
    )
    return time.monotonic() - started


@pytest.fixture
def web_server(transactional_db, broker_dir, media_root, tmp_path):
    """gunicorn serving the test database, like production (2 threads, kept connections)."""
    if connection.vendor != "postgresql":
        pytest.skip("the fault is PostgreSQL's (SQLite keeps no server connection): set DATABASE_URL")
    port = _free_port()
    log = (tmp_path / "gunicorn.log").open("wb")
    env = {**os.environ, "DATABASE_URL": database_url(), "LOUPE_VAR_DIR": str(broker_dir)}
    env["MEDIA_ROOT"] = str(media_root)
    process = subprocess.Popen(
        [os.sys.executable, "-m", "gunicorn", "config.wsgi", "-b", f"127.0.0.1:{port}"]
        + ["--workers", "1", "--threads", "2", "--timeout", "120"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base}/api/v1/", timeout=60)
            break
        except requests.ConnectionError:
            time.sleep(0.3)
    yield base
    process.terminate()
    process.wait(timeout=30)
    log.close()


def test_connections_cut_under_load_answer_then_recover(celery_worker_process, web_server, team):
    synthetic_collection_fill(team.collection, train=20, test_normal=2, test_defective=2, size=128)
    celery_worker_process()
    session = requests.Session()
    session.headers["Authorization"] = f"Token {Token.objects.create(user=team.manager).key}"
    annotation_url = f"{web_server}/api/v1/images/{team.image.pk}/annotation/"
    jobs_url = f"{web_server}/api/v1/jobs/"
    assert session.get(annotation_url, timeout=60).status_code == 200  # the web is warm

    def load(statuses: Counter, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                etag = session.get(annotation_url, timeout=30)
                statuses[etag.status_code] += 1
                if etag.status_code == 200:
                    edit = session.patch(
                        annotation_url, json={"verdict": "normal"}, headers={"If-Match": etag.headers["ETag"]}
                    )
                    statuses[edit.status_code] += 1
                statuses[session.get(jobs_url, timeout=30).status_code] += 1
            except requests.RequestException as error:  # a hang or a dropped connection
                statuses[type(error).__name__] += 1

    job = training_start(
        collection=team.collection, algorithm="patchcore", parameters=LONGER, score_after=False
    )
    wait_for_job(job.pk, until=lambda j: j.status == JobStatus.RUNNING)
    during: Counter = Counter()
    stop = threading.Event()
    threads = [threading.Thread(target=load, args=(during, stop)) for _ in range(2)]
    for thread in threads:
        thread.start()
    database = connection.settings_dict["NAME"]
    cuts, restarted = [], None
    started = time.monotonic()
    while time.monotonic() < started + CUT_SECONDS:
        if RESTART and restarted is None and time.monotonic() > started + CUT_SECONDS / 2:
            restarted = _server_restart()
        connection.close()  # the test's own connection is spared, whichever it is now
        cuts.append(_terminate_backends(database, connection.cursor().connection.info.backend_pid))
        time.sleep(1.0)
    stop.set()
    for thread in threads:
        thread.join(timeout=60)
    assert len(cuts) >= 5 and sum(cuts) > len(cuts), cuts  # the web's and the worker's were cut
    # Every request answered, none hung; while the database was away, 503 (try again), never a 500.
    assert set(during) <= {200, 412, 503}, during
    if RESTART:
        assert during[503] > 0, during  # the restart was seen

    # After: every request succeeds on the connections the web keeps (CONN_HEALTH_CHECKS).
    after: Counter = Counter()
    for _ in range(20):
        after[session.get(annotation_url, timeout=30).status_code] += 1
        after[session.get(jobs_url, timeout=30).status_code] += 1
    assert after == Counter({200: 40}), after

    job = wait_for_job(job.pk, timeout=180)
    assert job.status == JobStatus.SUCCEEDED or (job.status == JobStatus.FAILED and job.failure_reason), job
    again = wait_for_job(
        training_start(
            collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
        ).pk,
        timeout=180,
    )
    assert (again.status, again.attempts) == (JobStatus.SUCCEEDED, 1), again.failure_reason
    print(
        f"restart {restarted}s; cuts {cuts}; during {dict(during)}; "
        f"first job {job.status} after {job.attempts} attempt(s)"
    )
    assert Job.objects.filter(status__in=[JobStatus.QUEUED, JobStatus.RUNNING]).count() == 0
