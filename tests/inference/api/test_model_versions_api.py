"""A version's test scores, threshold and promotion over the API: roles, scoping, what is returned."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from inference.models import ModelVersion, ModelVersionStatus, Prediction
from tests.annotations.api.helpers import API
from tests.frontend.helpers import label
from tests.inference.helpers import labeled_test_images, scored_version


@pytest.fixture
def version(team) -> ModelVersion:
    images = labeled_test_images(team.collection, ["normal", "defective", "unsure", "unlabeled"])
    # The team's own image is scored too, but is not in the test snapshot.
    scores = {team.image: 0.1, **dict(zip(images, [0.4, 1.5, 0.8, 1.2], strict=True))}
    version = scored_version(team.collection, scores, threshold=1.0)
    version.snapshot.images.filter(image=team.image).delete()
    return version


def test_scores_are_the_test_snapshot_with_its_labels(version, team, as_user):
    # A label changed after the snapshot does not move the version's counts.
    defective = version.snapshot.images.order_by("image_id")[1].image
    label(defective, author=team.annotator, verdict="normal")

    response = as_user(team.viewer).get(f"{API}/model-versions/{version.pk}/scores/")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["threshold"] == 1.0
    rows = body["scores"]
    assert [row["image"] for row in rows] == list(
        version.snapshot.images.order_by("image_id").values_list("image_id", flat=True)
    )
    assert [(row["score"], row["label"]) for row in rows] == [(0.4, 0), (1.5, 1), (0.8, None), (1.2, None)]
    assert rows[1]["normalized_score"] == pytest.approx(0.75)


def test_scores_come_in_keyset_pages_that_cost_the_same_queries(version, team, as_user, settings):
    settings.LOUPE_SCORES_PAGE_SIZE = 3
    client = as_user(team.viewer)
    first = client.get(f"{API}/model-versions/{version.pk}/scores/").json()
    assert [row["score"] for row in first["scores"]] == [0.4, 1.5, 0.8]
    assert first["next"].endswith(f"/scores/?after={first['scores'][-1]['image']}")
    with CaptureQueriesContext(connection) as on_first:
        client.get(f"{API}/model-versions/{version.pk}/scores/")
    with CaptureQueriesContext(connection) as on_last:
        last = client.get(first["next"]).json()
    assert [(row["score"], row["label"]) for row in last["scores"]] == [(1.2, None)] and last["next"] is None
    assert len(on_first) == len(on_last)
    for bad in ("-1", "x", str(2**64)):
        response = client.get(f"{API}/model-versions/{version.pk}/scores/", {"after": bad})
        assert response.status_code == 400 and "after" in response.json()


def test_a_manager_sets_the_threshold_and_a_reviewer_may_not(version, team, as_user):
    url = f"{API}/model-versions/{version.pk}/threshold/"
    response = as_user(team.reviewer).post(url, {"threshold": 0.5}, format="json")
    assert response.status_code == 403 and "manager" in response.json()["detail"]
    assert as_user(team.manager).post(url, {"threshold": "high"}, format="json").status_code == 400

    response = as_user(team.manager).post(url, {"threshold": 0.5}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["threshold"], body["threshold_method"]) == (0.5, "manual")
    assert body["threshold_set_by"] == team.manager.pk
    flagged = Prediction.objects.filter(model_version=version, is_defective=True)
    assert sorted(flagged.values_list("score", flat=True)) == [0.8, 1.2, 1.5]


def test_a_manager_promotes_a_ready_version(version, team, as_user):
    url = f"{API}/model-versions/{version.pk}/promote/"
    assert as_user(team.reviewer).post(url).status_code == 403
    response = as_user(team.manager).post(url)
    assert response.status_code == 200, response.content
    assert response.json()["promoted_by"] == team.manager.pk and response.json()["promoted_at"]

    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersionStatus.FAILED)
    response = as_user(team.manager).post(url)
    assert response.status_code == 400 and "only a ready model" in response.json()["detail"]
    threshold = as_user(team.manager).post(
        f"{API}/model-versions/{version.pk}/threshold/", {"threshold": 0.5}, format="json"
    )
    assert threshold.status_code == 400


def test_another_teams_version_does_not_exist(version, other_team, as_user):
    client = as_user(other_team.manager)
    assert client.get(f"{API}/model-versions/{version.pk}/scores/").status_code == 404
    url = f"{API}/model-versions/{version.pk}/threshold/"
    assert client.post(url, {"threshold": 0.5}, format="json").status_code == 404
    assert client.post(f"{API}/model-versions/{version.pk}/promote/").status_code == 404
    version.refresh_from_db()
    assert version.threshold == 1.0 and version.promoted_at is None
