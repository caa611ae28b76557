"""What the line is told of where a defect is: a defective part's regions, boxes with an area inside
the image and on the defect; a normal part's none."""

import numpy as np
import pytest

from inference.ml.synthetic import add_defect, normal_texture
from line.services.inspection import inspect_images
from tests.line.conftest import line_images

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]

SIZE = 64  # px, the side of line_images' parts


def _defect_masks(count: int, *, seed: int) -> list[np.ndarray]:
    """Where line_images(count, seed=seed, defective=count) drew its defects (the same draws)."""
    rng = np.random.default_rng(seed)
    return [add_defect(normal_texture(rng, SIZE), rng, kind="stain")[1] for _ in range(count)]


def test_a_defective_part_answers_its_regions_and_a_normal_part_none(line_version, team):
    masks = _defect_masks(4, seed=31)
    results = inspect_images(collection=team.collection, uploads=line_images(8, seed=31, defective=4)).results
    defective, normal = results[:4], results[4:]

    # A part may be flagged on a blob too small to outline (under 16 px); most defects are outlined.
    outlined = [(result, mask) for result, mask in zip(defective, masks, strict=True) if result["regions"]]
    assert len(outlined) >= 3, defective
    for result, mask in outlined:
        assert result["decision"] == "defective"
        for region in result["regions"]:
            assert {"x", "y", "width", "height", "area", "peak"} <= set(region)
            x, y, width, height = region["x"], region["y"], region["width"], region["height"]
            assert 0 <= x < x + width <= SIZE and 0 <= y < y + height <= SIZE
            assert 0 < region["area"] <= width * height
            assert region["peak"] >= line_version.pixel_threshold
        assert any(
            mask[r["y"] : r["y"] + r["height"], r["x"] : r["x"] + r["width"]].any() for r in result["regions"]
        )
    assert [result["regions"] for result in normal] == [[]] * 4
    assert all(result["decision"] == "normal" for result in normal)
