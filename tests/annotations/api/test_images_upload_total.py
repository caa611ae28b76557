"""Ingest is total: unusual but valid files are stored or refused with a reason, never a 500; and a
batch is all-or-nothing in the database and in storage, whichever store fails."""

import io
import json
import struct

import numpy as np
import pytest
from django.core.files.storage import FileSystemStorage, default_storage
from PIL import Image as PILImage
from PIL import ImageFile

from annotations.models import Annotation, Image
from tests.annotations.api.helpers import API, media_files, png_bytes, upload


def exif_bytes(entries: list[tuple[int, int, int, bytes]]) -> bytes:
    """Raw little-endian EXIF with one IFD of (tag, type, count, payload) entries, any type at all."""
    data_offset = 8 + 2 + 12 * len(entries) + 4
    ifd, extra = struct.pack("<H", len(entries)), b""
    for tag, kind, count, payload in entries:
        if len(payload) <= 4:
            ifd += struct.pack("<HHI", tag, kind, count) + payload.ljust(4, b"\0")
        else:
            ifd += struct.pack("<HHII", tag, kind, count, data_offset + len(extra))
            extra += payload
    return b"Exif\0\0II*\0" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + extra


def encoded(image_format: str, picture: PILImage.Image | None = None, **options) -> bytes:
    if picture is None:
        pixels = np.random.default_rng(7).integers(0, 256, (20, 30, 3), dtype=np.uint8)
        picture = PILImage.fromarray(pixels)
    out = io.BytesIO()
    picture.save(out, format=image_format, **options)
    return out.getvalue()


FRAMES = [PILImage.new("RGB", (20, 20), color) for color in ("red", "green", "blue")]
MULTI_FRAME = {
    "animated png": ("anim.png", "PNG"),
    "animated webp": ("anim.webp", "WEBP"),
    "multi-page tiff": ("pages.tif", "TIFF"),
}
# Orientation (0x0112) stored as every EXIF type but the SHORT the standard asks for, and worse.
ODD_ORIENTATIONS = {
    "rational": (5, 1, struct.pack("<II", 6, 1)),
    "signed rational": (10, 1, struct.pack("<ii", -6, 1)),
    "ascii": (2, 2, b"6\0"),
    "bytes": (7, 1, b"\x06"),
    "double": (12, 1, struct.pack("<d", 6.0)),
    "huge string": (2, 200_000, b"x" * 199_999 + b"\0"),
    "unknown type": (99, 1, b"\x06\0"),
    "count beyond the file": (3, 0x7FFFFFFF, b"\x06\0"),
}


def post_files(client, collection, files):
    return client.post(f"{API}/images/", {"collection": collection.pk, "files": files}, format="multipart")


@pytest.mark.parametrize("case", MULTI_FRAME, ids=list(MULTI_FRAME))
def test_a_file_of_several_frames_is_refused_with_why(case, team, as_user, media_root):
    name, image_format = MULTI_FRAME[case]
    content = encoded(image_format, FRAMES[0], save_all=True, append_images=FRAMES[1:])
    before = media_files(media_root)

    response = post_files(as_user(team.annotator), team.collection, [upload(name, content)])

    assert response.status_code == 400, response.content
    assert "3 frames" in response.json()["files"][0]["error"]
    assert media_files(media_root) == before


def test_an_mpo_is_stored_as_its_first_jpeg_and_shown(team, as_user, client):
    content = encoded("MPO", FRAMES[0], save_all=True, append_images=FRAMES[1:])

    response = post_files(as_user(team.annotator), team.collection, [upload("stereo.jpg", content)])

    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["files"][0]["image"]["id"])
    assert (image.format, image.width, image.height, image.metadata["pictures"]) == ("JPEG", 20, 20, 3)
    client.force_login(team.viewer)
    shown = client.get(f"/images/{image.pk}/display/")
    assert shown.status_code == 200 and shown["Content-Type"] == "image/jpeg"


@pytest.mark.parametrize("image_format", ["PNG", "WEBP", "JPEG"])
@pytest.mark.parametrize("case", ODD_ORIENTATIONS, ids=list(ODD_ORIENTATIONS))
def test_odd_exif_values_are_stored_with_json_metadata_and_upright_as_sent(case, image_format, team, as_user):
    kind, count, payload = ODD_ORIENTATIONS[case]
    exif = exif_bytes([(0x0112, kind, count, payload), (0x010E, 2, 5, b"note\0")])
    if image_format == "JPEG" and len(exif) > 65_000:
        pytest.skip("a JPEG segment holds at most 64 KiB")
    content = encoded(image_format, exif=exif)

    response = post_files(as_user(team.annotator), team.collection, [upload(f"odd.{image_format}", content)])

    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["files"][0]["image"]["id"])
    # Only the eight orientations of the standard move pixels; nothing else reaches the metadata.
    assert (image.width, image.height) == (30, 20)
    assert json.loads(json.dumps(image.metadata)) == {"frames": 1}


