"""Station keys: made by managers and shown once, inspect their own collection with the promoted
version and reach nothing else; revoked, they are refused."""

import io

import pytest
from PIL import Image as PILImage
from rest_framework.test import APIClient

from annotations.models import Image
from inference.services.scoring import model_load
from line.models import Inspection, Station
from line.services.stations import key_hash
from tests.annotations.api.conftest import as_user
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.line.conftest import line_images

__all__ = ["as_user"]  # the fixture

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def station_client(key: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    return client


def _make_station(as_user, team) -> tuple[dict, str]:
    made = as_user(team.manager).post(
        f"{API}/stations/", {"collection": team.collection.pk, "name": "line 1"}
    )
    assert made.status_code == 201, made.content
    return made.json(), made.json()["key"]


def test_a_station_key_is_shown_once_stored_hashed_and_made_by_managers_only(db, team, as_user):
    body, key = _make_station(as_user, team)
    station = Station.objects.get(pk=body["id"])
    assert station.key_hash == key_hash(key) and key not in station.key_hash
    assert key.startswith(body["key_prefix"]) and len(key) > 40
    listed = as_user(team.manager).get(f"{API}/stations/").json()["results"]
    assert [s["id"] for s in listed] == [station.pk] and "key" not in listed[0]
    refused = as_user(team.reviewer).post(f"{API}/stations/", {"collection": team.collection.pk, "name": "x"})
    assert refused.status_code == 403 and "manager" in refused.json()["detail"]


def test_a_station_inspects_its_collection_with_the_promoted_version_and_reaches_nothing_else(
    line_version, team, other_team, as_user
):
    _body, key = _make_station(as_user, team)
    station = station_client(key)
    parts = line_images(3, seed=1, defective=1)
    answer = station.post(
        f"{API}/collections/{team.collection.pk}/inspect/?heatmap=true",
        {"images": [_upload(name, content) for name, content in parts]},
        format="multipart",
    )
    assert answer.status_code == 200, answer.content
    body = answer.json()
    assert body["model_version"] == line_version.pk
    assert [r["name"] for r in body["results"]] == [name for name, _ in parts]
    for result in body["results"]:
        assert 0 <= result["normalized_score"] <= 1 and result["heatmap"]
        assert result["decision"] == ("defective" if result["score"] >= line_version.threshold else "normal")
    # The scores are the promoted version's own.
    expected = model_load(line_version).predict([PILImage.open(io.BytesIO(content)) for _, content in parts])
    assert [r["score"] for r in body["results"]] == pytest.approx(
        [float(v) for v in expected.scores], abs=1e-5
    )
    assert Inspection.objects.filter(station__key_hash=key_hash(key), model_version=line_version).count() == 3

    # Raw bytes with the image's own content type work too.
    raw = station.post(
        f"{API}/collections/{team.collection.pk}/inspect/?name=raw.png", parts[1][1], content_type="image/png"
    )
    assert raw.status_code == 200 and raw.json()["results"][0]["name"] == "raw.png"

    for path in (
        f"/collections/{other_team.collection.pk}/inspect/",
        f"/collections/{team.collection.pk}/",
        "/collections/",
        "/images/",
        f"/images/{team.image.pk}/",
        "/stations/",
        f"/collections/{team.collection.pk}/drift/",
        f"/model-versions/{line_version.pk}/",
    ):
        assert station.get(f"{API}{path}").status_code == 404, path
    assert station.post(f"{API}/collections/{other_team.collection.pk}/inspect/").status_code == 404
    assert station.get("/").status_code == 404 and station.get("/api/docs/").status_code == 404


def test_a_revoked_or_unknown_key_gets_401(line_version, team, as_user):
    body, key = _make_station(as_user, team)
    url = f"{API}/collections/{team.collection.pk}/inspect/"
    one = {"images": [_upload(*line_images(1, seed=2)[0])]}
    assert station_client(key).post(url, one, format="multipart").status_code == 200
    assert as_user(team.manager).post(f"{API}/stations/{body['id']}/revoke/").json()["revoked"] is True
    refused = station_client(key).post(
        url, {"images": [_upload(*line_images(1, seed=2)[0])]}, format="multipart"
    )
    assert refused.status_code == 401 and "revoked" in refused.json()["detail"]
    assert station_client(key + "x").get(url).status_code == 401


def test_managers_may_try_it_others_may_not(line_version, team, other_team, as_user):
    url = f"{API}/collections/{team.collection.pk}/inspect/"
    ok = as_user(team.manager).post(
        url, {"images": [_upload(*line_images(1, seed=3)[0])]}, format="multipart"
    )
    assert ok.status_code == 200 and Inspection.objects.get().user == team.manager
    reviewer = as_user(team.reviewer).post(
        url, {"images": [_upload(*line_images(1, seed=3)[0])]}, format="multipart"
    )
    assert reviewer.status_code == 403
    outsider = as_user(other_team.manager).post(
        url, {"images": [_upload(*line_images(1, seed=3)[0])]}, format="multipart"
    )
    assert outsider.status_code == 404


def test_a_bad_file_in_a_batch_inspects_and_stores_nothing(line_version, team, as_user):
    _body, key = _make_station(as_user, team)
    images_before = Image.objects.count()
    parts = [_upload(*part) for part in line_images(2, seed=4, defective=2)]
    parts.append(_upload("broken.png", png_bytes()[:40]))
    answer = station_client(key).post(
        f"{API}/collections/{team.collection.pk}/inspect/", {"images": parts}, format="multipart"
    )
    assert answer.status_code == 400
    assert [f["name"] for f in answer.json()["files"]] == ["broken.png"]
    assert Inspection.objects.count() == 0 and Image.objects.count() == images_before
    empty = station_client(key).post(
        f"{API}/collections/{team.collection.pk}/inspect/", {}, format="multipart"
    )
    assert empty.status_code == 400 and "at least one image" in empty.json()["detail"]


def test_without_a_promoted_version_the_answer_says_so(db, team, as_user):
    _body, key = _make_station(as_user, team)
    answer = station_client(key).post(
        f"{API}/collections/{team.collection.pk}/inspect/",
        {"images": [_upload("a.png", png_bytes())]},
        format="multipart",
    )
    assert answer.status_code == 409 and "promote" in answer.json()["detail"]


def _upload(name: str, content: bytes):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, content, content_type="image/png")


