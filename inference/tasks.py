"""Celery tasks: thin, named, queued, time-limited. One task per kind of job (declared in
`inference.services.job_kinds`), each taking a job id and running that kind's work; the job row
(claim, lease, attempts) makes a second delivery of the same message a no-op. A kind that several
workers share has a second task, its helpers' (`inference.services.job_shares`).

The reaper runs (1) as the task `inference.reap_stale_jobs`, every minute where `celery beat` runs
(config.settings.CELERY_BEAT_SCHEDULE), and (2) inside every worker: at start and then every
LOUPE_REAPER_INTERVAL_SECONDS, from a thread started on `worker_ready`. The embedded platform runs no
beat, so (2) is what reaps there.
"""

import logging
import threading
from typing import Any

from celery import Task, bootsteps, current_app, shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection
from django.utils import timezone
from django.utils.module_loading import import_string

from inference.services.job_kinds import JOB_KINDS
from inference.services.job_shares import job_share_run
from inference.services.jobs import JobKindSpec, job_run, jobs_reap_stale, jobs_resend_queued

logger = logging.getLogger(__name__)

_LIMIT = settings.LOUPE_TRAIN_TIME_LIMIT_SECONDS


def _job_task(spec: JobKindSpec) -> Task:
    @shared_task(name=spec.task, queue=spec.queue, soft_time_limit=_LIMIT, time_limit=_LIMIT + 120)
    def run(job_id: int) -> None:
        # Imported here, in the worker: the work may import the learning core (torch).
        job_run(job_id=job_id, work=import_string(spec.work))

    return run


def _share_task(spec: JobKindSpec) -> Task:
    @shared_task(name=spec.share_task, queue=spec.queue, soft_time_limit=_LIMIT, time_limit=_LIMIT + 120)
    def share(job_id: int) -> None:
        job_share_run(job_id=job_id, work=import_string(spec.share))

    return share


JOB_TASKS = {spec.kind: _job_task(spec) for spec in JOB_KINDS}
SHARE_TASKS = {spec.kind: _share_task(spec) for spec in JOB_KINDS if spec.share}


@shared_task(name="inference.reap_stale_jobs", queue="default", soft_time_limit=60, time_limit=90)
def reap_stale_jobs() -> None:
    jobs_reap_stale()


_reaper_stop = threading.Event()


def _reap_forever() -> None:
    try:
        while True:
            try:
                jobs_reap_stale()
            except Exception:
                logger.exception("reaping stale jobs failed; trying again later")
                connection.close()  # a connection the server dropped never works again: reconnect
            if _reaper_stop.wait(settings.LOUPE_REAPER_INTERVAL_SECONDS):
                return
    finally:
        connection.close()


@worker_ready.connect
def start_reaper(**kwargs: object) -> None:
    threading.Thread(target=_reap_forever, name="loupe-job-reaper", daemon=True).start()


@worker_shutdown.connect
def stop_reaper(**kwargs: object) -> None:
    _reaper_stop.set()


class ResendQueuedJobsOnReconnect(bootsteps.StartStopStep):
    """After a broker outage, the worker that reconnects sends every queued job again: a broker
    without persistence comes back empty, and a job whose message it lost would wait for the reaper's
    long re-send window. A second message of a job finds nothing to claim."""

    requires = {"celery.worker.consumer.tasks:Tasks"}

    def start(self, parent: Any) -> None:
        if parent.restart_count < 1:  # the first connection, not a reconnection
            return
        try:
            resent = jobs_resend_queued(sent_before=timezone.now())
        except Exception:
            logger.exception("re-sending the queued jobs after reconnecting failed; the reaper will")
            return
        logger.warning("reconnected to the broker; sent the queued jobs again: %s", resent)


current_app.steps["consumer"].add(ResendQueuedJobsOnReconnect)
