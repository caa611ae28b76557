"""The job state machine. The database row is the truth; Celery only carries the job's id.

    queued ──claim──▶ running ──complete──▶ succeeded
      │                 │ └──fail / cancel──▶ failed / cancelled
      └──cancel──▶ cancelled      └──lease expired (reaper)──▶ queued again, or failed at the attempt cap

- A worker *claims* a job with one conditional UPDATE (queued, or running with an expired lease, and
  attempts left), taking a lease; a second delivery of the same message finds nothing to claim.
- While it works, a heartbeat thread renews the lease and reads the cancel flag; the work checks both
  at each progress callback and stops (`JobCancelled`, `LeaseLost`).
- Results are written in the same transaction as a check that the worker still holds the lease, so a
  worker that lost its lease (and whose job was given to another) can never write.
- The reaper (`jobs_reap_stale`) requeues jobs whose worker vanished (lease expired) until the attempt
  cap, then fails them with the reason; it re-sends queued jobs whose message was lost.
- A send the broker refuses (it is down) leaves the job queued and marked unsent (`enqueued_at` None):
  the request that made it still answers, and the reaper's next pass sends it. A worker that
  reconnects after a broker outage re-sends every queued job (`jobs_resend_queued`, from
  `config.celery_app`), as a broker without persistence comes back empty; a duplicate is a no-op.
"""

import logging
import os
import socket
import threading
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from annotations.models import Collection, Role
from annotations.services.projects import collection_writable_require
from inference.models import Job, JobStatus, ModelVersion

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class JobKindSpec:
    """Everything the job machinery needs to know about one kind of job, declared once
    (`inference.services.job_kinds`); this module knows no kind by name.

    Attributes:
        kind: the `JobKind` value.
        task: the Celery task's name.
        queue: `gpu` for work that wants the accelerator, else `default`.
        work: dotted path of the function that does the work (`work(context)`), imported in the
            worker only (it may import the learning core).
        start_role: the least role that may start it over the API; None: only the platform does.
        abandon: undoes what a job that will not succeed left half-made (called with the job).
        reads_only: it writes nothing into its collection (an export), so it may run on an
            archived one; every other kind is refused there.
        share: dotted path of the work other workers do to share a running job of this kind
            (`share(context)`, `inference.services.job_shares`); None: one worker does it all.
    """

    kind: str
    task: str
    queue: str
    work: str
    start_role: Role | None = None
    abandon: Callable[[Job], None] | None = None
    reads_only: bool = False
    share: str | None = None

    @property
    def share_task(self) -> str:
        """The Celery task that runs `share`."""
        return f"{self.task}_share"


_KINDS: dict[str, JobKindSpec] = {}


def job_kind_register(spec: JobKindSpec) -> None:
    """Declare a kind of job (at start-up, from the app's `ready`)."""
    _KINDS[spec.kind] = spec


def job_kind(kind: str) -> JobKindSpec:
    """The declaration of `kind`.

    Raises:
        KeyError: nobody declared it.
    """
    return _KINDS[kind]


def job_kinds() -> list[JobKindSpec]:
    """Every declared kind."""
    return list(_KINDS.values())


class JobCancelled(Exception):
    """Someone asked to cancel the job; the work stops at its next progress callback."""


class LeaseLost(Exception):
    """This worker no longer holds the job (the reaper gave it away): stop, write nothing."""


class JobError(Exception):
    """The job cannot succeed as asked; the message is recorded as its failure reason."""


class JobNotCancellable(Exception):
    def __init__(self, job: Job) -> None:
        super().__init__(
            f"job {job.pk} is already {job.status}; only queued or running jobs can be cancelled"
        )


def lease_length() -> timedelta:
    """How long a lease (a job's, or a share of one) lasts unless its heartbeat renews it."""
    return timedelta(seconds=settings.LOUPE_JOB_LEASE_SECONDS)


def _send(job_id: int, kind: str) -> None:
    from config.celery_app import app

    spec = job_kind(kind)
    app.send_task(spec.task, args=[job_id], queue=spec.queue)


