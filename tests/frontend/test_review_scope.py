"""The review page says what its queue serves (new images by default, all on request, with counts)
and lists the disagreements waiting to be resolved."""

import json
import re

import pytest
from django.urls import reverse

from inference.services.reviews import review_submit
from tests.frontend.helpers import add_image
from tests.inference.helpers import labeled_test_images, scored_version

pytestmark = pytest.mark.usefixtures("sent")


def _config(page: str) -> dict:
    return json.loads(
        re.search(r'<script id="review-config" type="application/json">(.*?)</script>', page).group(1)
    )


def test_the_queue_serves_new_images_unless_asked_for_all_and_lists_disagreements(client, team):
    fresh = add_image(team.collection, "fresh.png", seed=4)
    labeled, disputed = labeled_test_images(team.collection, ["defective", "normal"])
    version = scored_version(team.collection, {fresh: 0.9, labeled: 1.2, disputed: 1.5})
    review_submit(
        prediction=version.predictions.get(image=disputed),
        reviewer=team.reviewer,
        decision="true_defect",
        expected_version=1,
    )
    client.force_login(team.reviewer)
    url = reverse("collection-review", args=[team.collection.pk])
    page = client.get(url).content.decode()
    assert _config(page)["scope"] == "new"
    assert "outside the train split (1)" in page and "include labeled and training images (2)" in page
    assert "1 disagreement between a review and a label to resolve" in page
    assert reverse("image-detail", args=[disputed.pk]) in page

    page = client.get(url, {"scope": "all", "version": version.pk}).content.decode()
    assert _config(page)["scope"] == "all" and "Serving every undecided image (2)" in page
    assert _config(client.get(url, {"scope": "everything"}).content.decode())["scope"] == "new"
