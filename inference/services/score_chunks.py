"""A scoring job's chunks: the images it scores, cut into id ranges that any worker of its queue may take.

- The job's holder plans the chunks (`chunks_plan`, streaming the ids, so planning a million images
  holds one chunk's ids at a time); a requeued job finds its plan and goes on.
- A worker takes a chunk with one conditional UPDATE (`chunk_claim`): pending, or running under an
  expired lease, with attempts left. Its heartbeat renews the chunk's lease (`chunk_held`), and each
  batch of predictions is written in a transaction that checks the chunk is still its own
  (`chunk_hold_check`) and counts what it wrote (`chunk_scored`).
- A worker that vanishes loses its chunk when the lease ends; the next taker scores only the images
  still without a prediction, so every image is scored once and `scored` sums to what was written.
"""

import contextlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from django.db import transaction
from django.db.models import Count, F, Max, Q, Sum
from django.utils import timezone

from inference.models import ChunkStatus, Job, JobStatus, ScoreChunk
from inference.services.jobs import Heartbeat, HeartbeatState, JobCancelled, LeaseLost, lease_length


class ChunkLost(LeaseLost):
    """Another worker holds the chunk now (this one's lease ran out): stop it, and take another."""


@transaction.atomic
def chunks_plan(*, job: Job, image_ids: Iterable[int], size: int) -> None:
    """Cut `image_ids` (ascending, none in a chunk not done) into chunks of `size`, numbered after the
    job's last. Call inside the job holder's hold check."""
    first = ScoreChunk.objects.filter(job=job).aggregate(last=Max("number", default=-1))["last"] + 1
    chunks: list[ScoreChunk] = []
    current: list[int] = []

    def close() -> None:
        chunks.append(
            ScoreChunk(
                job=job,
                number=first + len(chunks),
                first_image_id=current[0],
                last_image_id=current[-1],
                images=len(current),
            )
        )
        current.clear()

    for image_id in image_ids:
        current.append(image_id)
        if len(current) == size:
            close()
    if current:
        close()
    ScoreChunk.objects.bulk_create(chunks, batch_size=500)


def _claimable(now: object) -> Q:
    return Q(status=ChunkStatus.PENDING) | Q(status=ChunkStatus.RUNNING, lease_expires_at__lt=now)


def chunk_claim(*, job: Job, owner: str) -> ScoreChunk | None:
    """Take the job's first chunk that nobody holds, for `owner`; None when none is left to take."""
    now = timezone.now()
    candidates = ScoreChunk.objects.filter(_claimable(now), job=job, attempts__lt=job.max_attempts)
    for chunk_id in candidates.order_by("number").values_list("pk", flat=True)[:8]:
        taken = ScoreChunk.objects.filter(_claimable(now), pk=chunk_id).update(
            status=ChunkStatus.RUNNING,
            owner=owner,
            lease_expires_at=now + lease_length(),
            attempts=F("attempts") + 1,
        )
        if taken:  # else another worker took it between the two statements: try the next
            return ScoreChunk.objects.get(pk=chunk_id)
    return None


def _job_state(job_id: int) -> HeartbeatState:
    """Whether the job was asked to stop. Raises LeaseLost when it no longer runs."""
    job = Job.objects.filter(pk=job_id).values("status", "cancel_requested").first()
    if job is None or job["status"] != JobStatus.RUNNING:
        raise LeaseLost(f"job {job_id} no longer runs")
    return HeartbeatState(cancel_requested=job["cancel_requested"])


def chunk_heartbeat(*, chunk: ScoreChunk, owner: str) -> HeartbeatState:
    """Renew `owner`'s lease on the chunk.

    Raises:
        ChunkLost: the chunk is no longer its own. LeaseLost: its job no longer runs.
    """
    held = ScoreChunk.objects.filter(pk=chunk.pk, owner=owner, status=ChunkStatus.RUNNING)
    if not held.update(lease_expires_at=timezone.now() + lease_length()):
        raise ChunkLost(f"{chunk} is no longer held by {owner}")
    return _job_state(chunk.job_id)


def chunk_hold_check(*, chunk: ScoreChunk, owner: str) -> None:
    """Inside a transaction that writes the chunk's predictions: make sure it is still `owner`'s.

    Raises:
        ChunkLost: it is not; LeaseLost: its job no longer runs. The caller's transaction must roll back.
    """
    held = ScoreChunk.objects.select_for_update().filter(pk=chunk.pk, owner=owner, status=ChunkStatus.RUNNING)
    if not held.exists():
        raise ChunkLost(f"{chunk} is no longer held by {owner}")
    _job_state(chunk.job_id)