def _send_or_mark_unsent(job_id: int, kind: str) -> None:
    """Send the job; when the broker cannot take it, leave it queued and unsent for the reaper."""
    from kombu.exceptions import OperationalError as BrokerUnavailable

    try:
        _send(job_id, kind)
    except (BrokerUnavailable, OSError) as error:
        logger.warning("job %s: the broker refused it (%s); the reaper sends it again", job_id, error)
        Job.objects.filter(pk=job_id, status=JobStatus.QUEUED).update(
            enqueued_at=None, message="waiting for the job queue (its broker is not answering)"
        )


def _send_on_commit(job: Job) -> None:
    job_id, kind = job.pk, job.kind
    transaction.on_commit(lambda: _send_or_mark_unsent(job_id, kind))


@transaction.atomic
def job_create(
    *,
    kind: str,
    collection: Collection,
    model_version: ModelVersion | None = None,
    parameters: dict[str, Any] | None = None,
    created_by: AbstractBaseUser | None = None,
    max_attempts: int | None = None,
) -> Job:
    """A queued job, sent to its queue once the transaction commits.

    Raises:
        CollectionArchived: the collection is read-only and the kind would change it.
    """
    if not job_kind(kind).reads_only:
        collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    job = Job.objects.create(
        kind=kind,
        collection=collection,
        model_version=model_version,
        parameters=parameters or {},
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
        max_attempts=max_attempts or settings.LOUPE_JOB_MAX_ATTEMPTS,
        enqueued_at=timezone.now(),
        message="waiting for a worker",
    )
    _send_on_commit(job)
    return job


def job_claim(*, job_id: int, owner: str) -> Job | None:
    """Take the job for `owner` if nobody holds it; None when there is nothing to do.

    Claimable: queued, or running with an expired lease (its worker vanished), with attempts left.
    """
    now = timezone.now()
    claimable = Q(status=JobStatus.QUEUED) | Q(status=JobStatus.RUNNING, lease_expires_at__lt=now)
    claimed = Job.objects.filter(
        claimable, pk=job_id, cancel_requested=False, attempts__lt=F("max_attempts")
    ).update(
        status=JobStatus.RUNNING,
        lease_owner=owner,
        lease_expires_at=now + lease_length(),
        heartbeat_at=now,
        started_at=now,
        attempts=F("attempts") + 1,
        message="started",
    )
    if not claimed:
        return None
    return Job.objects.select_related("collection", "model_version").get(pk=job_id)


@dataclass
class HeartbeatState:
    cancel_requested: bool


def job_heartbeat(
    *, job_id: int, owner: str, progress: float | None = None, message: str | None = None
) -> HeartbeatState:
    """Renew the lease (and record progress).

    Raises:
        LeaseLost: the job is no longer this owner's.
    """
    now = timezone.now()
    changes: dict[str, Any] = {"lease_expires_at": now + lease_length(), "heartbeat_at": now}
    if progress is not None:
        changes["progress"] = max(0.0, min(1.0, progress))
    if message is not None:
        changes["message"] = message[:300]
    held = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, lease_owner=owner)
    if not held.update(**changes):
        raise LeaseLost(f"job {job_id} is no longer held by {owner}")
    return HeartbeatState(cancel_requested=bool(held.values_list("cancel_requested", flat=True).first()))


def job_hold_check(*, job_id: int, owner: str) -> None:
    """Inside a transaction that writes results: make sure this owner still holds the job.

    Raises:
        LeaseLost: it does not; the caller's transaction must roll back.
    """
    held = Job.objects.select_for_update().filter(pk=job_id, status=JobStatus.RUNNING, lease_owner=owner)
    if not held.exists():
        raise LeaseLost(f"job {job_id} is no longer held by {owner}")


def job_complete(*, job_id: int, owner: str, result: dict[str, Any], message: str = "done") -> None:
    """Mark the job succeeded; call inside the transaction that writes its results.

    Raises:
        LeaseLost: another worker holds it now; the caller's transaction must roll back.
    """
    done = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, lease_owner=owner).update(
        status=JobStatus.SUCCEEDED,
        progress=1.0,
        result=result,
        message=message,
        finished_at=timezone.now(),
        lease_expires_at=None,
    )
    if not done:
        raise LeaseLost(f"job {job_id} is no longer held by {owner}")


def _abandon(job: Job) -> None:
    """Undo what a job that will not succeed left half-made."""
    abandon = job_kind(job.kind).abandon
    if abandon is not None:
        abandon(job)


