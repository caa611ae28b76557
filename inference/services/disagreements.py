"""When a review contradicts a human label. A label someone gave (by hand, by import, by an earlier
review) is never overwritten silently by a review that says the opposite: the review is recorded, the
label stays, and the disagreement waits, in the queue and on the image, for someone to resolve it one
way or the other.
"""

from dataclasses import asdict

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from annotations.models import Annotation, RevisionReason, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from inference.models import Disagreement, Resolution, Review

# Only these contradict each other: "unsure" and "unlabeled" assert nothing.
FIRM_VERDICTS = (Verdict.NORMAL, Verdict.DEFECTIVE)


class AlreadyResolved(Exception):
    def __init__(self, disagreement: Disagreement) -> None:
        super().__init__(
            f"this disagreement was resolved ({disagreement.get_resolution_display().lower()}) by "
            f"{disagreement.resolved_by or 'someone'} at {disagreement.resolved_at:%Y-%m-%d %H:%M} UTC"
        )


def label_contradicted(*, annotation: Annotation, verdict: str) -> bool:
    """Whether writing `verdict` would contradict the image's existing human label."""
    return (
        annotation.version > 0
        and annotation.verdict in FIRM_VERDICTS
        and verdict in FIRM_VERDICTS
        and verdict != annotation.verdict
    )


def disagreement_record(
    *, review: Review, annotation: Annotation, verdict: str, regions: list[RegionInput] | None
) -> Disagreement:
    """Record that `review`, meaning `verdict` (and these regions), contradicts the label as it is now."""
    return Disagreement.objects.create(
        review=review,
        image_id=annotation.image_id,
        label_verdict=annotation.verdict,
        label_version=annotation.version,
        review_verdict=verdict,
        review_regions=None if regions is None else [asdict(region) for region in regions],
    )


@transaction.atomic
def disagreement_resolve(
    *, disagreement: Disagreement, by: AbstractBaseUser, resolution: str
) -> Disagreement:
    """Settle a disagreement: the label stands, or the review's decision becomes the label (a revision
    with reason "review", only if the label is still the one the review contradicted).

    Raises:
        AlreadyResolved: someone settled it first; nothing changed.
        StaleAnnotation: the label changed since the review; nothing changed (review the image again).
    """
    disagreement = Disagreement.objects.select_for_update().select_related("review").get(pk=disagreement.pk)
    if disagreement.resolved_at is not None:
        raise AlreadyResolved(disagreement)
    resolution = Resolution(resolution)
    if resolution == Resolution.TOOK_REVIEW:
        annotation = Annotation.objects.get(image_id=disagreement.image_id)
        regions = disagreement.review_regions
        revised = annotation_update(
            annotation_id=annotation.pk,
            expected_version=disagreement.label_version,
            author=by,
            reason=RevisionReason.REVIEW,
            verdict=disagreement.review_verdict,
            regions=None if regions is None else [RegionInput(**region) for region in regions],
            comment=f"disagreement resolved for the review by {disagreement.review.reviewer}",
        )
        Review.objects.filter(pk=disagreement.review_id).update(
            revision=revised.revisions.get(version=revised.version)
        )
    disagreement.resolution = resolution
    disagreement.resolved_by = by
    disagreement.resolved_at = timezone.now()
    disagreement.save(update_fields=["resolution", "resolved_by", "resolved_at"])
    return disagreement
