"""Waiting for a job from a management command, with a progress bar."""

import time

from tqdm import tqdm

from inference.models import FINISHED, Job


def job_wait(job_id: int, *, show: bool = True, poll_seconds: float = 0.5, label: str = "") -> Job:
    """Poll the job row until it finishes, drawing its progress (0–100 %) and message."""
    job = Job.objects.get(pk=job_id)
    with tqdm(total=100, unit="%", disable=not show, desc=label or f"{job.kind} job {job.pk}") as bar:
        while True:
            job = Job.objects.get(pk=job_id)
            bar.n = round(job.progress * 100, 1)
            bar.set_postfix_str(f"{job.status}: {job.message}"[:80], refresh=False)
            bar.refresh()
            if job.status in FINISHED:
                return job
            time.sleep(poll_seconds)