def _finish_unsuccessfully(*, job_id: int, owner: str, status: JobStatus, reason: str) -> None:
    with transaction.atomic():
        stopped = Job.objects.filter(pk=job_id, status=JobStatus.RUNNING, lease_owner=owner).update(
            status=status,
            failure_reason=reason if status == JobStatus.FAILED else "",
            message=reason[:300],
            finished_at=timezone.now(),
            lease_expires_at=None,
        )
        if stopped:
            _abandon(Job.objects.get(pk=job_id))


@transaction.atomic
def job_cancel(*, job: Job) -> Job:
    """Cancel a queued job at once; ask a running one to stop (its worker notices within seconds).

    Raises:
        JobNotCancellable: the job has already finished.
    """
    now = timezone.now()
    if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED).update(
        status=JobStatus.CANCELLED, finished_at=now, message="cancelled before it started"
    ):
        _abandon(job)
    elif not Job.objects.filter(pk=job.pk, status=JobStatus.RUNNING).update(
        cancel_requested=True, message="cancelling"
    ):
        job.refresh_from_db()
        raise JobNotCancellable(job)
    job.refresh_from_db()
    return job


@dataclass
class ReapReport:
    requeued: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    cancelled: list[int] = field(default_factory=list)
    resent: list[int] = field(default_factory=list)


def jobs_reap_stale() -> ReapReport:
    """Give back the jobs whose worker vanished, and re-send queued jobs nobody started.

    Safe to run anywhere, any number of times at once: every change is a conditional update.
    """
    report = ReapReport()
    now = timezone.now()
    for job in Job.objects.filter(status=JobStatus.RUNNING, lease_expires_at__lt=now):
        last = job.heartbeat_at.isoformat(timespec="seconds") if job.heartbeat_at else "never"
        if job.cancel_requested:
            status, reason, bucket = JobStatus.CANCELLED, "cancelled (its worker stopped)", report.cancelled
        elif job.attempts >= job.max_attempts:
            status, bucket = JobStatus.FAILED, report.failed
            reason = (
                f"its worker stopped responding (last heartbeat {last}) on attempt {job.attempts} "
                f"of {job.max_attempts}, so it was given up; start it again when the workers are healthy"
            )
        else:
            status, bucket = JobStatus.QUEUED, report.requeued
            reason = (
                f"requeued: its worker stopped responding on attempt {job.attempts} (last heartbeat {last})"
            )
        with transaction.atomic():
            changed = Job.objects.filter(
                pk=job.pk, status=JobStatus.RUNNING, lease_owner=job.lease_owner, lease_expires_at__lt=now
            ).update(
                status=status,
                message=reason[:300],
                failure_reason=reason if status == JobStatus.FAILED else "",
                lease_owner="",
                lease_expires_at=None,
                finished_at=None if status == JobStatus.QUEUED else now,
                enqueued_at=now if status == JobStatus.QUEUED else job.enqueued_at,
            )
            if not changed:
                continue
            bucket.append(job.pk)
            if status == JobStatus.QUEUED:
                _send_on_commit(job)
            else:
                _abandon(Job.objects.get(pk=job.pk))  # as now given up: its reason, not its last progress
    report.resent = jobs_resend_queued(
        sent_before=now - timedelta(seconds=settings.LOUPE_JOB_REQUEUE_SECONDS)
    )
    if report.requeued or report.failed or report.cancelled or report.resent:
        logger.warning("reaped stale jobs: %s", report)
    return report


def jobs_resend_queued(*, sent_before: datetime) -> list[int]:
    """Send again the queued jobs never sent (the broker was down) or last sent before `sent_before`;
    the ids sent. A job's second message finds nothing to claim, so sending too often costs nothing."""
    resent = []
    now = timezone.now()
    unsent_or_old = Q(enqueued_at__isnull=True) | Q(enqueued_at__lt=sent_before)
    for job in Job.objects.filter(unsent_or_old, status=JobStatus.QUEUED):
        with transaction.atomic():
            changes: dict[str, Any] = {"enqueued_at": now}
            if job.enqueued_at is None:
                changes["message"] = "waiting for a worker"
            if Job.objects.filter(pk=job.pk, status=JobStatus.QUEUED, enqueued_at=job.enqueued_at).update(
                **changes
            ):
                resent.append(job.pk)
                _send_on_commit(job)
    return resent


