"""Retraining after N decisions, and every new version compared with its parent on its own test split."""

import pytest

from inference.models import Job, JobKind, JobStatus, LearningSettings, Prediction
from inference.services.evaluation import evaluate_execute
from inference.services.jobs import job_run
from inference.services.reviews import review_followup_execute, review_submit
from inference.services.training import train_execute
from inference.services.versions import training_start
from tests.frontend.helpers import add_image
from tests.inference.helpers import FAST_PARAMETERS, scored_version, synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")


def test_enough_decisions_start_the_next_version_once(team):
    LearningSettings.objects.create(
        collection=team.collection, retrain_after_reviews=2, algorithm="patchcore"
    )
    synthetic_collection_fill(team.collection, train=2, test_normal=0, test_defective=0)
    images = [add_image(team.collection, f"queue-{seed}.png", seed=seed) for seed in (1, 2, 3)]
    version = scored_version(team.collection, dict(zip(images, [0.9, 1.1, 1.5], strict=True)))
    predictions = list(Prediction.objects.filter(model_version=version).order_by("image_id"))

    review_submit(prediction=predictions[0], reviewer=team.reviewer, decision="unsure", expected_version=0)
    assert not Job.objects.filter(kind__in=[JobKind.TRAIN, JobKind.RANK]).exists()
    review_submit(prediction=predictions[1], reviewer=team.reviewer, decision="unsure", expected_version=0)
    review_submit(prediction=predictions[2], reviewer=team.reviewer, decision="unsure", expected_version=0)
    # The request only queued the follow-up (once: the second decision found it waiting).
    assert not Job.objects.filter(kind=JobKind.TRAIN).exists()
    (followup,) = Job.objects.filter(kind=JobKind.RANK)
    job_run(job_id=followup.pk, work=review_followup_execute)
    followup.refresh_from_db()
    assert followup.status == JobStatus.SUCCEEDED, followup.failure_reason

    (train,) = Job.objects.filter(kind=JobKind.TRAIN)
    assert followup.result["training_job"] == train.pk
    assert train.status == JobStatus.QUEUED
    assert train.model_version.parent == version and train.created_by == team.reviewer


def test_without_the_setting_decisions_train_nothing(team):
    image = add_image(team.collection, "one.png", seed=1)
    version = scored_version(team.collection, {image: 1.5})

    review_submit(
        prediction=version.predictions.get(), reviewer=team.reviewer, decision="unsure", expected_version=0
    )

    assert not Job.objects.filter(kind__in=[JobKind.TRAIN, JobKind.RANK]).exists()


def test_a_child_is_compared_with_its_parent_on_the_childs_test_split(team):
    synthetic_collection_fill(team.collection, train=8, test_normal=3, test_defective=3)
    first = training_start(collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS)
    job_run(job_id=first.pk, work=train_execute)
    parent = first.model_version

    second = training_start(
        collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, parent=parent
    )
    job_run(job_id=second.pk, work=train_execute)
    (evaluation,) = Job.objects.filter(kind=JobKind.EVALUATE)
    job_run(job_id=evaluation.pk, work=evaluate_execute)

    child = second.model_version
    child.refresh_from_db()
    parent.refresh_from_db()
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.failure_reason
    assert evaluation.model_version == parent
    assert evaluation.parameters["snapshot"] == child.snapshot_id
    assert child.metrics["parent"]["model_version"] == parent.pk
    assert child.metrics["parent"]["image_auroc"] == pytest.approx(parent.metrics["image_auroc"])
