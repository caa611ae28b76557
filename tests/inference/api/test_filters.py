"""The jobs, model versions, predictions, reviews and scored images lists: a bad filter value is a
400 that names the parameter, never a 500 or an unfiltered list; a good one filters."""

import pytest

from inference.models import Decision, JobKind, Review
from inference.services import jobs
from tests.annotations.api.helpers import API, results
from tests.inference.api.test_jobs_api import scored

BEYOND_64_BITS = str(2**64)

BAD = [
    ("/jobs/", "collection", "abc"),
    ("/jobs/", "model_version", BEYOND_64_BITS),
    ("/jobs/", "status", "sleeping"),
    ("/jobs/", "kind", "bake"),
    ("/model-versions/", "collection", "1e3"),
    ("/model-versions/", "status", "great"),
    ("/predictions/", "model_version", "-1"),
    ("/predictions/", "image", BEYOND_64_BITS),
    ("/predictions/", "is_defective", "maybe"),
    ("/reviews/", "collection", "x"),
    ("/reviews/", "model_version", "1.5"),
    ("/reviews/", "image", BEYOND_64_BITS),
    ("/images/", "model_version", "latest"),
    ("/images/", "score_min", "high"),
    ("/images/", "score_max", "nan"),
    ("/images/", "reviewed", "perhaps"),
    ("/images/", "order", "name"),
]


@pytest.mark.parametrize("path, name, value", BAD, ids=[f"{p}?{n}={v}" for p, n, v in BAD])
def test_a_bad_filter_value_is_a_400_naming_it(team, as_user, path, name, value):
    query = {name: value}
    if name in ("score_min", "score_max", "order"):
        query["model_version"] = 1

    response = as_user(team.viewer).get(f"{API}{path}", query)

    assert response.status_code == 400, response.content
    assert list(response.json()) == [name]


def test_good_filters_filter(team, as_user):
    prediction = scored(team)
    version = prediction.model_version
    job = jobs.job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    review = Review.objects.create(prediction=prediction, reviewer=team.reviewer, decision=Decision.UNSURE)
    client = as_user(team.viewer)

    def ids(path, **query):
        return [item["id"] for item in results(client.get(f"{API}{path}", query))]

    assert ids("/jobs/", kind="score", status="queued", model_version=version.pk) == [job.pk]
    assert ids("/jobs/", kind="train") == []
    assert ids("/model-versions/", collection=team.collection.pk, status="ready") == [version.pk]
    assert ids("/model-versions/", status="failed") == []
    assert ids("/predictions/", is_defective="true", image=team.image.pk) == [prediction.pk]
    assert ids("/predictions/", is_defective="false") == []
    assert ids("/reviews/", model_version=version.pk, image=team.image.pk) == [review.pk]
    assert ids("/reviews/", image=team.image.pk + 1000) == []
