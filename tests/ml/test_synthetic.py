import numpy as np
import pytest

from inference.ml.synthetic import DEFECT_KINDS, TEXTURE_STYLES, add_defect, normal_texture


@pytest.mark.parametrize("style", TEXTURE_STYLES)
def test_normal_texture_is_reproducible(style):
    first = normal_texture(np.random.default_rng(3), (48, 64), style=style)
    second = normal_texture(np.random.default_rng(3), (48, 64), style=style)
    assert first.shape == (48, 64) and first.dtype == np.uint8
    np.testing.assert_array_equal(first, second)
    assert 60 < first.mean() < 200 and first.std() > 3


@pytest.mark.parametrize("kind", DEFECT_KINDS)
def test_each_defect_changes_the_pixels_under_its_mask(kind):
    rng = np.random.default_rng(1)
    normal = normal_texture(rng, 96, color=True)
    defective, mask, drawn = add_defect(normal, rng, kind)
    assert drawn == kind and defective.shape == normal.shape and mask.shape == (96, 96)
    assert 10 < mask.sum() < 0.2 * mask.size
    difference = np.abs(defective.astype(int) - normal.astype(int)).max(axis=2)
    assert difference[mask].mean() > 3 * max(difference[~mask].mean(), 1.0)


def test_random_kind_and_bad_input():
    kinds = {
        add_defect(normal_texture(np.random.default_rng(s), 32), np.random.default_rng(s))[2]
        for s in range(30)
    }
    assert kinds == set(DEFECT_KINDS)
    with pytest.raises(ValueError, match="unknown defect kind"):
        add_defect(normal_texture(np.random.default_rng(0), 32), np.random.default_rng(0), "dent")
