import io

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.models import Image
from tests.annotations.api.helpers import API, bomb_png, media_files, png_bytes, tiff16_bytes, upload

EPS = b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 10 10\nnewpath 0 0 moveto 10 10 lineto stroke\n%%EOF\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>'

BAD_FILES = {
    "truncated png": ("cut.png", lambda: png_bytes(64, 64, seed=3)[:400], "truncated or corrupt"),
    "text named .png": ("notes.png", lambda: b"these are my notes, not an image\n", "not an image"),
    "decompression bomb": ("bomb.png", bomb_png, "Mpx limit"),
    "svg": ("drawing.svg", lambda: SVG, "not an image"),
    "eps": ("figure.eps", lambda: EPS, "not an image"),
    "empty": ("empty.png", lambda: b"", "empty"),
}


def post_files(client, collection, files):
    return client.post(f"{API}/images/", {"collection": collection.pk, "files": files}, format="multipart")


@pytest.mark.parametrize("case", BAD_FILES, ids=list(BAD_FILES))
def test_a_bad_upload_is_a_400_that_stores_nothing(case, team, as_user, media_root):
    name, content, message = BAD_FILES[case]
    before_rows, before_files = Image.objects.count(), media_files(media_root)

    response = post_files(as_user(team.annotator), team.collection, [upload(name, content())])

    assert response.status_code == 400, response.content
    assert response.json()["files"] == [{"name": name, "error": response.json()["files"][0]["error"]}]
    assert message in response.json()["files"][0]["error"]
    assert Image.objects.count() == before_rows
    assert media_files(media_root) == before_files


def test_the_bomb_is_rejected_by_its_pixel_count_with_the_limit_named(team, as_user):
    response = post_files(as_user(team.annotator), team.collection, [upload("bomb.png", bomb_png())])

    assert response.status_code == 400
    error = response.json()["files"][0]["error"]
    assert "more pixels than the 100 Mpx limit" in error


def test_one_bad_file_among_good_ones_stores_nothing(team, as_user, media_root):
    before_rows, before_files = Image.objects.count(), media_files(media_root)
    files = [
        upload("good-1.png", png_bytes(seed=11)),
        upload("bad.png", b"GIF89a not really"),
        upload("good-2.png", png_bytes(seed=12)),
    ]

    response = post_files(as_user(team.annotator), team.collection, files)

    assert response.status_code == 400
    assert [f["name"] for f in response.json()["files"]] == ["bad.png"]
    assert "1 of 3" in response.json()["detail"]
    assert Image.objects.count() == before_rows
    assert media_files(media_root) == before_files


def test_many_files_are_stored_and_a_duplicate_is_reported_not_stored_twice(team, as_user, media_root):
    client = as_user(team.annotator)
    files = [upload("a.png", png_bytes(seed=21)), upload("b.png", png_bytes(seed=22))]

    response = post_files(client, team.collection, files)

    assert response.status_code == 201, response.content
    stored = response.json()["files"]
    assert [(f["name"], f["created"]) for f in stored] == [("a.png", True), ("b.png", True)]
    assert Image.objects.filter(collection=team.collection).count() == 3
    image = Image.objects.get(pk=stored[0]["image"]["id"])
    assert image.original_name == "a.png"
    assert image.uploaded_by == team.annotator
    assert not image.file.name.endswith("/a.png")  # stored under a generated key
    assert image.annotation.version == 0

    again = post_files(client, team.collection, [upload("a-again.png", png_bytes(seed=21))])

    assert again.status_code == 200
    assert again.json()["files"][0]["created"] is False
    assert again.json()["files"][0]["image"]["id"] == image.pk
    assert Image.objects.filter(collection=team.collection).count() == 3


def test_a_16_bit_tiff_keeps_its_values(team, as_user):
    content, pixels = tiff16_bytes()
    client = as_user(team.annotator)

    response = post_files(client, team.collection, [upload("deep.tif", content)])

    assert response.status_code == 201, response.content
    image = response.json()["files"][0]["image"]
    assert (image["format"], image["mode"], image["bit_depth"]) == ("TIFF", "I;16", 16)
    download = client.get(f"{API}/images/{image['id']}/file/")
    assert download.status_code == 200
    assert download["Content-Type"] == "image/tiff"
    decoded = PILImage.open(io.BytesIO(b"".join(download.streaming_content)))
    assert decoded.mode == "I;16"
    np.testing.assert_array_equal(np.asarray(decoded), pixels)


def test_the_file_is_served_with_its_type_nosniff_and_its_name(team, as_user):
    response = as_user(team.viewer).get(f"{API}/images/{team.image.pk}/file/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert 'filename="first.png"' in response["Content-Disposition"]
    assert b"".join(response.streaming_content) == team.image.file.open("rb").read()


def test_the_thumbnail_is_a_jpeg(team, as_user):
    response = as_user(team.viewer).get(f"{API}/images/{team.image.pk}/thumbnail/")

    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert PILImage.open(io.BytesIO(b"".join(response.streaming_content))).format == "JPEG"


def test_an_upload_needs_files(team, as_user):
    response = as_user(team.annotator).post(
        f"{API}/images/", {"collection": team.collection.pk}, format="multipart"
    )

    assert response.status_code == 400
    assert "files" in response.json()


@pytest.mark.parametrize("route", ["file", "thumbnail"])
def test_files_are_served_whatever_the_client_accepts(team, as_user, other_team, route):
    client = as_user(team.viewer)

    served = client.get(f"{API}/images/{team.image.pk}/{route}/", HTTP_ACCEPT="image/png")
    hidden = client.get(f"{API}/images/{other_team.image.pk}/{route}/", HTTP_ACCEPT="image/png")

    assert served.status_code == 200
    assert hidden.status_code == 404
    assert hidden["Content-Type"] == "application/json"
