"""Disagreements over the API: listed for members, resolved by reviewers, another team's is a 404."""

import pytest

from annotations.models import Annotation, Verdict
from inference.services.reviews import review_submit
from tests.annotations.api.helpers import API, results
from tests.inference.helpers import labeled_test_images, scored_version


@pytest.fixture
def disputed(team):
    (image,) = labeled_test_images(team.collection, ["defective"])
    version = scored_version(team.collection, {image: 0.3})
    review_submit(
        prediction=version.predictions.get(),
        reviewer=team.reviewer,
        decision="false_positive",
        reason="lighting",
        expected_version=1,
    )
    return image


def test_members_list_the_open_disagreements_and_a_reviewer_resolves_one(team, disputed, as_user):
    listed = results(as_user(team.annotator).get(f"{API}/disagreements/", {"collection": team.collection.pk}))
    assert len(listed) == 1
    row = listed[0]
    assert (row["image"], row["reviewer"], row["decision"], row["reason"]) == (
        disputed.pk, team.reviewer.username, "false_positive", "lighting"
    )  # fmt: skip
    assert (row["label_verdict"], row["review_verdict"], row["resolution"]) == ("defective", "normal", "")

    url = f"{API}/disagreements/{row['id']}/resolve/"
    assert as_user(team.annotator).post(url, {"resolution": "took_review"}).status_code == 403
    assert as_user(team.reviewer).post(url, {"resolution": "maybe"}).status_code == 400
    answer = as_user(team.reviewer).post(url, {"resolution": "took_review"})
    assert answer.status_code == 200, answer.content
    assert answer.json()["resolved_by"] == team.reviewer.username
    assert Annotation.objects.get(image=disputed).verdict == Verdict.NORMAL
    again = as_user(team.manager).post(url, {"resolution": "kept_label"})
    assert again.status_code == 409 and "resolved" in again.json()["detail"]
    still_open = as_user(team.reviewer).get(f"{API}/disagreements/", {"open": "true"})
    assert results(still_open) == []


def test_another_teams_disagreement_is_a_404(team, other_team, disputed, as_user):
    row = results(as_user(team.reviewer).get(f"{API}/disagreements/"))[0]
    outsider = as_user(other_team.manager)
    assert outsider.get(f"{API}/disagreements/{row['id']}/").status_code == 404
    assert (
        outsider.post(f"{API}/disagreements/{row['id']}/resolve/", {"resolution": "kept_label"}).status_code
        == 404
    )
    assert results(outsider.get(f"{API}/disagreements/")) == []
