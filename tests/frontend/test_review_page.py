"""The review page: its configuration, who may decide, the learning settings form, other teams."""

from django.urls import reverse

from inference.models import Job, JobKind, LearningSettings, Prediction
from inference.services.jobs import job_run
from inference.services.reviews import review_followup_execute
from tests.frontend.helpers import add_image, page_config
from tests.inference.helpers import scored_version


def config_of(response) -> dict:
    return page_config(response, "review-config")


def test_without_a_ready_model_the_page_says_what_to_do(client, team):
    client.force_login(team.reviewer)

    response = client.get(reverse("collection-review", args=[team.collection.pk]))

    assert response.status_code == 200
    assert "No model of this collection is ready yet" in response.content.decode()


def test_the_page_carries_the_active_model_and_the_role(client, team):
    version = scored_version(team.collection, {team.image: 1.5}, threshold=1.2)
    client.force_login(team.reviewer)

    config = config_of(client.get(reverse("collection-review", args=[team.collection.pk])))

    assert config["modelVersion"] == version.pk
    assert config["canReview"] is True
    assert config["threshold"] == 1.2
    client.force_login(team.annotator)
    assert (
        config_of(client.get(reverse("collection-review", args=[team.collection.pk])))["canReview"] is False
    )


def test_another_teams_review_page_does_not_exist(client, team, other_team):
    scored_version(other_team.collection, {other_team.image: 1.5})
    client.force_login(team.manager)

    assert client.get(reverse("collection-review", args=[other_team.collection.pk])).status_code == 404
    response = client.post(
        reverse("collection-learning-settings", args=[other_team.collection.pk]),
        {"review_strategy": "random", "retrain_after_reviews": 5, "algorithm": "patchcore"},
    )
    assert response.status_code == 404
    assert not LearningSettings.objects.exists()


def test_managers_set_the_queue_order_and_it_takes_effect(client, team, sent):
    low, high = add_image(team.collection, "low.png", seed=1), add_image(team.collection, "high.png", seed=2)
    version = scored_version(team.collection, {low: 0.9, high: 1.9})
    url = reverse("collection-learning-settings", args=[team.collection.pk])

    client.force_login(team.reviewer)
    client.post(url, {"review_strategy": "highest", "retrain_after_reviews": 3, "algorithm": "patchcore"})
    assert not LearningSettings.objects.exists()

    client.force_login(team.manager)
    response = client.post(
        url, {"review_strategy": "highest", "retrain_after_reviews": 3, "algorithm": "patchcore"}
    )

    assert response.status_code == 302
    settings = LearningSettings.objects.get(collection=team.collection)
    assert (settings.review_strategy, settings.retrain_after_reviews) == ("highest", 3)
    (ranking,) = Job.objects.filter(kind=JobKind.RANK, model_version=version)  # ranked in a job
    job_run(job_id=ranking.pk, work=review_followup_execute)
    assert Prediction.objects.get(model_version=version, image=high).review_rank == 0
