import io

import numpy as np
import pytest
from django.urls import reverse
from PIL import Image as PILImage

from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from tests.frontend.helpers import add_image, decode, label, mask_region


def test_thumbnail_is_the_stored_jpeg_with_private_caching(client, team):
    client.force_login(team.viewer)
    response = client.get(reverse("image-thumbnail", args=[team.image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/jpeg"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    assert decode(b"".join(response.streaming_content)).format == "JPEG"

    again = client.get(reverse("image-thumbnail", args=[team.image.pk]), HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304


def test_display_streams_a_browser_format_as_stored(client, team, media_root):
    client.force_login(team.viewer)
    response = client.get(reverse("image-display", args=[team.image.pk]))
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == (media_root / team.image.file.name).read_bytes()


def test_display_renders_a_16_bit_tiff_as_an_8_bit_png_once_kept_beside_the_thumbnail(
    client, team, media_root, monkeypatch
):
    values = np.linspace(1000, 3000, 40 * 30).reshape(30, 40).astype(np.uint16)
    out = io.BytesIO()
    PILImage.fromarray(values).save(out, format="TIFF")
    image = add_image(team.collection, "deep.tif", seed=0, content=out.getvalue())
    assert (image.format, image.bit_depth) == ("TIFF", 16)
    client.force_login(team.viewer)

    response = client.get(reverse("image-display", args=[image.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    shown = decode(b"".join(response.streaming_content))
    assert (shown.format, shown.mode, shown.size) == ("PNG", "L", (40, 30))
    pixels = np.asarray(shown)
    assert pixels.min() == 0 and pixels.max() == 255  # stretched over the actual range
    rendition = media_root / image.thumbnail.name.replace(".jpg", ".display.png")
    assert rendition.is_file()

    # Later requests serve the kept rendition: the original is not decoded again.
    monkeypatch.setattr(PILImage, "open", lambda *args, **kwargs: pytest.fail("decoded again"))
    again = client.get(reverse("image-display", args=[image.pk]))
    assert b"".join(again.streaming_content) == rendition.read_bytes()


def test_labels_png_has_the_image_size_and_colour_exactly_where_masks_are(client, team):
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    scratch_mask = np.zeros((24, 32), dtype=bool)
    scratch_mask[3:9, 4:15] = True
    dent_mask = np.zeros((24, 32), dtype=bool)
    dent_mask[15:20, 0:32] = True
    dent_mask[23, 31] = True  # the very last pixel
    label(
        team.image,
        author=team.annotator,
        verdict="defective",
        regions=[
            mask_region(scratch_mask, team.defect_type.pk),
            mask_region(dent_mask, dent.pk),
            RegionInput(kind="box", geometry={"x": 20.0, "y": 1.0, "width": 5.0, "height": 5.0}),
        ],
    )
    client.force_login(team.viewer)

    response = client.get(reverse("image-labels", args=[team.image.pk]))

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert "private" in response["Cache-Control"]
    overlay = decode(response.content)
    assert overlay.mode == "RGBA"
    assert overlay.size == (team.image.width, team.image.height) == (32, 24)
    pixels = np.asarray(overlay)
    alpha = pixels[..., 3]
    np.testing.assert_array_equal(alpha > 0, scratch_mask | dent_mask)  # the box is the SVG's, not here
    assert tuple(pixels[5, 5]) == (0xE6, 0x19, 0x4B, pixels[5, 5, 3])  # scratch's colour
    assert tuple(pixels[16, 30, :3]) == (0x3C, 0xB4, 0x4B)  # dent's colour
    assert 0 < alpha.max() < 255  # semi-transparent


def test_labels_png_etag_follows_the_annotation_version(client, team):
    client.force_login(team.viewer)
    url = reverse("image-labels", args=[team.image.pk])
    empty = client.get(url)
    assert not np.asarray(decode(empty.content))[..., 3].any()
    assert client.get(url, HTTP_IF_NONE_MATCH=empty["ETag"]).status_code == 304

    mask = np.zeros((24, 32), dtype=bool)
    mask[0, 0] = True
    label(team.image, author=team.annotator, regions=[mask_region(mask, team.defect_type.pk)])

    changed = client.get(url, HTTP_IF_NONE_MATCH=empty["ETag"])
    assert changed.status_code == 200
    assert changed["ETag"] != empty["ETag"]
    assert np.asarray(decode(changed.content))[0, 0, 3] > 0


@pytest.mark.parametrize("name", ["image-thumbnail", "image-display", "image-labels"])
def test_another_teams_image_bytes_are_a_404(client, team, other_team, name):
    client.force_login(team.manager)
    assert client.get(reverse(name, args=[other_team.image.pk])).status_code == 404
    assert client.get(reverse(name, args=[team.image.pk])).status_code == 200
