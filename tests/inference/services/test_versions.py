"""Choosing a version's threshold and promoting it, without a worker."""

import pytest

from inference.models import ModelVersion, ModelVersionStatus, Prediction
from inference.selectors import active_model_version
from inference.services.versions import VersionNotReady, model_version_promote, model_version_threshold_set
from tests.inference.helpers import labeled_test_images, scored_version

SCORES = [0.2, 0.6, 0.9, 1.1, 1.4, 1.8]


@pytest.fixture
def version(team) -> ModelVersion:
    images = labeled_test_images(team.collection, ["normal"] * 3 + ["defective"] * 3)
    return scored_version(team.collection, dict(zip(images, SCORES, strict=True)), threshold=1.0)


def decisions(version: ModelVersion) -> dict[float, bool]:
    return dict(Prediction.objects.filter(model_version=version).values_list("score", "is_defective"))


def test_a_new_threshold_decides_every_prediction_again(version, team):
    assert sum(decisions(version).values()) == 3

    saved = model_version_threshold_set(version=version, threshold=0.75, by=team.manager)

    version.refresh_from_db()
    assert saved.threshold == version.threshold == 0.75
    assert (version.threshold_method, version.threshold_set_by) == ("manual", team.manager)
    assert version.threshold_set_at is not None
    assert version.normalizer == {"low": 0.0, "threshold": 0.75, "high": 2.0}
    assert decisions(version) == {0.2: False, 0.6: False, 0.9: True, 1.1: True, 1.4: True, 1.8: True}
    predictions = Prediction.objects.filter(model_version=version)
    assert predictions.filter(is_defective=True).count() == sum(score >= 0.75 for score in SCORES)
    assert predictions.count() == len(SCORES)
    # Normalized scores follow: 0.5 is the new threshold, the range stays.
    for prediction in predictions:
        assert (prediction.normalized_score >= 0.5) == prediction.is_defective
    assert predictions.get(score=1.4).normalized_score == pytest.approx(0.5 + 0.5 * (1.4 - 0.75) / (2 - 0.75))


def test_a_threshold_at_a_score_flags_that_image(version, team):
    model_version_threshold_set(version=version, threshold=1.4, by=team.manager)
    assert [score for score, flagged in sorted(decisions(version).items()) if flagged] == [1.4, 1.8]


def test_a_threshold_beyond_every_score_widens_the_normalizer(version, team):
    model_version_threshold_set(version=version, threshold=2.5, by=None)
    version.refresh_from_db()
    assert version.normalizer["low"] == 0.0 and version.normalizer["high"] > 2.5
    assert not any(decisions(version).values())
    assert version.threshold_set_by is None


def test_only_a_ready_version_gets_a_threshold_or_is_promoted(version, team):
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersionStatus.TRAINING)
    version.refresh_from_db()
    with pytest.raises(VersionNotReady, match="is training"):
        model_version_threshold_set(version=version, threshold=0.5, by=team.manager)
    with pytest.raises(VersionNotReady, match="only a ready model can be promoted"):
        model_version_promote(version=version, by=team.manager)
    version.refresh_from_db()
    assert version.threshold == 1.0 and version.promoted_at is None
    assert sum(decisions(version).values()) == 3


def test_the_promoted_version_is_active_even_with_a_newer_one(version, team):
    newer = scored_version(team.collection, {team.image: 0.5})
    assert active_model_version(collection_id=team.collection.pk) == newer
    model_version_promote(version=version, by=team.manager)
    version.refresh_from_db()
    assert version.promoted_by == team.manager and version.promoted_at is not None
    assert active_model_version(collection_id=team.collection.pk) == version
