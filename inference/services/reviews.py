"""The review queue: reviewers claim predictions one at a time and decide on them; every decision is
a label (it writes an annotation revision with reason `review`).

A team shares one queue per model version. Handing out an item is a conditional update of its claim,
so two reviewers asking at once never get the same prediction; a claim lapses after
`LOUPE_REVIEW_CLAIM_SECONDS`, so an item a reviewer walked away from goes back into the queue.
"""

from datetime import timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Abs
from django.utils import timezone

from annotations.models import Annotation, Precision, RegionKind, RevisionReason, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from inference.models import Decision, FalsePositiveReason, ModelVersion, Prediction, Review

# What each decision makes of the image's verdict; `None` keeps it.
DECISION_VERDICTS = {
    Decision.TRUE_DEFECT: Verdict.DEFECTIVE,
    Decision.FALSE_POSITIVE: Verdict.NORMAL,
    Decision.MISSED_DEFECT: Verdict.DEFECTIVE,
    Decision.UNSURE: Verdict.UNSURE,
}
# How many candidates one claim attempt looks at before asking the database again.
CLAIM_BATCH = 20


class ReviewError(Exception):
    """A decision that cannot be taken as asked; the message says why. Nothing was changed."""


class ClaimedByOther(ReviewError):
    def __init__(self, prediction: Prediction) -> None:
        super().__init__(
            f"{prediction.claimed_by} is reviewing this image until "
            f"{prediction.claimed_until:%H:%M:%S} UTC; take the next one in the queue"
        )


def _claim_seconds() -> int:
    return settings.LOUPE_REVIEW_CLAIM_SECONDS


def review_pending(*, version: ModelVersion) -> QuerySet[Prediction]:
    """The version's predictions nobody has decided on yet, most uncertain first: a label on an
    image the model is unsure of (score near the threshold) teaches it most."""
    reviewed = Review.objects.filter(prediction=OuterRef("pk"))
    return (
        Prediction.objects.filter(model_version=version)
        .exclude(Exists(reviewed))
        .annotate(uncertainty=Abs(F("normalized_score") - 0.5))
        .order_by("uncertainty", "image_id")
    )


def review_claim_next(*, version: ModelVersion, reviewer: AbstractBaseUser) -> Prediction | None:
    """The reviewer's next item: the one they already hold, else the first pending one that nobody
    holds, now claimed for them. `None` when the queue is empty."""
    now = timezone.now()
    until = now + timedelta(seconds=_claim_seconds())
    pending = review_pending(version=version)
    held = pending.filter(claimed_by=reviewer, claimed_until__gt=now).first()
    if held is not None:
        Prediction.objects.filter(pk=held.pk).update(claimed_until=until)
        return Prediction.objects.select_related("image__annotation", "claimed_by").get(pk=held.pk)
    free = Q(claimed_until__isnull=True) | Q(claimed_until__lte=now)
    while True:
        candidates = list(pending.filter(free).values_list("pk", "claimed_until")[:CLAIM_BATCH])
        if not candidates:
            return None
        for pk, claimed_until in candidates:
            # Succeeds only if the claim is still what we read: someone who got there first wins.
            taken = Prediction.objects.filter(pk=pk, claimed_until=claimed_until).update(
                claimed_by=reviewer, claimed_until=until
            )
            if taken:
                return Prediction.objects.select_related("image__annotation", "claimed_by").get(pk=pk)


def review_release(*, prediction: Prediction, reviewer: AbstractBaseUser) -> None:
    """Give an item back to the queue (a reviewer skipping it)."""
    Prediction.objects.filter(pk=prediction.pk, claimed_by=reviewer).update(
        claimed_by=None, claimed_until=None
    )


def _predicted_boxes(prediction: Prediction) -> list[RegionInput]:
    """The model's regions as rough boxes: a confirmed detection, located as well as the map can."""
    return [
        RegionInput(
            kind=RegionKind.BOX,
            geometry={key: region[key] for key in ("x", "y", "width", "height")},
            precision=Precision.ROUGH,
        )
        for region in prediction.regions
    ]


@transaction.atomic
def review_submit(
    *,
    prediction: Prediction,
    reviewer: AbstractBaseUser,
    decision: str,
    expected_version: int,
    comment: str = "",
    reason: str = "",
    regions: list[RegionInput] | None = None,
) -> Review:
    """Record a decision and write it into the image's labels.

    `regions`, when given, replace the image's regions (the reviewer's corrections). Without them a
    true defect on an image with no regions gets the model's regions as rough boxes, a false positive
    loses its regions (the image is normal), and the other decisions keep what is there.

    Raises:
        ClaimedByOther: another reviewer holds this item.
        ReviewError: a reason on anything but a false positive.
        StaleAnnotation: the image's labels changed since `expected_version`; nothing was changed.
    """
    decision = Decision(decision)
    if reason and decision != Decision.FALSE_POSITIVE:
        raise ReviewError("a reason only goes with a false positive")
    # Lock the item so a claim cannot move between the check and the decision.
    prediction = (
        Prediction.objects.select_for_update(of=("self",)).select_related("claimed_by").get(pk=prediction.pk)
    )
    if (
        prediction.claimed_by_id not in (None, reviewer.pk)
        and prediction.claimed_until
        and prediction.claimed_until > timezone.now()
    ):
        raise ClaimedByOther(prediction)
    annotation = Annotation.objects.get(image_id=prediction.image_id)
    if regions is None:
        if decision == Decision.FALSE_POSITIVE:
            regions = []
        elif decision == Decision.TRUE_DEFECT and not annotation.regions.exists():
            regions = _predicted_boxes(prediction)
    label = f"review: {decision.label.lower()}"
    if reason:
        label += f" ({FalsePositiveReason(reason).label})"
    annotation = annotation_update(
        annotation_id=annotation.pk,
        expected_version=expected_version,
        author=reviewer,
        reason=RevisionReason.REVIEW,
        verdict=DECISION_VERDICTS[decision],
        regions=regions,
        comment=f"{label}: {comment}" if comment else label,
    )
    review = Review.objects.create(
        prediction=prediction,
        reviewer=reviewer,
        decision=decision,
        reason=reason,
        comment=comment,
        revision=annotation.revisions.get(version=annotation.version),
    )
    Prediction.objects.filter(pk=prediction.pk).update(claimed_by=None, claimed_until=None)
    return review