def test_members_read_the_line_policy_and_managers_change_it_within_its_ranges(db, team, other_team, as_user):
    url = f"{API}/collections/{team.collection.pk}/line-policy/"
    policy = as_user(team.viewer).get(url).json()
    assert (policy["keep_flagged"], policy["keep_band"], policy["keep_passed_share"]) == (True, 0.1, 0.02)
    assert as_user(team.reviewer).patch(url, {"keep_band": 0.2}, format="json").status_code == 403
    changed = as_user(team.manager).patch(url, {"keep_band": 0.2, "drift_window": 200}, format="json")
    assert (
        changed.status_code == 200
        and changed.json()["keep_band"] == 0.2
        and changed.json()["drift_window"] == 200
    )
    for wrong in (
        {"keep_passed_share": 1.5},
        {"drift_alpha": 0},
        {"drift_window": 10**12},
        {"keep_band": "x"},
    ):
        answer = as_user(team.manager).patch(url, wrong, format="json")
        assert answer.status_code == 400 and set(wrong) <= set(answer.json()), wrong
    assert as_user(team.manager).get(url).json()["keep_band"] == 0.2  # unchanged by the refused ones
    assert as_user(other_team.manager).get(url).status_code == 404


def test_members_list_the_lines_inspections_and_filter_them(line_version, team, other_team, as_user):
    _body, key = _make_station(as_user, team)
    parts = [_upload(*part) for part in line_images(3, seed=21)]
    station_client(key).post(
        f"{API}/collections/{team.collection.pk}/inspect/", {"images": parts}, format="multipart"
    )
    listed = (
        as_user(team.viewer).get(f"{API}/inspections/", {"collection": team.collection.pk}).json()["results"]
    )
    assert [row["name"] for row in listed] == [
        "part-21-2.png",
        "part-21-1.png",
        "part-21-0.png",
    ]  # newest first
    assert {row["station_name"] for row in listed} == {"line 1"} and {
        row["model_version"] for row in listed
    } == {line_version.pk}
    defective = [row for row in listed if row["decision"] == "defective"]
    only = as_user(team.viewer).get(f"{API}/inspections/", {"defective": "true"}).json()["results"]
    assert [row["id"] for row in only] == [row["id"] for row in defective]
    assert as_user(other_team.manager).get(f"{API}/inspections/").json()["results"] == []
    assert as_user(team.viewer).get(f"{API}/inspections/", {"collection": "x"}).status_code == 400
