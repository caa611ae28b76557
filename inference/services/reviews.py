"""The review queue: reviewers claim predictions one at a time and decide on them; every decision is
a label (it writes an annotation revision with reason `review`).

A team shares one queue per model version. Handing out an item is a conditional update of its claim,
so two reviewers asking at once never get the same prediction; a claim lapses after
`LOUPE_REVIEW_CLAIM_SECONDS`, so an item a reviewer walked away from goes back into the queue.
"""

from datetime import timedelta
from enum import StrEnum

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q, QuerySet
from django.db.models.functions import Abs
from django.utils import timezone
from numpy.typing import NDArray

from annotations.counts import Counts, counts_kept
from annotations.models import Annotation, Collection, Precision, RegionKind, RevisionReason, Split, Verdict
from annotations.services.annotations import RegionInput, StaleAnnotation, annotation_update
from annotations.services.projects import collection_writable_require
from inference.ml.active import DIVERSE_POOL, review_order
from inference.models import (
    Decision,
    FalsePositiveReason,
    Job,
    JobKind,
    JobStatus,
    LearningSettings,
    ModelVersion,
    Prediction,
    Review,
    ReviewStrategy,
)
from inference.selectors import active_model_version
from inference.services.disagreements import disagreement_record, label_contradicted
from inference.services.jobs import JobContext, job_create
from inference.services.versions import NothingToTrainOn, training_start
from inference.truth import verdict_label

# What each decision makes of the image's verdict; `None` keeps it.
DECISION_VERDICTS = {
    Decision.TRUE_DEFECT: Verdict.DEFECTIVE,
    Decision.FALSE_POSITIVE: Verdict.NORMAL,
    Decision.MISSED_DEFECT: Verdict.DEFECTIVE,
    Decision.UNSURE: Verdict.UNSURE,
}


class QueueScope(StrEnum):
    """Which undecided images the review queue serves."""

    NEW = "new"  # no human label, outside the train split
    ALL = "all"


# How many candidates one claim attempt looks at before asking the database again.
CLAIM_BATCH = 20
# The queue is ranked (re-ranked every RERANK_EVERY decisions) down to this depth; novelty is the
# distance to the RECENT_DECISIONS latest decided images.
RANKED = DIVERSE_POOL
RERANK_EVERY = 20
RECENT_DECISIONS = 1000


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


def review_pending(*, version: ModelVersion, scope: str = QueueScope.NEW) -> QuerySet[Prediction]:
    """The version's predictions nobody has decided on yet, in the queue's order: the ranked ones
    (see `review_ranks_update`), then the rest closest to the threshold first. By default
    (`QueueScope.NEW`) only images without a human label and outside the train split, where a decision
    teaches the model something; `QueueScope.ALL` adds the others."""
    reviewed = Review.objects.filter(prediction=OuterRef("pk"))
    pending = Prediction.objects.filter(model_version=version).exclude(Exists(reviewed))
    if QueueScope(scope) == QueueScope.NEW:
        pending = pending.filter(image__annotation__verdict=Verdict.UNLABELED).exclude(
            image__split=Split.TRAIN
        )
    return pending.annotate(uncertainty=Abs(F("normalized_score") - 0.5)).order_by(
        F("review_rank").asc(nulls_last=True), "uncertainty", "image_id"
    )


def review_pending_count(*, version: ModelVersion, scope: str = QueueScope.NEW) -> Counts:
    """How many items `review_pending` holds (`total`); a long queue's as counted a moment ago
    (`annotations.counts`)."""
    pending = review_pending(version=version, scope=scope)
    return counts_kept(
        f"pending:{version.pk}:{QueueScope(scope).value}",
        lambda: {"total": pending.count()},
        collection_id=version.collection_id,
    )


def learning_settings(*, collection_id: int) -> LearningSettings:
    """The collection's learning settings (the defaults until someone changes them)."""
    return LearningSettings.objects.filter(collection_id=collection_id).first() or LearningSettings(
        collection_id=collection_id
    )


