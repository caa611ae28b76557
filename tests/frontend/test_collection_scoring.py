"""The collection page offers "Score" while the shown model has unscored images, and an upload from the
page is scored by the production version when the collection asks."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from inference.models import Job, JobKind, LearningSettings
from inference.services.versions import model_version_promote
from tests.conftest import png_bytes
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.usefixtures("sent")


def test_the_page_counts_unscored_images_and_offers_score_to_reviewers(client, team):
    version = scored_version(team.collection, {add_image(team.collection, "a.png", seed=2): 0.5})
    url = reverse("collection-detail", args=[team.collection.pk])
    client.force_login(team.annotator)
    page = client.get(url).content.decode()
    assert f"1 image not scored by model {version.pk} yet" in page
    assert reverse("collection-score", args=[team.collection.pk]) not in page
    client.force_login(team.reviewer)
    assert reverse("collection-score", args=[team.collection.pk]) in client.get(url).content.decode()


def test_an_upload_from_the_page_is_scored_when_the_collection_asks(client, team):
    version = scored_version(team.collection, {team.image: 0.5})
    model_version_promote(version=version, by=team.manager)
    LearningSettings.objects.create(collection=team.collection, score_new_uploads=True)
    client.force_login(team.annotator)
    files = [
        SimpleUploadedFile("new.png", png_bytes(seed=41)),
        SimpleUploadedFile("dup.png", team.image.file.read()),
    ]
    client.post(reverse("collection-upload", args=[team.collection.pk]), {"files": files})
    (job,) = Job.objects.filter(kind=JobKind.SCORE)
    added = team.collection.images.get(original_name="new.png")
    assert job.parameters == {"image_ids": [added.pk]} and job.model_version == version