def chunk_scored(*, chunk: ScoreChunk, count: int) -> None:
    """Count `count` more predictions written for the chunk (inside the transaction that wrote them)."""
    ScoreChunk.objects.filter(pk=chunk.pk).update(scored=F("scored") + count)


def chunk_finish(*, chunk: ScoreChunk, owner: str) -> None:
    """Mark the chunk done.

    Raises:
        ChunkLost: it is no longer `owner`'s: its next taker finishes it.
    """
    done = ScoreChunk.objects.filter(pk=chunk.pk, owner=owner, status=ChunkStatus.RUNNING).update(
        status=ChunkStatus.DONE, lease_expires_at=None
    )
    if not done:
        raise ChunkLost(f"{chunk} is no longer held by {owner}")


@dataclass(frozen=True)
class ChunkHold:
    """A chunk held by its taker's heartbeat; `check()` stops the work when the hold is gone."""

    chunk: ScoreChunk
    owner: str
    heartbeat: Heartbeat

    def check(self) -> None:
        """Raises ChunkLost when the chunk (or its job) was lost, JobCancelled when the job was cancelled."""
        if self.heartbeat.lost:
            raise ChunkLost(f"{self.chunk} is no longer held by {self.owner}")
        if self.heartbeat.cancelled:
            raise JobCancelled(f"job {self.chunk.job_id} was cancelled")


@contextlib.contextmanager
def chunk_held(*, chunk: ScoreChunk, owner: str) -> Iterator[ChunkHold]:
    """Hold the chunk under a heartbeat while the block runs. A block that fails gives the chunk back
    at once (pending again) rather than at the end of its lease; its attempts still count."""
    heartbeat = Heartbeat(
        name=f"chunk-{chunk.pk}", renew=lambda *_: chunk_heartbeat(chunk=chunk, owner=owner)
    )
    heartbeat.start()
    try:
        yield ChunkHold(chunk=chunk, owner=owner, heartbeat=heartbeat)
    except BaseException:
        ScoreChunk.objects.filter(pk=chunk.pk, owner=owner, status=ChunkStatus.RUNNING).update(
            status=ChunkStatus.PENDING, owner="", lease_expires_at=None
        )
        raise
    finally:
        heartbeat.stopping.set()
        heartbeat.join(timeout=30)


@dataclass(frozen=True)
class ChunksProgress:
    """Where a job's chunks stand.

    Attributes:
        chunks: how many it has; done: how many are finished.
        images: how many images they held when planned; scored: predictions written for them.
        exhausted: the first chunk that is not done and has no attempts left, if any.
        workers: how many worker processes finished chunks.
    """

    chunks: int
    done: int
    images: int
    scored: int
    exhausted: ScoreChunk | None
    workers: int

    @property
    def finished(self) -> bool:
        return self.done == self.chunks

    @property
    def fraction(self) -> float:
        return self.scored / self.images if self.images else 1.0


def chunks_progress(*, job: Job) -> ChunksProgress:
    """Where the job's chunks stand (a few aggregate queries, whatever their number)."""
    chunks = ScoreChunk.objects.filter(job=job)
    totals = chunks.aggregate(
        chunks=Count("pk"),
        done=Count("pk", filter=Q(status=ChunkStatus.DONE)),
        images=Sum("images", default=0),
        scored=Sum("scored", default=0),
    )
    now = timezone.now()
    exhausted = (
        chunks.exclude(status=ChunkStatus.DONE)
        .filter(_claimable(now), attempts__gte=job.max_attempts)
        .order_by("number")
        .first()
    )
    owners = chunks.filter(status=ChunkStatus.DONE).order_by().values_list("owner", flat=True).distinct()
    # An owner token is host:pid:nonce; the process is what scored.
    workers = len({owner.rsplit(":", 1)[0] for owner in owners})
    return ChunksProgress(exhausted=exhausted, workers=workers, **totals)


def chunk_exhausted_reason(chunk: ScoreChunk) -> str:
    """Why a job whose chunk ran out of attempts fails."""
    return (
        f"images {chunk.first_image_id} to {chunk.last_image_id} could not be scored: the workers that "
        f"took them stopped {chunk.attempts} times; start the scoring again when the workers are healthy"
    )
