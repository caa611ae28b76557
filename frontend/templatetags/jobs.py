"""`{% jobs_counts collection as counts %}`: how many of a collection's jobs are running and queued
(all of them, not only the latest the list shows), for the job list's summary line and whether it
opens."""

from django import template

from annotations.models import Collection
from inference.selectors import collection_job_counts

register = template.Library()


@register.simple_tag
def jobs_counts(collection: Collection) -> dict[str, int]:
    return collection_job_counts(collection_id=collection.pk)
