"""The review queue over the API: claiming, deciding, conflicts, roles and other teams."""

import pytest

from annotations.models import Annotation, Verdict
from inference.models import Prediction, Review
from tests.annotations.api.helpers import API, results
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version


@pytest.fixture
def version(team):
    second = add_image(team.collection, "second.png", seed=5)
    return scored_version(team.collection, {team.image: 1.2, second: 0.1})


def test_next_hands_out_the_item_with_its_image_and_labels(team, version, as_user):
    response = as_user(team.reviewer).post(f"{API}/reviews/next/", {"model_version": version.pk})

    assert response.status_code == 200, response.content
    item = response.json()
    assert item["prediction"]["image"] == team.image.pk
    assert item["image"]["width"] == team.image.width
    assert item["image"]["display_url"] == f"/images/{team.image.pk}/display/"
    assert item["annotation"] == {"version": 0, "verdict": "unlabeled", "regions": []}
    assert item["pending"] == 2


def test_a_decision_is_recorded_and_listed_with_who_took_it(team, version, as_user):
    client = as_user(team.reviewer)
    item = client.post(f"{API}/reviews/next/", {"model_version": version.pk}).json()

    response = client.post(
        f"{API}/reviews/",
        {
            "prediction": item["prediction"]["id"],
            "decision": "missed_defect",
            "comment": "<b>hairline</b>",
            "version": 0,
            "regions": [{"kind": "box", "geometry": {"x": 1, "y": 1, "width": 4, "height": 3}}],
        },
        format="json",
    )

    assert response.status_code == 201, response.content
    assert Annotation.objects.get(image=team.image).verdict == Verdict.DEFECTIVE
    listed = results(client.get(f"{API}/reviews/?collection={team.collection.pk}"))
    assert [(r["reviewer"], r["decision"], r["comment"]) for r in listed] == [
        (team.reviewer.username, "missed_defect", "<b>hairline</b>")
    ]


def test_an_empty_queue_answers_204(team, version, as_user):
    client = as_user(team.reviewer)
    for prediction in Prediction.objects.filter(model_version=version):
        client.post(
            f"{API}/reviews/",
            {"prediction": prediction.pk, "decision": "unsure", "version": 0},
            format="json",
        )

    assert client.post(f"{API}/reviews/next/", {"model_version": version.pk}).status_code == 204


def test_anothers_claim_is_a_409_and_a_stale_version_a_412(team, version, as_user, api_client):
    item = as_user(team.reviewer).post(f"{API}/reviews/next/", {"model_version": version.pk}).json()
    body = {"prediction": item["prediction"]["id"], "decision": "true_defect", "version": 0}

    claimed = as_user(team.manager).post(f"{API}/reviews/", body, format="json")
    stale = as_user(team.reviewer).post(f"{API}/reviews/", {**body, "version": 3}, format="json")

    assert claimed.status_code == 409 and "is reviewing this image" in claimed.json()["detail"]
    assert stale.status_code == 412 and stale.json()["current_version"] == 0
    assert not Review.objects.exists()


def test_annotators_may_not_review(team, version, as_user):
    client = as_user(team.annotator)
    prediction = Prediction.objects.filter(model_version=version).first()

    assert client.post(f"{API}/reviews/next/", {"model_version": version.pk}).status_code == 403
    response = client.post(
        f"{API}/reviews/", {"prediction": prediction.pk, "decision": "unsure", "version": 0}, format="json"
    )
    assert response.status_code == 403
    assert not Review.objects.exists()


def test_another_teams_queue_and_reviews_do_not_exist(team, other_team, version, as_user):
    theirs = scored_version(other_team.collection, {other_team.image: 1.5})
    prediction = theirs.predictions.get()
    as_user(other_team.reviewer).post(
        f"{API}/reviews/", {"prediction": prediction.pk, "decision": "unsure", "version": 0}, format="json"
    )
    review = Review.objects.get()
    client = as_user(team.manager)

    assert client.post(f"{API}/reviews/next/", {"model_version": theirs.pk}).status_code == 400
    body = {"prediction": prediction.pk, "decision": "true_defect", "version": 1}
    decided = client.post(f"{API}/reviews/", body, format="json")
    assert decided.status_code == 400
    assert client.post(f"{API}/reviews/release/", {"prediction": prediction.pk}).status_code == 400
    assert client.get(f"{API}/reviews/{review.pk}/").status_code == 404
    assert results(client.get(f"{API}/reviews/?collection={other_team.collection.pk}")) == []
    assert Annotation.objects.get(image=other_team.image).verdict == Verdict.UNSURE


def test_next_serves_labeled_images_only_when_asked_for_all(team, version, as_user):
    Annotation.objects.filter(image=team.image).update(verdict=Verdict.DEFECTIVE, version=1)
    client = as_user(team.reviewer)
    item = client.post(f"{API}/reviews/next/", {"model_version": version.pk}).json()
    assert item["pending"] == 1 and item["prediction"]["image"] != team.image.pk
    everything = client.post(f"{API}/reviews/next/", {"model_version": version.pk, "scope": "all"}).json()
    assert everything["pending"] == 2
    wrong = client.post(f"{API}/reviews/next/", {"model_version": version.pk, "scope": "labeled"})
    assert wrong.status_code == 400 and "scope" in wrong.json()
