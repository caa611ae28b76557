"""The images list with a model's scores and reviews (inference's ImageViewSet on /api/v1/images/)."""

import pytest

from inference.models import Decision, Job, JobKind, LearningSettings, Prediction, Review
from inference.services.versions import model_version_promote
from tests.annotations.api.helpers import API, png_bytes, results, upload
from tests.inference.helpers import labeled_test_images, scored_version


@pytest.fixture
def scored(team):
    """Four scored test images (normalized 0.9, 0.6, 0.6, 0.2; two of them reviewed) and the team's
    first image, which has no score."""
    names = ["scratched", "dented", "unsure", "good"]
    images = dict(
        zip(names, labeled_test_images(team.collection, ["defective"] * 3 + ["normal"]), strict=True)
    )
    raw = {"scratched": 1.8, "dented": 1.2, "unsure": 1.2, "good": 0.4}
    version = scored_version(team.collection, {images[name]: score for name, score in raw.items()})
    for name in ("scratched", "good"):
        prediction = Prediction.objects.get(model_version=version, image=images[name])
        Review.objects.create(prediction=prediction, reviewer=team.reviewer, decision=Decision.UNSURE)
    return {"version": version, "images": {**images, "first": team.image}}


def listed(client, query: dict) -> list[int]:
    return [item["id"] for item in results(client.get(f"{API}/images/", query))]


@pytest.mark.parametrize(
    "query, expected",
    [
        ({"score_min": 0.5}, {"scratched", "dented", "unsure"}),
        ({"score_min": 0.5, "score_max": 0.7}, {"dented", "unsure"}),
        ({"score_max": 0.5, "verdict": "normal"}, {"good"}),
        ({"reviewed": "true"}, {"scratched", "good"}),
        ({"reviewed": "false"}, {"first", "dented", "unsure"}),
        ({"reviewed": "false", "score_min": 0.5}, {"dented", "unsure"}),
        ({}, {"first", "scratched", "dented", "unsure", "good"}),
    ],
)
def test_score_and_review_filters(team, scored, as_user, query, expected):
    if "score_min" in query or "score_max" in query:
        query = {**query, "model_version": scored["version"].pk}

    ids = listed(as_user(team.viewer), query)

    assert sorted(ids) == sorted(scored["images"][name].pk for name in expected)


@pytest.mark.parametrize("order", ["-score", "score"])
def test_score_orders_page_through_every_scored_image_once(team, scored, as_user, order):
    images = scored["images"]
    client = as_user(team.viewer)
    seen, url = [], f"{API}/images/?page_size=2&order={order}&model_version={scored['version'].pk}"
    while url:
        page = client.get(url).json()
        seen += [item["id"] for item in page["results"]]
        url = page["next"]

    # Ties (dented, unsure) go by id, in the order's direction; the unscored image is left out.
    highest_first = [images["scratched"].pk, images["unsure"].pk, images["dented"].pk, images["good"].pk]
    assert seen == (highest_first if order == "-score" else highest_first[::-1])


@pytest.mark.parametrize("name", ["score_min", "score_max", "order"])
def test_a_score_filter_without_a_model_version_is_a_400_naming_it(team, scored, as_user, name):
    response = as_user(team.viewer).get(f"{API}/images/", {name: "-score" if name == "order" else 0.5})

    assert response.status_code == 400
    assert "model_version" in response.json()[name][0]


def test_an_upload_queues_the_scoring_of_what_it_added_when_the_collection_asks(team, as_user, sent):
    version = scored_version(team.collection, {team.image: 1.5})
    LearningSettings.objects.create(collection=team.collection, score_new_uploads=True)
    model_version_promote(version=version, by=team.manager)
    client = as_user(team.annotator)
    files = [upload("a.png", png_bytes(32, 32, seed=7)), upload("b.png", png_bytes(32, 32, seed=8))]
    response = client.post(
        f"{API}/images/", {"collection": team.collection.pk, "files": files}, format="multipart"
    )
    assert response.status_code == 201, response.content
    added = sorted(row["image"]["id"] for row in response.json()["files"])
    (job,) = Job.objects.filter(kind=JobKind.SCORE)
    assert sorted(job.parameters["image_ids"]) == added and job.created_by == team.annotator
    same = {"collection": team.collection.pk, "files": [upload("a.png", png_bytes(32, 32, seed=7))]}
    again = client.post(f"{API}/images/", same, format="multipart")
    assert again.status_code == 200 and Job.objects.filter(kind=JobKind.SCORE).count() == 1  # nothing new
