"""The review queue: order, claims shared by a team, and decisions written into the labels."""

from datetime import timedelta

import pytest
from django.utils import timezone

from annotations.models import Annotation, RevisionReason, Verdict
from annotations.services.annotations import RegionInput, StaleAnnotation
from inference.models import Job, JobKind, JobStatus, LearningSettings, Prediction, Review
from inference.services.jobs import job_run
from inference.services.reviews import (
    ClaimedByOther,
    QueueScope,
    ReviewError,
    review_claim_next,
    review_followup_execute,
    review_followup_queue,
    review_pending,
    review_ranks_update,
    review_release,
    review_submit,
)
from tests.factories import UserFactory
from tests.frontend.helpers import add_image
from tests.inference.helpers import labeled_test_images, scored_version


@pytest.fixture
def queue(team):
    """Four images scored 0.2, 0.9, 1.1 and 1.9 (threshold 1.0): 0.9 and 1.1 are the most uncertain."""
    images = [team.image] + [add_image(team.collection, f"img-{seed}.png", seed=seed) for seed in (1, 2, 3)]
    version = scored_version(team.collection, dict(zip(images, [0.2, 0.9, 1.1, 1.9], strict=True)))
    return version, images


def test_the_queue_puts_scores_near_the_threshold_first(queue):
    version, images = queue

    order = [p.image_id for p in review_pending(version=version)]

    assert order == [images[1].pk, images[2].pk, images[0].pk, images[3].pk]


def test_two_reviewers_never_get_the_same_item_and_each_keeps_theirs(team, queue):
    version, images = queue
    second = UserFactory(username="second-reviewer")

    first_item = review_claim_next(version=version, reviewer=team.reviewer)
    second_item = review_claim_next(version=version, reviewer=second)
    again = review_claim_next(version=version, reviewer=team.reviewer)

    assert first_item.image_id == images[1].pk
    assert second_item.image_id == images[2].pk
    assert again.pk == first_item.pk  # a reload hands back what you hold, not the next one
    assert Prediction.objects.get(pk=first_item.pk).claimed_by == team.reviewer


def test_a_lapsed_claim_goes_back_into_the_queue(team, queue):
    version, images = queue
    held = review_claim_next(version=version, reviewer=team.reviewer)
    Prediction.objects.filter(pk=held.pk).update(claimed_until=timezone.now() - timedelta(seconds=1))

    taken = review_claim_next(version=version, reviewer=team.manager)

    assert taken.pk == held.pk


def test_a_released_item_can_be_taken_by_someone_else(team, queue):
    version, _ = queue
    held = review_claim_next(version=version, reviewer=team.reviewer)

    review_release(prediction=held, reviewer=team.reviewer)

    assert review_claim_next(version=version, reviewer=team.manager).pk == held.pk


def test_a_false_positive_makes_the_image_normal_with_a_review_revision(team, queue):
    version, images = queue
    item = review_claim_next(version=version, reviewer=team.reviewer)

    review = review_submit(
        prediction=item,
        reviewer=team.reviewer,
        decision="false_positive",
        reason="dust",
        comment="lint on the lens",
        expected_version=0,
    )

    annotation = Annotation.objects.get(image=images[1])
    assert annotation.verdict == Verdict.NORMAL and annotation.version == 1
    revision = annotation.revisions.get(version=1)
    assert revision.reason == RevisionReason.REVIEW and revision.author == team.reviewer
    assert "false positive" in revision.comment and "lint on the lens" in revision.comment
    assert review.revision == revision and review.reason == "dust"
    assert Prediction.objects.get(pk=item.pk).claimed_by is None
    assert item.pk not in set(review_pending(version=version).values_list("pk", flat=True))


def test_a_true_defect_without_regions_takes_the_models_regions_as_rough_boxes(team, queue):
    version, images = queue
    prediction = Prediction.objects.get(model_version=version, image=images[3])
    assert prediction.regions

    review_submit(prediction=prediction, reviewer=team.reviewer, decision="true_defect", expected_version=0)

    annotation = Annotation.objects.get(image=images[3])
    assert annotation.verdict == Verdict.DEFECTIVE
    boxes = list(annotation.regions.values("kind", "precision", "geometry"))
    region = prediction.regions[0]
    assert boxes == [
        {
            "kind": "box",
            "precision": "rough",
            "geometry": {key: region[key] for key in ("x", "y", "width", "height")},
        }
    ]


def test_a_missed_defect_keeps_the_reviewers_corrections(team, queue):
    version, images = queue
    prediction = Prediction.objects.get(model_version=version, image=images[0])
    box = RegionInput(kind="box", geometry={"x": 1, "y": 2, "width": 5, "height": 4}, precision="rough")

    review_submit(
        prediction=prediction,
        reviewer=team.reviewer,
        decision="missed_defect",
        expected_version=0,
        regions=[box],
    )

    annotation = Annotation.objects.get(image=images[0])
    assert annotation.verdict == Verdict.DEFECTIVE
    assert [(r.kind, r.geometry["width"]) for r in annotation.regions.all()] == [("box", 5)]