@pytest.mark.parametrize(
    ("mode", "image_format"), [("CMYK", "JPEG"), ("I;16", "PNG"), ("RGBA", "WEBP")], ids=str
)
def test_an_orientation_is_applied_in_any_mode_with_a_lossless_copy(mode, image_format, team, as_user):
    picture = PILImage.new(mode, (30, 20))
    exif = exif_bytes([(0x0112, 3, 1, struct.pack("<H", 6))])
    content = encoded(image_format, picture, exif=exif)

    response = post_files(as_user(team.annotator), team.collection, [upload("turned", content)])

    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["files"][0]["image"]["id"])
    assert (image.width, image.height, image.mode) == (20, 30, mode)
    assert image.format == ("TIFF" if mode == "CMYK" else "PNG")
    with default_storage.open(image.file.name) as stored, PILImage.open(stored) as reopened:
        assert reopened.size == (20, 30)


def test_any_exception_from_pillow_is_a_refusal_with_a_reason(team, as_user, monkeypatch, media_root):
    def broken_load(self):
        raise struct.error("unpack requires a buffer of 4 bytes")

    content, before = png_bytes(seed=4), media_files(media_root)
    monkeypatch.setattr(ImageFile.ImageFile, "load", broken_load)

    response = post_files(as_user(team.annotator), team.collection, [upload("odd.png", content)])

    assert response.status_code == 400
    assert "unpack requires a buffer" in response.json()["files"][0]["error"]
    assert media_files(media_root) == before


BATCH = 4


@pytest.mark.parametrize("failing_save", range(1, 2 * BATCH + 1))
def test_a_batch_whose_nth_file_save_fails_leaves_no_row_and_no_file(
    failing_save, team, as_user, media_root, monkeypatch
):
    """Each image saves two files (original, thumbnail): every one of them fails once."""
    before_rows, before_files = Image.objects.count(), media_files(media_root)
    original_save = FileSystemStorage.save
    calls = []

    def save(self, name, content, max_length=None):
        calls.append(name)
        if len(calls) == failing_save:
            raise OSError("No space left on device")
        return original_save(self, name, content, max_length=max_length)

    monkeypatch.setattr(FileSystemStorage, "save", save)
    files = [upload(f"good-{i}.png", png_bytes(seed=40 + i)) for i in range(BATCH)]

    with pytest.raises(OSError, match="No space left"):
        post_files(as_user(team.annotator), team.collection, files)

    assert len(calls) == failing_save
    assert Image.objects.count() == before_rows
    assert media_files(media_root) == before_files


@pytest.mark.parametrize("failing_row", range(1, BATCH + 1))
def test_a_batch_whose_nth_row_fails_leaves_no_row_and_no_file(
    failing_row, team, as_user, media_root, monkeypatch
):
    before_rows, before_files = Image.objects.count(), media_files(media_root)
    original_create = Annotation.objects.create
    rows = []

    def create(**fields):
        rows.append(fields)
        if len(rows) == failing_row:
            raise RuntimeError("the database went away")
        return original_create(**fields)

    monkeypatch.setattr(Annotation.objects, "create", create)
    files = [upload(f"good-{i}.png", png_bytes(seed=50 + i)) for i in range(BATCH)]

    with pytest.raises(RuntimeError, match="went away"):
        post_files(as_user(team.annotator), team.collection, files)

    assert Image.objects.count() == before_rows
    assert media_files(media_root) == before_files


def test_a_failure_after_every_file_was_stored_removes_them_all(team, as_user, media_root, monkeypatch):
    # The route's view set is the inference one, which scores what an upload added.
    from inference.api.views import ImageViewSet

    before_rows, before_files = Image.objects.count(), media_files(media_root)

    def images_added(self, collection, image_ids):
        assert len(image_ids) == BATCH and len(media_files(media_root)) == len(before_files) + 2 * BATCH
        raise RuntimeError("the broker is down")

    monkeypatch.setattr(ImageViewSet, "images_added", images_added)
    files = [upload(f"good-{i}.png", png_bytes(seed=60 + i)) for i in range(BATCH)]

    with pytest.raises(RuntimeError, match="broker"):
        post_files(as_user(team.annotator), team.collection, files)

    assert Image.objects.count() == before_rows
    assert media_files(media_root) == before_files
