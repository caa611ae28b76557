import io

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.models import Image
from annotations.services.ingest import ImageRejected, image_inspect, image_store
from tests.conftest import png_bytes


def encode(array: np.ndarray, image_format: str, **options) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(array).save(out, format=image_format, **options)
    return out.getvalue()


def test_16_bit_tiff_is_stored_with_its_values(team, media_root):
    values = np.arange(0, 65536, 1021, dtype=np.uint16)[:60].reshape(6, 10)
    inspected = image_inspect(content=encode(values, "TIFF"))
    stored = image_store(collection=team.collection, inspected=inspected, original_name="deep.tif")

    assert (stored.image.format, stored.image.mode, stored.image.bit_depth) == ("TIFF", "I;16", 16)
    with PILImage.open(media_root / stored.image.file.name) as reopened:
        assert np.array_equal(np.asarray(reopened), values)
    with PILImage.open(media_root / stored.image.thumbnail.name) as thumbnail:
        # The display copy spans the full 8-bit range whatever the 16-bit values were.
        assert thumbnail.mode == "L"
        assert np.asarray(thumbnail).min() < 10 and np.asarray(thumbnail).max() > 245


@pytest.mark.parametrize(
    ("image_format", "mode"), [("PNG", "L"), ("JPEG", "RGB"), ("BMP", "RGB"), ("WEBP", "RGB"), ("TIFF", "L")]
)
def test_each_allowed_format_is_detected_from_the_content(image_format, mode):
    array = np.random.default_rng(0).integers(
        0, 256, (20, 30, 3) if mode == "RGB" else (20, 30), dtype=np.uint8
    )
    inspected = image_inspect(content=encode(array, image_format))
    assert (inspected.format, inspected.width, inspected.height, inspected.mode) == (
        image_format,
        30,
        20,
        mode,
    )


def test_exif_orientation_is_applied_once():
    array = np.zeros((20, 40, 3), dtype=np.uint8)
    array[:, :10] = 255  # a white band on the left of the stored pixels
    exif = PILImage.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    inspected = image_inspect(content=encode(array, "JPEG", exif=exif.tobytes(), quality=95))

    assert (inspected.width, inspected.height) == (20, 40)
    assert inspected.metadata["exif_orientation_applied"] == 6
    upright = PILImage.open(io.BytesIO(inspected.content))
    assert upright.getexif().get(0x0112, 1) == 1  # nothing left to rotate a second time
    assert np.asarray(upright.convert("L"))[:10].mean() > 200  # the band is now at the top


def test_too_many_pixels_is_refused_with_the_size_named(settings):
    settings.LOUPE_MAX_IMAGE_PIXELS = 1000
    with pytest.raises(ImageRejected, match="40×30 px"):
        image_inspect(content=png_bytes(40, 30))


def test_the_same_content_is_stored_once_per_collection(team, media_root):
    files_before = sorted(media_root.rglob("*"))
    original = (media_root / team.image.file.name).read_bytes()
    again = image_store(collection=team.collection, inspected=image_inspect(content=original))

    assert not again.created and again.image.pk == team.image.pk
    assert sorted(media_root.rglob("*")) == files_before
    assert Image.objects.filter(collection=team.collection).count() == 1
