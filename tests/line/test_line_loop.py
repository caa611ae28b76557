"""The line back into review: kept line images are scored production images in the review queue's
active-learning order; decisions on them are labels, and the retraining they call for learns from them.
Which images a policy keeps."""

import random

import pytest

from annotations.models import Image
from inference.models import Decision, Job, JobKind, Prediction, SnapshotImage, SnapshotRole
from inference.services.jobs import job_run
from inference.services.reviews import (
    learning_settings_update,
    review_claim_next,
    review_followup_execute,
    review_pending,
    review_submit,
)
from line.models import Inspection, LinePolicy
from line.services.inspection import PRODUCTION_SOURCE, inspect_images, kept_for_review, line_policy
from tests.annotations.api.conftest import as_user
from tests.annotations.api.helpers import API, results
from tests.line.conftest import line_images

__all__ = ["as_user"]  # the fixture

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def _run_queued(kind: str) -> list[Job]:
    jobs = list(Job.objects.filter(kind=kind, status="queued").order_by("pk"))
    for job in jobs:
        job_run(job_id=job.pk, work=review_followup_execute)
    return jobs


def test_kept_line_images_are_reviewed_in_the_active_order_and_retraining_learns_from_them(
    line_version, team
):
    collection = team.collection
    learning_settings_update(
        collection_id=collection.pk, review_strategy="active", retrain_after_reviews=3, algorithm="patchcore"
    )
    _run_queued(JobKind.RANK)
    LinePolicy.objects.create(collection=collection, keep_passed_share=1.0)  # keep everything here
    outcome = inspect_images(collection=collection, uploads=line_images(6, seed=11, defective=2))
    assert outcome.version == line_version and len(outcome.results) == 6

    kept = list(Image.objects.filter(collection=collection, source=PRODUCTION_SOURCE).order_by("pk"))
    assert len(kept) == 6
    assert set(Inspection.objects.values_list("image_id", flat=True)) == {image.pk for image in kept}
    predictions = Prediction.objects.filter(model_version=line_version, image__in=kept)
    assert predictions.count() == 6 and all(p.heatmap for p in predictions)
    # Keeping queued the queue's re-ranking, which puts them among the rest in the active order.
    assert _run_queued(JobKind.RANK)
    ranks = dict(predictions.values_list("image_id", "review_rank"))
    assert None not in ranks.values()

    queue = list(review_pending(version=line_version))
    ranked = [item.review_rank for item in queue if item.review_rank is not None]
    assert ranked == sorted(ranked) and len(ranked) == len(queue), "the queue is the active-learning order"
    assert review_claim_next(version=line_version, reviewer=team.reviewer) == queue[0]
    from_line = [item for item in queue if item.image_id in ranks]
    assert len(from_line) == 6
    for item in from_line[:3]:
        defective = item.image.original_name.endswith(("-0.png", "-1.png"))
        review_submit(
            prediction=item,
            reviewer=team.reviewer,
            decision=Decision.TRUE_DEFECT if defective else Decision.FALSE_POSITIVE,
            expected_version=item.image.annotation.version,
        )
    decided = [item.image_id for item in from_line[:3]]

    # The third decision asked for a retraining: its labeled snapshot holds the decided line images.
    _run_queued(JobKind.RANK)
    training = Job.objects.filter(kind=JobKind.TRAIN).order_by("-pk").first()
    assert training is not None and training.model_version != line_version
    learned = set(
        SnapshotImage.objects.filter(
            snapshot=training.model_version.snapshot,
            role__in=[SnapshotRole.LABELED, SnapshotRole.HARD_NORMAL],
        ).values_list("image_id", flat=True)
    )
    assert set(decided) <= learned


def test_the_policy_keeps_flagged_borderline_and_a_sampled_share_of_passed_images(db, team):
    policy = line_policy(collection_id=team.collection.pk)
    assert (policy.keep_flagged, policy.keep_band, policy.keep_passed_share) == (True, 0.1, 0.02)
    assert kept_for_review(policy, 0.95, True, draw=0.99)  # flagged
    assert kept_for_review(policy, 0.45, False, draw=0.99)  # near the threshold
    assert not kept_for_review(policy, 0.2, False, draw=0.99)
    assert kept_for_review(policy, 0.2, False, draw=0.01)  # in the sampled share
    rng = random.Random(0)
    share = sum(kept_for_review(policy, 0.2, False, rng.random()) for _ in range(10_000)) / 10_000
    assert 0.015 < share < 0.025
    policy.keep_flagged = False
    assert not kept_for_review(policy, 0.95, True, draw=0.0)  # a flagged one is not "passed"


def test_the_same_picture_twice_in_a_request_is_recorded_twice_and_kept_once(line_version, team):
    LinePolicy.objects.create(collection=team.collection, keep_passed_share=1.0)  # keep everything
    part = line_images(1, seed=21)[0]
    outcome = inspect_images(collection=team.collection, uploads=[part, part])  # a station's retry
    assert len(outcome.results) == 2 and outcome.results[0]["score"] == outcome.results[1]["score"]
    kept = Image.objects.filter(collection=team.collection, source=PRODUCTION_SOURCE)
    assert kept.count() == 1
    assert list(Inspection.objects.values_list("image_id", flat=True)) == [kept.get().pk] * 2
    assert Prediction.objects.filter(model_version=line_version, image=kept.get()).count() == 1


def test_kept_line_images_are_listed_in_the_collections_images(line_version, team, as_user):
    collection = team.collection
    LinePolicy.objects.create(collection=collection, keep_passed_share=1.0)  # keep everything here
    inspect_images(collection=collection, uploads=line_images(3, seed=61, defective=1))
    kept = set(
        Image.objects.filter(collection=collection, source=PRODUCTION_SOURCE).values_list("pk", flat=True)
    )
    assert len(kept) == 3

    client = as_user(team.viewer)
    listed = results(client.get(f"{API}/images/", {"collection": collection.pk, "page_size": 200}))
    from_line = {item["id"]: item for item in listed if item["id"] in kept}
    assert set(from_line) == kept
    assert {(item["source"], item["split"], item["collection"]) for item in from_line.values()} == {
        (PRODUCTION_SOURCE, "unassigned", collection.pk)
    }
    # Scored by the version that judged them, so they take their place in the score order too.
    query = {
        "collection": collection.pk,
        "model_version": line_version.pk,
        "order": "-score",
        "page_size": 200,
    }
    assert kept <= {item["id"] for item in results(client.get(f"{API}/images/", query))}
