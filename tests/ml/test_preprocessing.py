import numpy as np
import pytest
from PIL import Image

from inference.ml.preprocessing import PreprocessConfig, image_views, stitch, to_float_rgb, valid_grid


def test_sixteen_bit_grayscale_is_scaled_by_its_range():
    pixels = np.array([[0, 32768, 65535]], dtype=np.uint16)
    pil = Image.fromarray(pixels)
    assert pil.mode == "I;16"
    for image in (pixels, pil):
        rgb = to_float_rgb(image)
        assert rgb.shape == (1, 3, 3)
        np.testing.assert_allclose(rgb[0, :, 0], [0.0, 32768 / 65535, 1.0], atol=1e-6)
        np.testing.assert_array_equal(rgb[..., 0], rgb[..., 2])


def test_eight_bit_grayscale_and_rgba():
    gray = to_float_rgb(Image.fromarray(np.full((4, 5), 255, np.uint8)))
    assert gray.shape == (4, 5, 3) and gray.max() == 1.0
    rgba = to_float_rgb(np.zeros((4, 5, 4), np.uint8))
    assert rgba.shape == (4, 5, 3)


def test_letterbox_keeps_aspect_ratio_and_marks_padding_invalid():
    image = np.zeros((100, 50), np.uint8)
    [(canvas, view)] = image_views(image, 0, PreprocessConfig(image_size=64))
    assert canvas.shape == (3, 64, 64)
    assert view.valid == (0, 0, 64, 32) and view.scaled_shape == (64, 32)
    grid = valid_grid(view, (8, 8), 64)
    assert grid[:, :4].all() and not grid[:, 4:].any()


def test_five_pixel_scratch_on_a_large_image_survives_tiling():
    image = np.full((2000, 2000), 128, np.uint8)
    image[1200:1205, 300:1700] = 0  # 5-pixel dark scratch
    config = PreprocessConfig(image_size=256, mode="tile", tile_overlap=32)
    views = image_views(image, 0, config)
    assert len(views) == 81  # 9 x 9 tiles of 256 px with at least 32 px overlap
    darkest = min(float(canvas.min()) for canvas, _ in views)
    assert darkest == 0.0  # full contrast: the scratch was not blurred away
    scratch_rows = {int((canvas[0] == 0).any(dim=1).sum()) for canvas, _ in views if (canvas[0] == 0).any()}
    assert scratch_rows == {5}


@pytest.mark.parametrize("mode", ["letterbox", "resize", "tile"])
def test_stitch_puts_canvas_maps_back_at_the_original_size(mode):
    image = np.zeros((90, 300), np.uint8)
    config = PreprocessConfig(image_size=64, mode=mode, tile_scale=0.5, tile_overlap=8)
    views = image_views(image, 0, config)
    merged = stitch([np.full((64, 64), 3.0, np.float32) for _ in views], [v for _, v in views])
    assert merged.shape == (90, 300)
    np.testing.assert_allclose(merged, 3.0)


def test_bad_configuration_is_rejected():
    with pytest.raises(ValueError, match="multiple of 32"):
        PreprocessConfig(image_size=100)
    with pytest.raises(ValueError, match="mode"):
        PreprocessConfig(mode="crop")  # type: ignore[arg-type]
