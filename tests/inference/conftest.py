"""Fixtures for the job tests: a real Celery worker subprocess on the test database, and small generated
collections to train on."""

import contextlib
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.db import connection

from config.celery_app import app, embedded_worker_command
from inference.load import database_url
from inference.models import FINISHED, Job

REPO = Path(__file__).resolve().parents[2]
LEASE_SECONDS = 3.0  # short, so a vanished worker is noticed within seconds


@pytest.fixture(scope="session")
def broker_dir(tmp_path_factory) -> Path:
    """This session's own filesystem-broker folder (unused with a CELERY_BROKER_URL), so a worker of
    another session or of `manage.py serve` never takes our messages."""
    root = tmp_path_factory.mktemp("loupe-var")
    if app.conf.broker_url.startswith("filesystem"):
        folders = {name: root / "broker" / name for name in ("queue", "processed", "control")}
        for folder in folders.values():
            folder.mkdir(parents=True, exist_ok=True)
        app.conf.broker_transport_options = {
            "data_folder_in": str(folders["queue"]),
            "data_folder_out": str(folders["queue"]),
            "processed_folder": str(folders["processed"]),
            "control_folder": str(folders["control"]),
            "store_processed": False,
        }
        if app._pool is not None:
            app._pool.force_close_all()
            app._pool = None
    return root


@pytest.fixture
def job_settings(settings):
    settings.LOUPE_JOB_LEASE_SECONDS = LEASE_SECONDS
    settings.LOUPE_ML_DEVICE = "cpu"
    return settings


def _purge_queues() -> None:
    with app.connection_for_write() as conn:
        for queue in ("gpu", "default"):
            with contextlib.suppress(Exception):  # a queue nobody declared yet
                conn.default_channel.queue_purge(queue)


class WorkerProcess:
    """`celery -A config worker` in its own process group, on the test's database and media."""

    def __init__(self, env: dict[str, str], log: Path, options: tuple[str, ...] = ()) -> None:
        self.log = log
        self._log_file = log.open("wb")
        self.process = subprocess.Popen(
            embedded_worker_command(
                "--hostname",
                f"test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                *options,
            ),
            cwd=REPO,
            env=env,
            stdout=self._log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def wait_ready(self, timeout: float = 90) -> "WorkerProcess":
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if " ready." in self.output():
                return self
            if self.process.poll() is not None:
                break
            time.sleep(0.2)
        raise AssertionError(f"the worker did not start:\n{self.output()[-4000:]}")

    def wait_exit(self, timeout: float = 120) -> int:
        """Wait for a worker that ends by itself (e.g. one that kills itself at a chosen point)."""
        return self.process.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: nothing gets to clean up."""
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> None:
        if self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.kill()
        self._log_file.close()


@pytest.fixture
def celery_worker_process(
    transactional_db, broker_dir, media_root, job_settings, tmp_path
) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real workers: `worker = celery_worker_process()`; all are stopped after the test.

    Needs `@pytest.mark.django_db(transaction=True)`: the worker sees only committed rows.
    """
    _purge_queues()
    workers: list[WorkerProcess] = []
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "LOUPE_VAR_DIR": str(broker_dir),
        "MEDIA_ROOT": str(media_root),
        "LOUPE_JOB_LEASE_SECONDS": str(LEASE_SECONDS),
        "LOUPE_REAPER_INTERVAL_SECONDS": "1",
        "LOUPE_ML_DEVICE": "cpu",
        "OMP_NUM_THREADS": "2",
    }
    if app.conf.broker_url.startswith("filesystem"):
        env.pop("CELERY_BROKER_URL", None)

    def start(*, ready: bool = True, options: tuple[str, ...] = (), **extra_env: str) -> WorkerProcess:
        worker = WorkerProcess({**env, **extra_env}, tmp_path / f"worker-{len(workers)}.log", options)
        workers.append(worker)
        return worker.wait_ready() if ready else worker

    yield start
    for worker in workers:
        worker.stop()
    connection.close()


def wait_for_job(job_id: int, *, timeout: float = 120, until: Callable[[Job], bool] | None = None) -> Job:
    """Poll the job row until it has finished (or `until` holds)."""
    until = until or (lambda job: job.status in FINISHED)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        job = Job.objects.get(pk=job_id)
        if until(job):
            return job
        time.sleep(0.1)
    job = Job.objects.get(pk=job_id)
    raise AssertionError(
        f"job {job_id} still {job.status} ({job.progress:.0%}: {job.message}) after {timeout}s"
    )


__all__ = ["django_settings", "wait_for_job"]
