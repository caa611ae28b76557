import numpy as np
import pytest
from PIL import Image

from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.features import narrowest_defect
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.preprocessing import (
    PreprocessConfig,
    choose_canvas,
    image_views,
    stitch,
    to_float_rgb,
    valid_grid,
)


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


def test_images_that_fit_the_canvas_are_letterboxed():
    choice = choose_canvas([(200, 300), (256, 256)], 320)
    assert (choice.mode, choice.tile_scale) == ("letterbox", 1.0) and "fit the canvas" in choice.reason


def test_large_images_without_labels_are_tiled_so_the_shorter_side_keeps_the_canvas_resolution():
    choice = choose_canvas([(460, 1130)] * 3, 320)
    assert choice.mode == "tile" and choice.tile_scale == pytest.approx(0.7)
    assert "no labeled defect" in choice.reason
    # Only a little larger than the canvas: letterboxing loses little.
    assert choose_canvas([(340, 340)], 320).mode == "letterbox"
    assert choose_canvas([(264, 356)], 320).mode == "letterbox"
    # Never above native resolution.
    assert choose_canvas([(100, 2000)], 320).tile_scale == 1.0


def test_the_narrowest_labeled_defect_sets_the_scale():
    # 4 px wide at native resolution: tiles at native scale keep it visible.
    assert choose_canvas([(460, 1130)], 320, smallest_defect=4).tile_scale == 1.0
    # 200 px wide: the letterbox (scale 0.28) keeps 57 px of it, so resizing loses nothing.
    wide = choose_canvas([(460, 1130)], 320, smallest_defect=200)
    assert wide.mode == "letterbox" and "loses little" in wide.reason
    assert choose_canvas([(460, 1130)], 320, smallest_defect=32).tile_scale == pytest.approx(0.5)


def test_narrowest_defect_reads_mask_regions_and_boxes():
    image = np.zeros((100, 100), np.uint8)
    mask = np.zeros((100, 100), bool)
    mask[10:30, 10:30] = True  # 20 px wide
    for i in range(60):
        mask[30 + i // 2, 40 + i] = True  # a thin diagonal scratch, about 1 px wide
    assert narrowest_defect([LabeledImage(image, "mask", mask=mask)]) == pytest.approx(1.0)
    assert narrowest_defect([LabeledImage(image, "box", boxes=((0, 0, 40, 12),))]) == 12
    assert narrowest_defect([LabeledImage(image, "image")]) is None


def test_auto_canvas_is_settled_at_fit_and_recorded(small_params):
    large = [np.random.default_rng(i).integers(0, 255, (96, 400), np.uint8) for i in range(2)]
    model = get_algorithm("patchcore", device="cpu", **small_params())
    assert model.params.preprocess_mode == "auto"
    report = model.fit(large)
    assert model.params.preprocess_mode == "tile" and model.params.tile_scale == 1.0
    assert report.details["canvas"] == model.canvas_reason and "tiled at scale 1.0" in model.canvas_reason
    padim = get_algorithm("padim", device="cpu", **small_params())
    padim.fit(large)
    assert padim.params.preprocess_mode == "letterbox"
