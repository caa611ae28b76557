"""Jobs that several workers share. A kind that declares `share` (`JobKindSpec`) has a second task:
the worker that holds the job asks for helpers (`share_request`), and each helper's message runs the
kind's share work while the job runs.

The job's holder stays the one that completes it. A helper holds only the part it takes, under that
part's own lease (a scoring job's `ScoreChunk`), so a helper that vanishes loses only its part, which
the lease gives back; a helper's message that arrives after the job ended does nothing.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction

from inference.models import Job, JobStatus
from inference.services.jobs import JobCancelled, LeaseLost, job_kind, worker_token

logger = logging.getLogger(__name__)


def share_request(*, job: Job, count: int) -> None:
    """Ask `count` other workers of the job's queue to share it (once the transaction commits). Helpers
    only speed a job up, so a broker that refuses the messages is logged, not raised."""
    spec = job_kind(job.kind)
    if spec.share is None or count < 1:
        return
    job_id = job.pk

    def send() -> None:
        from kombu.exceptions import OperationalError as BrokerUnavailable

        try:
            for _ in range(count):
                _send(spec.share_task, job_id, spec.queue)
        except (BrokerUnavailable, OSError) as error:
            logger.warning("job %s: no helpers asked for, the broker refused (%s)", job_id, error)

    transaction.on_commit(send)


def _send(task: str, job_id: int, queue: str) -> None:
    from config.celery_app import app

    app.send_task(task, args=[job_id], queue=queue)


@dataclass(frozen=True)
class ShareContext:
    """What a helper's work gets: the running job and the helper's own owner token."""

    job: Job
    owner: str

    def running(self) -> bool:
        """Whether the job still runs and nobody asked to cancel it: a helper stops when not."""
        return Job.objects.filter(pk=self.job.pk, status=JobStatus.RUNNING, cancel_requested=False).exists()


def job_share_run(*, job_id: int, work: Callable[[ShareContext], None]) -> None:
    """Run `work` as a helper of the job if it is running; nothing when it is not (finished, cancelled,
    or not started: its holder asks for helpers once it has planned the parts)."""
    job = Job.objects.select_related("collection", "model_version").filter(pk=job_id).first()
    if job is None or job.status != JobStatus.RUNNING or job.cancel_requested:
        logger.info("job %s: nothing to share (finished, cancelled or unknown)", job_id)
        return
    try:
        work(ShareContext(job=job, owner=worker_token()))
    except (JobCancelled, LeaseLost) as stop:
        logger.info("job %s: this helper stops: %s", job_id, stop)
    except Exception:
        # The part it held went back (see the kind's share work); the job's holder takes it over.
        logger.exception("job %s: a helper failed; the job's holder takes its part over", job_id)
