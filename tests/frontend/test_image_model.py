"""The image page says what the model says of the image, in the same normalized score as every page
(with the raw score beside it), shows its heatmap, offers "Score" when the image is unscored, and
settles disagreements between a review and the label."""

import pytest
from django.urls import reverse

from annotations.models import Annotation, Verdict
from inference.models import Disagreement, Job, JobKind
from inference.services.reviews import review_submit
from inference.services.versions import model_version_promote
from tests.frontend.helpers import add_image
from tests.inference.helpers import labeled_test_images, scored_version

pytestmark = pytest.mark.usefixtures("sent")


def _page(client, user, image):
    client.force_login(user)
    return client.get(reverse("image-detail", args=[image.pk])).content.decode()


def test_the_page_shows_the_score_the_heatmap_and_whether_the_model_is_in_production(client, team):
    version = scored_version(team.collection, {team.image: 1.5})
    prediction = version.predictions.get()
    page = _page(client, team.annotator, team.image)
    assert "newest, not promoted" in page
    assert f"{prediction.normalized_score:.2f}" in page and "raw 1.5000" in page
    assert "Flagged <strong>defective</strong>" in page
    assert reverse("prediction-overlay", args=[prediction.pk]) in page and 'id="show-heatmap"' in page
    model_version_promote(version=version, by=team.manager)
    assert "production</span>" in _page(client, team.annotator, team.image)


def test_an_unscored_image_offers_scoring_to_reviewers_and_the_action_queues_it(client, team):
    scored = add_image(team.collection, "scored.png", seed=3)
    version = scored_version(team.collection, {scored: 0.5})
    assert "has not scored this image yet" in _page(client, team.annotator, team.image)
    assert "Score unscored images" not in _page(client, team.annotator, team.image)
    assert "Score unscored images" in _page(client, team.reviewer, team.image)

    url = reverse("collection-score", args=[team.collection.pk])
    client.force_login(team.annotator)
    assert client.post(url).status_code == 302 and not Job.objects.filter(kind=JobKind.SCORE).exists()
    client.force_login(team.reviewer)
    answer = client.post(url, {"next": reverse("image-detail", args=[team.image.pk])}, follow=True)
    (job,) = Job.objects.filter(kind=JobKind.SCORE)
    assert job.model_version == version and "Scoring 1 images" in answer.content.decode()
    assert answer.redirect_chain[-1][0] == reverse("image-detail", args=[team.image.pk])
    client.post(url)
    assert Job.objects.filter(kind=JobKind.SCORE).count() == 1  # the waiting one will do it


def test_another_teams_collection_cannot_be_scored(client, team, other_team):
    scored_version(team.collection, {team.image: 0.5})
    client.force_login(other_team.manager)
    assert client.post(reverse("collection-score", args=[team.collection.pk])).status_code == 404


def test_a_disagreement_is_shown_and_a_reviewer_takes_the_review(client, team, other_team):
    (image,) = labeled_test_images(team.collection, ["defective"])
    version = scored_version(team.collection, {image: 0.2})
    review_submit(
        prediction=version.predictions.get(),
        reviewer=team.reviewer,
        decision="false_positive",
        reason="dust",
        comment="just a speck",
        expected_version=1,
    )
    page = _page(client, team.annotator, image)
    assert "Disagreements" in page and "just a speck" in page and "Waiting for a reviewer" in page
    disagreement = Disagreement.objects.get()
    url = reverse("disagreement-settle", args=[disagreement.pk])

    client.force_login(other_team.manager)
    assert client.post(url, {"resolution": "took_review"}).status_code == 404
    client.force_login(team.annotator)
    client.post(url, {"resolution": "took_review"})
    assert Annotation.objects.get(image=image).verdict == Verdict.DEFECTIVE  # not theirs to settle

    page = _page(client, team.reviewer, image)
    assert "Take the review" in page
    answer = client.post(url, {"resolution": "took_review"}, follow=True)
    assert "resolved" in answer.content.decode()
    assert Annotation.objects.get(image=image).verdict == Verdict.NORMAL
    assert "The review&#x27;s decision became the label" in _page(client, team.reviewer, image)
