"""Imported into a test worker (`--include tests.inference.chunk_waits`): a worker's first chunk of a
job waits, up to a minute, until a worker in another process holds a chunk of the same job too. A test
of shared scoring then sees both workers score, instead of racing one fast worker through every chunk.
"""

import time
from typing import Any

from inference.models import ChunkStatus, ScoreChunk
from inference.services import scoring

WAIT_SECONDS = 60
_jobs_waited_for: set[int] = set()


def _processes_holding(job_id: int) -> int:
    owners = ScoreChunk.objects.filter(job_id=job_id).exclude(status=ChunkStatus.PENDING)
    return len({owner.rsplit(":", 1)[0] for owner in owners.values_list("owner", flat=True)})


def _score_once_shared(self: scoring.ChunkScorer, hold: Any, *args: Any, **kwargs: Any) -> None:
    job_id = hold.chunk.job_id
    if job_id not in _jobs_waited_for:
        _jobs_waited_for.add(job_id)
        deadline = time.monotonic() + WAIT_SECONDS
        while _processes_holding(job_id) < 2 and time.monotonic() < deadline:
            time.sleep(0.1)
    _original_score(self, hold, *args, **kwargs)


_original_score = scoring.ChunkScorer.score
scoring.ChunkScorer.score = _score_once_shared