def learning_settings_update(
    *,
    collection_id: int,
    review_strategy: str | None = None,
    retrain_after_reviews: int | None = None,
    algorithm: str | None = None,
    score_new_uploads: bool | None = None,
    promote_better_child: bool | None = None,
) -> LearningSettings:
    """Change how a collection learns (what is given; None keeps a setting as it is). A new review
    strategy re-ranks the active model's queue under it (in a job).

    Raises:
        CollectionArchived: an archived collection's settings stay as they are.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection_id))
    given = {
        "review_strategy": None if review_strategy is None else ReviewStrategy(review_strategy),
        "retrain_after_reviews": retrain_after_reviews,
        "algorithm": algorithm,
        "score_new_uploads": score_new_uploads,
        "promote_better_child": promote_better_child,
    }
    row, _ = LearningSettings.objects.update_or_create(
        collection_id=collection_id,
        defaults={name: value for name, value in given.items() if value is not None},
    )
    version = active_model_version(collection_id=collection_id)
    if review_strategy is not None and version is not None:
        review_followup_queue(version=version, created_by=None)
    return row


def _novelty(descriptors: NDArray[np.float32], seen: NDArray[np.float32]) -> NDArray[np.float32] | None:
    """Each pending image's distance to the nearest image already decided on (None before any)."""
    if not len(seen) or not len(descriptors):
        return None
    out = np.empty(len(descriptors), np.float32)
    seen_norms = (seen**2).sum(axis=1)
    for start in range(0, len(descriptors), 4096):
        chunk = descriptors[start : start + 4096]
        squared = (chunk**2).sum(axis=1)[:, None] - 2 * chunk @ seen.T + seen_norms[None, :]
        out[start : start + 4096] = np.sqrt(np.maximum(squared.min(axis=1), 0.0))
    return out


def review_ranks_update(*, version: ModelVersion) -> int:
    """Rank the version's pending predictions under the collection's review strategy
    (`inference.ml.active`); the first `RANKED` get a place, the rest follow by uncertainty.

    Returns:
        How many got a rank.
    """
    strategy = learning_settings(collection_id=version.collection_id).review_strategy
    pending = list(
        review_pending(version=version).values_list(
            "pk", "normalized_score", "descriptor", "image__annotation__verdict"
        )
    )
    Prediction.objects.filter(model_version=version, review_rank__isnull=False).update(review_rank=None)
    if not pending:
        return 0
    ids = [row[0] for row in pending]
    scores = np.array([row[1] for row in pending], np.float64)
    labels = np.array([verdict_label(row[3]) for row in pending])
    widths = {len(row[2]) for row in pending}
    descriptors = None
    novelty = None
    if len(widths) == 1 and widths != {0}:
        descriptors = np.array([row[2] for row in pending], np.float32)
        seen = [
            d
            for d in Prediction.objects.filter(model_version=version, reviews__isnull=False)
            .order_by("-pk")
            .values_list("descriptor", flat=True)[:RECENT_DECISIONS]
            if len(d) in widths
        ]
        novelty = _novelty(descriptors, np.array(seen, np.float32).reshape(len(seen), descriptors.shape[1]))
    order = review_order(
        strategy, scores, labels=labels, novelty=novelty, embeddings=descriptors, seed=version.pk
    )[:RANKED]
    Prediction.objects.bulk_update(
        [Prediction(pk=ids[index], review_rank=rank) for rank, index in enumerate(order)],
        ["review_rank"],
        batch_size=500,
    )
    return len(order)


