"""The default overlay is drawn once and kept beside its heatmap; it goes when the heatmap is drawn
again or its version is deleted. Other opacities and sizes are drawn on request."""

import io

import numpy as np
import pytest
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from inference.ml.algorithms import Predictions
from inference.services import heatmaps
from inference.services.heatmaps import overlay_key
from inference.services.scoring import predictions_write
from inference.services.versions import model_version_delete
from tests.annotations.api.helpers import API
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db


@pytest.fixture
def prediction(team):
    return scored_version(team.collection, {team.image: 1.6}).predictions.get()


def _refuse_to_draw(monkeypatch) -> None:
    def refuse(**kwargs):
        raise AssertionError("the overlay was drawn again")

    monkeypatch.setattr(heatmaps, "overlay_png", refuse)


def test_the_default_overlay_is_drawn_once_and_served_from_storage(team, prediction, as_user, monkeypatch):
    client = as_user(team.viewer)
    first = client.get(f"{API}/predictions/{prediction.pk}/overlay/")
    assert first.status_code == 200 and first["Content-Type"] == "image/png"
    drawn = b"".join(first.streaming_content)
    kept = overlay_key(prediction.heatmap.name)
    assert default_storage.open(kept).read() == drawn
    assert PILImage.open(io.BytesIO(drawn)).size == (team.image.width, team.image.height)

    _refuse_to_draw(monkeypatch)
    again = client.get(f"{API}/model-versions/{prediction.model_version_id}/images/{team.image.pk}/overlay/")
    assert again.status_code == 200 and b"".join(again.streaming_content) == drawn
    assert "max-age" in again["Cache-Control"] and again["ETag"] == first["ETag"]


def test_another_opacity_or_size_is_drawn_and_not_kept(team, prediction, as_user, monkeypatch):
    client = as_user(team.viewer)
    response = client.get(f"{API}/predictions/{prediction.pk}/overlay/", {"opacity": 0.8, "size": 16})
    assert response.status_code == 200 and max(PILImage.open(io.BytesIO(response.content)).size) == 16
    assert not default_storage.exists(overlay_key(prediction.heatmap.name))


def test_a_new_map_or_a_deleted_version_takes_the_kept_overlay_with_it(
    team, prediction, as_user, django_capture_on_commit_callbacks
):
    client = as_user(team.viewer)
    assert client.get(f"{API}/predictions/{prediction.pk}/overlay/").status_code == 200
    kept = overlay_key(prediction.heatmap.name)
    assert default_storage.exists(kept)

    version = prediction.model_version
    blank = np.zeros((team.image.height, team.image.width), np.float32)
    predicted = Predictions(scores=np.array([1.2], np.float32), anomaly_maps=[blank])
    predictions_write(version=version, images=[team.image], predicted=predicted, fitted_ids=[])
    assert not default_storage.exists(kept)  # drawn from the old map: gone with it

    assert client.get(f"{API}/predictions/{prediction.pk}/overlay/").status_code == 200
    assert default_storage.exists(kept)
    with django_capture_on_commit_callbacks(execute=True):  # its files go once the deletion commits
        model_version_delete(version=version)
    assert not default_storage.exists(kept)
