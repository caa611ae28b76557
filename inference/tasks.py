"""Celery tasks: thin, named, queued, time-limited. Each takes a job id and calls one service; the
job row (claim, lease, attempts) makes a second delivery of the same message a no-op.

The reaper runs (1) as the task `inference.reap_stale_jobs`, every minute where `celery beat` runs
(config.settings.CELERY_BEAT_SCHEDULE), and (2) inside every worker: at start and then every
LOUPE_REAPER_INTERVAL_SECONDS, from a thread started on `worker_ready`. The embedded platform runs no
beat, so (2) is what reaps there.
"""

import logging
import threading

from celery import shared_task
from celery.signals import worker_ready, worker_shutdown
from django.conf import settings
from django.db import connection

from inference.services.jobs import job_run, jobs_reap_stale

logger = logging.getLogger(__name__)

_LIMIT = settings.LOUPE_TRAIN_TIME_LIMIT_SECONDS


@shared_task(name="inference.train", queue="gpu", soft_time_limit=_LIMIT, time_limit=_LIMIT + 120)
def train(job_id: int) -> None:
    from inference.services.learning import train_execute

    job_run(job_id=job_id, work=train_execute)


@shared_task(name="inference.score", queue="gpu", soft_time_limit=_LIMIT, time_limit=_LIMIT + 120)
def score(job_id: int) -> None:
    from inference.services.learning import score_execute

    job_run(job_id=job_id, work=score_execute)


@shared_task(name="inference.evaluate", queue="default", soft_time_limit=_LIMIT, time_limit=_LIMIT + 120)
def evaluate(job_id: int) -> None:
    from inference.services.learning import evaluate_execute

    job_run(job_id=job_id, work=evaluate_execute)


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
