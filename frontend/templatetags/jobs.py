"""`{% jobs_counts jobs as counts %}`: how many of a page's jobs are running and queued, for the job
list's summary line and whether it opens."""

from collections.abc import Iterable

from django import template

from inference.models import Job, JobStatus

register = template.Library()


@register.simple_tag
def jobs_counts(jobs: Iterable[Job]) -> dict[str, int]:
    statuses = [job.status for job in jobs]
    running, queued = statuses.count(JobStatus.RUNNING), statuses.count(JobStatus.QUEUED)
    return {"running": running, "queued": queued, "unfinished": running + queued}
