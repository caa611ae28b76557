"""Numbers and cursors out of range are 400s at the edge, and the service keeps its invariants."""

import base64

import pytest
from rest_framework.test import APIClient

from inference.ml.thresholds import ScoreNormalizer
from tests.inference.helpers import scored_version

API = "/api/v1"


@pytest.fixture
def manager(team) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(team.manager)
    return client


@pytest.mark.django_db
@pytest.mark.parametrize("threshold", [1e308, -1e308, "Infinity", "NaN", 4.01, -2.01])
def test_a_threshold_outside_the_versions_score_range_is_a_400_and_later_ones_still_work(
    team, manager, threshold
):
    version = scored_version(team.collection, {team.image: 1.5})  # scores 0 to 2: thresholds -2 to 4
    url = f"{API}/model-versions/{version.pk}/threshold/"

    refused = manager.post(url, {"threshold": threshold}, format="json")
    assert refused.status_code == 400, refused.content
    assert "threshold" in refused.json()

    assert manager.post(url, {"threshold": 3.9}, format="json").status_code == 200
    assert manager.post(url, {"threshold": 1.2}, format="json").status_code == 200
    version.refresh_from_db()
    assert version.threshold == 1.2 and version.normalizer["high"] < 4.1


def test_the_normalizer_refuses_infinite_bounds():
    with pytest.raises(ValueError, match="finite"):
        ScoreNormalizer(low=0.0, threshold=1.0, high=float("inf"))


def _cursor(position: str) -> str:
    return base64.b64encode(f"p={position}".encode()).decode()


@pytest.mark.django_db
@pytest.mark.parametrize("position", ["abc", "9" * 20, "1.5", "-" + "9" * 30])
def test_a_forged_cursor_on_ids_is_a_400(team, manager, position):
    response = manager.get(f"{API}/images/?cursor={_cursor(position)}")
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("position", ["abc", "1e999", "nan"])
def test_a_forged_cursor_on_scores_is_a_400(team, manager, position):
    version = scored_version(team.collection, {team.image: 1.5})
    response = manager.get(f"{API}/images/?model_version={version.pk}&order=score&cursor={_cursor(position)}")
    assert response.status_code == 400 and "cursor" in response.json()


@pytest.mark.django_db
def test_a_cursor_the_list_gave_out_still_pages(team, manager):
    page = manager.get(f"{API}/images/?page_size=1").json()
    assert page["results"] and manager.get(page["next"] or f"{API}/images/").status_code == 200


@pytest.mark.django_db
def test_a_stored_file_gone_missing_is_a_404_that_says_so(team, manager, media_root):
    version = scored_version(team.collection, {team.image: 1.5})
    prediction = version.predictions.get()
    for name in (team.image.file.name, team.image.thumbnail.name, prediction.heatmap.name):
        (media_root / name).unlink()

    for url in (
        f"{API}/images/{team.image.pk}/file/",
        f"{API}/images/{team.image.pk}/thumbnail/",
        f"{API}/predictions/{prediction.pk}/heatmap/",
    ):
        response = manager.get(url)
        assert response.status_code == 404, url
        assert "missing from storage" in response.json()["detail"]


@pytest.mark.django_db
def test_an_annotation_written_after_its_image_was_deleted_is_a_404(team, manager, monkeypatch):
    from annotations.api import views
    from annotations.services.ingest import image_delete

    read = views.ImageViewSet.get_object

    def read_then_deleted(view):  # another request deletes the image between the read and the write
        image = read(view)
        image_delete(image=type(image).objects.get(pk=image.pk))
        return image

    monkeypatch.setattr(views.ImageViewSet, "get_object", read_then_deleted)
    body = {"verdict": "normal", "regions": [], "version": 0}

    response = manager.put(f"{API}/images/{team.image.pk}/annotation/", body, format="json")

    assert response.status_code == 404, response.content
    assert "deleted meanwhile" in response.json()["detail"]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("header", "status"),
    [
        ("garbage", 400),
        ('"image-1-v0", bare', 400),
        ("W/", 400),
        ('"' + "x" * 10_000, 400),
        ('"image-1-v' + "9" * 40 + '"', 412),
        ('"\u00ff\u00fe"', 412),
    ],
    ids=[
        "bare word",
        "one bare in a list",
        "weak marker alone",
        "unterminated",
        "version past 64 bits",
        "latin-1",
    ],
)
def test_a_malformed_or_foreign_if_match_is_a_400_or_412_not_a_500(team, manager, header, status):
    body = {"verdict": "normal", "regions": []}
    response = manager.put(
        f"{API}/images/{team.image.pk}/annotation/", body, format="json", HTTP_IF_MATCH=header
    )
    assert response.status_code == status, response.content