class Heartbeat(threading.Thread):
    """Renews a lease every third of its length and fetches the cancel flag: `renew(progress,
    message)` is `job_heartbeat` for a job's lease, and what holds a share of a job for a share."""

    def __init__(self, *, name: str, renew: Callable[[float | None, str | None], HeartbeatState]) -> None:
        super().__init__(name=f"{name}-heartbeat", daemon=True)
        self.renew = renew
        self.progress: tuple[float, str] | None = None
        self.cancelled = False
        self.lost = False
        self.stopping = threading.Event()

    def run(self) -> None:
        interval = settings.LOUPE_JOB_LEASE_SECONDS / 3
        try:
            while not self.stopping.wait(interval):
                fraction, message = self.progress if self.progress else (None, None)
                try:
                    state = self.renew(fraction, message)
                except LeaseLost:
                    self.lost = True
                    return
                except DatabaseError:
                    logger.exception("%s: heartbeat failed, will retry", self.name)
                    connection.close()  # a connection the server dropped never works again: reconnect
                    continue
                self.cancelled = state.cancel_requested
        finally:
            connection.close()


@dataclass
class JobContext:
    """What the work of a job gets: the claimed row, its owner token and a progress callback."""

    job: Job
    owner: str
    _heartbeat: Heartbeat

    def progress(self, fraction: float, message: str) -> None:
        """Report progress (written by the heartbeat); stop here if cancelled or given away.

        Raises:
            JobCancelled, LeaseLost.
        """
        self._heartbeat.progress = (fraction, message)
        if self._heartbeat.lost:
            raise LeaseLost(f"job {self.job.pk} is no longer held by {self.owner}")
        if self._heartbeat.cancelled:
            raise JobCancelled(f"job {self.job.pk} was cancelled")

    def stage_progress(self, start: float, span: float, phase: str) -> Callable[[str, int, int], None]:
        """A progress callback for the learning core over [start, start + span] that never goes
        backwards: its stages (features, coreset, ...) are not known in advance, so the first gets half
        of the span, each next one half of what is left."""
        stages: list[str] = []

        def progress(stage: str, done: int, total: int) -> None:
            if stage not in stages:
                stages.append(stage)
            index = stages.index(stage)
            offset = span * (1 - 0.5**index)
            self.progress(
                start + offset + span * 0.5 ** (index + 1) * done / max(total, 1),
                f"{phase}: {stage} {done}/{total}",
            )

        return progress

    def hold_check(self) -> None:
        job_hold_check(job_id=self.job.pk, owner=self.owner)

    def complete(self, result: dict[str, Any], message: str = "done") -> None:
        job_complete(job_id=self.job.pk, owner=self.owner, result=result, message=message)


def worker_token() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def job_run(*, job_id: int, work: Callable[[JobContext], None]) -> None:
    """Claim the job and run `work` under a heartbeat; record how it ended.

    `work` must end by calling `context.complete(...)` inside the transaction that writes its results.
    Any exception fails the job with its message (a vanished worker is what attempts are for).
    """
    owner = worker_token()
    job = job_claim(job_id=job_id, owner=owner)
    if job is None:
        logger.info("job %s: nothing to claim (finished, held by another worker, or unknown)", job_id)
        return
    heartbeat = Heartbeat(
        name=f"job-{job_id}",
        renew=lambda progress, message: job_heartbeat(
            job_id=job_id, owner=owner, progress=progress, message=message
        ),
    )
    heartbeat.start()
    try:
        work(JobContext(job=job, owner=owner, _heartbeat=heartbeat))
    except JobCancelled:
        _finish_unsuccessfully(job_id=job_id, owner=owner, status=JobStatus.CANCELLED, reason="cancelled")
    except LeaseLost:
        logger.warning("job %s: lost the lease; another worker has it, this one stops", job_id)
    except Exception as error:
        from celery.exceptions import SoftTimeLimitExceeded

        if isinstance(error, SoftTimeLimitExceeded):
            reason = "it ran past its time limit; give it more time or train on fewer or smaller images"
        else:
            reason = f"{type(error).__name__}: {error}" if not isinstance(error, JobError) else str(error)
            logger.exception("job %s failed", job_id)
        _finish_unsuccessfully(job_id=job_id, owner=owner, status=JobStatus.FAILED, reason=reason)
    finally:
        heartbeat.stopping.set()
        heartbeat.join(timeout=30)