def test_someone_elses_claim_refuses_the_decision_and_changes_nothing(team, queue):
    version, images = queue
    held = review_claim_next(version=version, reviewer=team.reviewer)

    with pytest.raises(ClaimedByOther, match="is reviewing this image"):
        review_submit(prediction=held, reviewer=team.manager, decision="unsure", expected_version=0)

    assert Annotation.objects.get(image=images[1]).version == 0
    assert not Review.objects.exists()


def test_a_stale_decision_loses_nothing(team, queue):
    version, images = queue
    prediction = Prediction.objects.get(model_version=version, image=images[2])
    review_submit(prediction=prediction, reviewer=team.reviewer, decision="unsure", expected_version=0)

    with pytest.raises(StaleAnnotation):
        review_submit(
            prediction=prediction, reviewer=team.manager, decision="true_defect", expected_version=0
        )

    annotation = Annotation.objects.get(image=images[2])
    assert annotation.verdict == Verdict.UNSURE and annotation.version == 1
    assert Review.objects.count() == 1


def test_a_reason_goes_only_with_a_false_positive(team, queue):
    version, images = queue
    prediction = Prediction.objects.get(model_version=version, image=images[2])

    with pytest.raises(ReviewError, match="reason"):
        review_submit(
            prediction=prediction,
            reviewer=team.reviewer,
            decision="true_defect",
            reason="dust",
            expected_version=0,
        )

    assert Annotation.objects.get(image=images[2]).version == 0


def test_the_collections_strategy_orders_the_queue(team, queue):
    version, images = queue
    LearningSettings.objects.create(collection=team.collection, review_strategy="highest")

    ranked = review_ranks_update(version=version)

    assert ranked == 4
    assert [p.image_id for p in review_pending(version=version)] == [
        images[3].pk,
        images[2].pk,
        images[1].pk,
        images[0].pk,
    ]


def test_the_active_queue_does_not_start_with_near_duplicates(team, queue):
    version, images = queue
    # Images 1 and 2 are equally uncertain and look alike; image 0 looks different.
    descriptors = {
        images[0]: [1.0, 0.0],
        images[1]: [0.0, 1.0],
        images[2]: [0.0, 0.99],
        images[3]: [0.5, 0.5],
    }
    for image, descriptor in descriptors.items():
        Prediction.objects.filter(model_version=version, image=image).update(
            descriptor=descriptor, normalized_score=0.5 if image in images[1:3] else 0.4
        )

    review_ranks_update(version=version)

    order = [p.image_id for p in review_pending(version=version)]
    assert order[0] in (images[1].pk, images[2].pk)
    assert set(order[1:3]) != {images[1].pk, images[2].pk}  # its twin waits


def test_a_decision_queues_the_ranking_instead_of_doing_it(
    team, queue, sent, monkeypatch, django_capture_on_commit_callbacks
):
    from inference.services import reviews

    monkeypatch.setattr(reviews, "RERANK_EVERY", 1)
    ranked = []
    monkeypatch.setattr(reviews, "review_ranks_update", lambda **kwargs: ranked.append(kwargs))
    version, images = queue
    prediction = Prediction.objects.get(model_version=version, image=images[1])

    with django_capture_on_commit_callbacks(execute=True):
        review_submit(prediction=prediction, reviewer=team.reviewer, decision="unsure", expected_version=0)

    assert ranked == []  # nothing ranked inside the request
    (job,) = Job.objects.filter(kind=JobKind.RANK)
    assert (job.model_version, job.status, job.created_by) == (version, JobStatus.QUEUED, team.reviewer)
    assert sent == [(job.pk, JobKind.RANK)]  # sent once the decision committed


def test_the_rank_job_ranks_the_queue(team, queue, sent):
    version, images = queue
    LearningSettings.objects.create(collection=team.collection, review_strategy="highest")
    job = review_followup_queue(version=version, created_by=None)
    assert review_followup_queue(version=version, created_by=None) is None  # one waiting is enough

    job_run(job_id=job.pk, work=review_followup_execute)

    job.refresh_from_db()
    assert (job.status, job.result) == (JobStatus.SUCCEEDED, {"ranked": 4, "training_job": None})
    assert [p.image_id for p in review_pending(version=version)] == [images[i].pk for i in (3, 2, 1, 0)]


def test_the_queue_serves_unlabeled_images_outside_the_train_split_unless_asked_for_all(team):
    fresh = add_image(team.collection, "fresh.png", seed=1)
    trained_on = add_image(team.collection, "train.png", seed=2, split="train")
    (labeled,) = labeled_test_images(team.collection, ["defective"])
    version = scored_version(team.collection, {fresh: 0.9, trained_on: 1.0, labeled: 1.1})

    assert [p.image_id for p in review_pending(version=version)] == [fresh.pk]
    everything = {p.image_id for p in review_pending(version=version, scope=QueueScope.ALL)}
    assert everything == {fresh.pk, trained_on.pk, labeled.pk}
    assert review_claim_next(version=version, reviewer=team.reviewer).image_id == fresh.pk
    assert review_claim_next(version=version, reviewer=team.manager) is None
    assert review_claim_next(version=version, reviewer=team.manager, scope="all").image_id != fresh.pk
