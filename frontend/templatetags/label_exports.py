"""`{% label_exports_of collection as exports %}`: the collection's recent label export jobs, for the
collection page's label export section (`_label_exports.html`)."""

from django import template

from annotations.models import Collection
from inference import selectors
from inference.models import Job, JobKind

register = template.Library()
SHOWN = 5


@register.simple_tag(takes_context=True)
def label_exports_of(context: template.Context, collection: Collection) -> list[Job]:
    jobs = selectors.job_list(
        user=context["request"].user, collection_id=collection.pk, kind=JobKind.LABEL_EXPORT
    )
    return list(jobs[:SHOWN])