def review_claim_next(
    *, version: ModelVersion, reviewer: AbstractBaseUser, scope: str = QueueScope.NEW
) -> Prediction | None:
    """The reviewer's next item of the queue's `scope`: the one they already hold, else the first
    pending one that nobody holds, now claimed for them. `None` when the queue is empty."""
    now = timezone.now()
    until = now + timedelta(seconds=_claim_seconds())
    pending = review_pending(version=version, scope=scope)
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
    verdict = DECISION_VERDICTS[decision]
    if label_contradicted(annotation=annotation, verdict=verdict):
        # The label stands until someone resolves the disagreement (inference.services.disagreements).
        if annotation.version != expected_version:
            raise StaleAnnotation(expected_version=expected_version, current_version=annotation.version)
        collection_writable_require(collections=Collection.objects.filter(images__annotation=annotation))
        review = Review.objects.create(
            prediction=prediction, reviewer=reviewer, decision=decision, reason=reason, comment=comment
        )
        disagreement_record(review=review, annotation=annotation, verdict=verdict, regions=regions)
    else:
        label = f"review: {decision.label.lower()}"
        if reason:
            label += f" ({FalsePositiveReason(reason).label})"
        annotation = annotation_update(
            annotation_id=annotation.pk,
            expected_version=expected_version,
            author=reviewer,
            reason=RevisionReason.REVIEW,
            verdict=verdict,
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
    version = prediction.model_version
    rerank = Review.objects.filter(prediction__model_version=version).count() % RERANK_EVERY == 0
    if rerank or retraining_due(version=version):
        review_followup_queue(version=version, created_by=reviewer)
    return review


def review_followup_queue(*, version: ModelVersion, created_by: AbstractBaseUser | None) -> Job | None:
    """Queue the work decisions call for (re-rank the queue, start a due retraining) as a job sent on
    commit, unless one is already waiting for a worker: it will see these decisions too."""
    waiting = Job.objects.filter(kind=JobKind.RANK, model_version=version, status=JobStatus.QUEUED)
    if waiting.exists():
        return None
    return job_create(
        kind=JobKind.RANK, collection=version.collection, model_version=version, created_by=created_by
    )


def review_followup_execute(context: JobContext) -> None:
    """The rank job: the version's queue ranked under the collection's strategy, then the next
    version's training started if enough decisions came in."""
    version = ModelVersion.objects.select_related("collection").get(pk=context.job.model_version_id)
    context.progress(0.1, "ranking the review queue")
    with transaction.atomic():
        context.hold_check()
        ranked = review_ranks_update(version=version)
        training = retraining_start_if_due(version=version, started_by=context.job.created_by)
        context.complete(
            {"ranked": ranked, "training_job": training.pk if training else None},
            message=f"ranked {ranked} items"
            + (f"; training started (job {training.pk})" if training else ""),
        )


def _decisions_since_newest_version(version: ModelVersion, *, enough: int) -> int:
    """How many decisions were taken since the collection's newest version, counting no further
    than `enough` (the count then costs the same however many reviews a collection holds)."""
    newest = ModelVersion.objects.filter(collection_id=version.collection_id).order_by("-created_at").first()
    decisions = Review.objects.filter(prediction__model_version__collection_id=version.collection_id)
    if newest is not None:
        decisions = decisions.filter(created_at__gt=newest.created_at)
    return decisions[:enough].count()


def retraining_due(*, version: ModelVersion) -> bool:
    """Whether the collection's setting asks for a new version now: enough decisions since its newest
    version, and no training already queued or running."""
    settings_row = learning_settings(collection_id=version.collection_id)
    if not settings_row.retrain_after_reviews:
        return False
    busy = Job.objects.filter(
        collection_id=version.collection_id,
        kind=JobKind.TRAIN,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
    )
    return (
        _decisions_since_newest_version(version, enough=settings_row.retrain_after_reviews)
        >= settings_row.retrain_after_reviews
        and not busy.exists()
    )


def retraining_start_if_due(*, version: ModelVersion, started_by: AbstractBaseUser | None) -> Job | None:
    """Train the next version when `retraining_due` says so. The new version's parent is `version`."""
    if not retraining_due(version=version):
        return None
    algorithm = learning_settings(collection_id=version.collection_id).algorithm
    try:
        return training_start(
            collection=version.collection,
            algorithm=algorithm,
            # The parent's parameters where they mean the same thing, else the algorithm's defaults.
            parameters=dict(version.parameters) if version.algorithm == algorithm else {},
            parent=version,
            created_by=started_by,
        )
    except NothingToTrainOn:
        return None
