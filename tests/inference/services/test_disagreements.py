"""A review that contradicts a human label leaves the label as it is and waits to be resolved."""

import pytest

from annotations.models import Annotation, RegionKind, RevisionReason, Verdict
from annotations.services.annotations import RegionInput, StaleAnnotation
from inference.models import Disagreement, Resolution
from inference.selectors import disagreement_list
from inference.services.disagreements import (
    AlreadyResolved,
    disagreement_resolve,
    label_contradicted,
)
from inference.services.reviews import review_submit
from tests.frontend.helpers import label
from tests.inference.helpers import labeled_test_images, scored_version

pytestmark = pytest.mark.usefixtures("sent")


@pytest.fixture
def labeled(team):
    """A test image labeled defective (by import) and one labeled normal, both scored."""
    defective, normal = labeled_test_images(team.collection, ["defective", "normal"])
    version = scored_version(team.collection, {defective: 0.4, normal: 1.6})
    return version, defective, normal


def _prediction(version, image):
    return version.predictions.get(image=image)


def test_only_a_firm_verdict_against_a_firm_human_label_contradicts_it(labeled):
    _, defective, _ = labeled
    annotation = defective.annotation
    assert label_contradicted(annotation=annotation, verdict=Verdict.NORMAL)
    assert not label_contradicted(annotation=annotation, verdict=Verdict.DEFECTIVE)
    assert not label_contradicted(annotation=annotation, verdict=Verdict.UNSURE)
    annotation.verdict, annotation.version = Verdict.UNLABELED, 0
    assert not label_contradicted(annotation=annotation, verdict=Verdict.NORMAL)


def test_a_false_positive_on_a_defective_label_is_a_disagreement_and_the_label_stays(labeled, team):
    version, defective, _ = labeled
    review = review_submit(
        prediction=_prediction(version, defective),
        reviewer=team.reviewer,
        decision="false_positive",
        reason="dust",
        expected_version=1,
    )
    annotation = Annotation.objects.get(image=defective)
    assert (annotation.verdict, annotation.version) == (Verdict.DEFECTIVE, 1)  # untouched
    assert review.revision is None
    (disagreement,) = disagreement_list(user=team.manager, collection_id=team.collection.pk, open_only=True)
    assert (disagreement.review, disagreement.image) == (review, defective)
    assert (disagreement.label_verdict, disagreement.review_verdict) == (Verdict.DEFECTIVE, Verdict.NORMAL)
    assert disagreement.review_regions == []  # a false positive clears the regions


def test_a_stale_contradicting_review_changes_nothing(labeled, team):
    version, defective, _ = labeled
    with pytest.raises(StaleAnnotation):
        review_submit(
            prediction=_prediction(version, defective),
            reviewer=team.reviewer,
            decision="false_positive",
            expected_version=0,
        )
    assert (
        not Disagreement.objects.exists() and not version.predictions.filter(reviews__isnull=False).exists()
    )


def test_taking_the_review_writes_its_decision_as_a_revision(labeled, team):
    version, _, normal = labeled
    box = RegionInput(kind=RegionKind.BOX, geometry={"x": 2, "y": 3, "width": 5, "height": 4})
    review = review_submit(
        prediction=_prediction(version, normal),
        reviewer=team.reviewer,
        decision="missed_defect",
        expected_version=1,
        regions=[box],
    )
    (disagreement,) = disagreement_list(user=team.manager, collection_id=team.collection.pk, open_only=True)
    resolved = disagreement_resolve(disagreement=disagreement, by=team.manager, resolution="took_review")
    assert (resolved.resolution, resolved.resolved_by) == (Resolution.TOOK_REVIEW, team.manager)
    annotation = Annotation.objects.get(image=normal)
    assert (annotation.verdict, annotation.version, annotation.updated_by) == (
        Verdict.DEFECTIVE,
        2,
        team.manager,
    )
    assert [r.geometry for r in annotation.regions.all()] == [box.geometry]
    revision = annotation.revisions.get(version=2)
    assert revision.reason == RevisionReason.REVIEW and str(team.reviewer) in revision.comment
    review.refresh_from_db()
    assert review.revision == revision
    assert not disagreement_list(user=team.manager, collection_id=team.collection.pk, open_only=True).exists()
    with pytest.raises(AlreadyResolved, match="resolved"):
        disagreement_resolve(disagreement=disagreement, by=team.manager, resolution="kept_label")


def test_keeping_the_label_changes_no_label_and_a_label_edited_since_cannot_be_overridden(labeled, team):
    version, defective, normal = labeled
    for image in (defective, normal):
        review_submit(
            prediction=_prediction(version, image),
            reviewer=team.reviewer,
            decision="false_positive" if image == defective else "true_defect",
            expected_version=1,
        )
    kept, edited = sorted(
        disagreement_list(user=team.manager, collection_id=team.collection.pk, open_only=True),
        key=lambda d: d.image_id,
    )
    disagreement_resolve(disagreement=kept, by=team.manager, resolution="kept_label")
    assert Annotation.objects.get(image=defective).version == 1

    label(normal, author=team.annotator, verdict=Verdict.UNSURE)  # someone changed it meanwhile
    with pytest.raises(StaleAnnotation):
        disagreement_resolve(disagreement=edited, by=team.manager, resolution="took_review")
    edited.refresh_from_db()
    assert edited.resolved_at is None and Annotation.objects.get(image=normal).verdict == Verdict.UNSURE
