"""A version is in production only when promoted: by a person, or, when the collection asks for it, a
child that beats its production parent on the child's own test images."""

import pytest

from annotations.services.projects import CollectionArchived, collection_archive
from inference.models import Job, JobKind, JobStatus, LearningSettings, ModelVersion
from inference.selectors import active_model_version, production_version
from inference.services.evaluation import evaluate_execute
from inference.services.jobs import job_run
from inference.services.training import train_execute
from inference.services.versions import (
    child_beats_parent,
    model_version_promote,
    model_version_promote_if_better,
    model_version_threshold_set,
    training_start,
)
from tests.frontend.helpers import add_image
from tests.inference.helpers import FAST_PARAMETERS, scored_version, synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")


def test_a_better_child_has_a_higher_image_auroc_and_loses_nothing_that_counts():
    parent = {"image_auroc": 0.80, "f1_max": 0.70, "aupro": 0.60}
    assert child_beats_parent(child={"image_auroc": 0.85, "f1_max": 0.70, "aupro": 0.595}, parent=parent)
    assert not child_beats_parent(child={"image_auroc": 0.80, "f1_max": 0.90}, parent=parent)  # not higher
    assert not child_beats_parent(child={"image_auroc": 0.90, "f1_max": 0.70, "aupro": 0.55}, parent=parent)
    assert child_beats_parent(child={"image_auroc": 0.81}, parent=parent)  # guards only where both have them
    assert not child_beats_parent(child={"note": "no labeled defects"}, parent=parent)
    assert not child_beats_parent(child={"image_auroc": 0.9}, parent={})


def _family(team, *, child_auroc: float) -> tuple[ModelVersion, ModelVersion]:
    image = add_image(team.collection, "one.png", seed=1)
    parent = scored_version(team.collection, {image: 1.5})
    child = scored_version(team.collection, {image: 1.5})
    child.parent = parent
    child.metrics = {"image_auroc": child_auroc, "parent": {"image_auroc": 0.8, "model_version": parent.pk}}
    child.save()
    return parent, child


def test_a_newer_version_is_not_in_production_until_promoted(team):
    parent, child = _family(team, child_auroc=0.9)
    assert production_version(collection_id=team.collection.pk) is None
    assert active_model_version(collection_id=team.collection.pk) == child  # shown, marked not promoted
    model_version_promote(version=parent, by=team.manager)
    assert production_version(collection_id=team.collection.pk) == parent
    assert active_model_version(collection_id=team.collection.pk) == parent


def test_a_better_child_is_promoted_only_when_the_collection_asks(team):
    parent, child = _family(team, child_auroc=0.9)
    model_version_promote(version=parent, by=team.manager)
    assert not model_version_promote_if_better(child=child)  # the setting is off by default
    LearningSettings.objects.create(collection=team.collection, promote_better_child=True)
    assert model_version_promote_if_better(child=child)
    child.refresh_from_db()
    assert production_version(collection_id=team.collection.pk) == child and child.promoted_by is None


def test_a_worse_child_or_one_whose_parent_is_not_in_production_stays_out(team):
    LearningSettings.objects.create(collection=team.collection, promote_better_child=True)
    parent, worse = _family(team, child_auroc=0.7)
    assert not model_version_promote_if_better(child=worse)  # its parent is not in production either
    model_version_promote(version=parent, by=team.manager)
    assert not model_version_promote_if_better(child=worse)
    assert production_version(collection_id=team.collection.pk) == parent


@pytest.mark.slow
def test_the_parents_evaluation_promotes_a_child_that_beats_it(team):
    LearningSettings.objects.create(collection=team.collection, promote_better_child=True)
    synthetic_collection_fill(team.collection, train=8, test_normal=3, test_defective=3)
    first = training_start(collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS)
    job_run(job_id=first.pk, work=train_execute)
    parent = ModelVersion.objects.get(pk=first.model_version_id)
    model_version_promote(version=parent, by=team.manager)
    second = training_start(
        collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, parent=parent
    )
    job_run(job_id=second.pk, work=train_execute)
    child = ModelVersion.objects.get(pk=second.model_version_id)
    assert production_version(collection_id=team.collection.pk) == parent  # trained is not promoted
    # A child that beats its parent by construction: above any AUROC the parent can reach.
    child.metrics = {**child.metrics, "image_auroc": 1.5}
    child.save(update_fields=["metrics"])

    (evaluation,) = Job.objects.filter(kind=JobKind.EVALUATE)
    job_run(job_id=evaluation.pk, work=evaluate_execute)
    evaluation.refresh_from_db()
    assert evaluation.status == JobStatus.SUCCEEDED, evaluation.failure_reason
    assert evaluation.result["promoted"] == child.pk and "was promoted" in evaluation.message
    assert production_version(collection_id=team.collection.pk) == child


def test_an_archived_collection_promotes_sets_thresholds_and_trains_nothing(team):
    parent, child = _family(team, child_auroc=0.9)
    model_version_promote(version=parent, by=team.manager)
    LearningSettings.objects.create(collection=team.collection, promote_better_child=True)
    collection_archive(collection=team.collection)
    with pytest.raises(CollectionArchived):
        model_version_promote(version=child, by=team.manager)
    with pytest.raises(CollectionArchived):
        model_version_threshold_set(version=child, threshold=0.7, by=team.manager)
    with pytest.raises(CollectionArchived):
        training_start(collection=team.collection, algorithm="patchcore")
    assert not model_version_promote_if_better(child=child)  # an evaluation finishing there changes nothing
    child.refresh_from_db()
    assert child.promoted_at is None and child.threshold == 1.0
    assert production_version(collection_id=team.collection.pk) == parent
