import numpy as np
import pytest

from inference.ml.postprocess import defect_regions, extract_regions, region_masks
from inference.ml.thresholds import (
    ScoreNormalizer,
    f1_optimal_threshold,
    normal_quantile_threshold,
)


def test_f1_optimal_threshold_separates_clean_scores():
    # Halfway between the classes: no score sits on the threshold, where rounding would decide it.
    assert f1_optimal_threshold([0.1, 0.2, 0.8, 0.9], [0, 0, 1, 1]) == pytest.approx(0.5)
    assert f1_optimal_threshold([0.8, 0.9], [1, 1]) < 0.8


def test_thresholds_keep_a_margin_from_every_score():
    rng = np.random.default_rng(0)
    scores = rng.normal(size=200)
    labels = (scores + rng.normal(scale=0.5, size=200) > 1).astype(int)
    for threshold in (f1_optimal_threshold(scores, labels), normal_quantile_threshold(scores, 0.05)):
        assert np.abs(scores - threshold).min() > 1e-6


def test_normal_quantile_threshold_keeps_the_false_positive_rate():
    normals = np.arange(100, dtype=float)
    threshold = normal_quantile_threshold(normals, target_fpr=0.05)
    assert (normals >= threshold).mean() == pytest.approx(0.05)
    assert (normals >= normal_quantile_threshold(normals, target_fpr=0.0)).sum() == 0


def test_normal_quantile_threshold_rejects_bad_input():
    with pytest.raises(ValueError, match="at least one"):
        normal_quantile_threshold([])
    with pytest.raises(ValueError, match="target_fpr"):
        normal_quantile_threshold([1.0], target_fpr=1.5)


def test_defect_regions_drops_small_ones():
    scores = np.zeros((10, 10))
    scores[1:4, 1:4] = 1.0  # 9 px
    scores[7, 7] = 1.0  # 1 px of noise
    labels, count = defect_regions(scores, threshold=0.5, min_area=4)
    assert count == 1
    assert (labels > 0).sum() == 9
    assert defect_regions(scores, threshold=0.5)[1] == 2


def test_region_masks_are_the_pixels_of_the_regions_in_their_order():
    scores = np.zeros((12, 12))
    scores[1:3, 6:11] = 2.0  # 10 px, top right: first in label order
    scores[5:9, 1:4] = 1.0  # 12 px
    scores[11, 11] = 3.0  # noise
    regions, masks = extract_regions(scores, 0.5, 4), region_masks(scores, 0.5, 4)
    assert [region.area for region in regions] == [int(mask.sum()) for mask in masks] == [10, 12]
    for region, mask in zip(regions, masks, strict=True):
        rows, cols = np.nonzero(mask)
        assert (cols.min(), rows.min()) == (region.x, region.y)
        assert scores[mask].max() == region.peak


def test_score_normalizer_puts_the_threshold_at_one_half():
    normalizer = ScoreNormalizer.fit([2.0, 3.0, 10.0], threshold=4.0)
    np.testing.assert_allclose(normalizer([2.0, 3.0, 4.0, 10.0, 20.0]), [0.0, 0.25, 0.5, 1.0, 1.0])
    assert ScoreNormalizer(**normalizer.to_dict()) == normalizer
    with pytest.raises(ValueError):
        ScoreNormalizer(low=1.0, threshold=1.0, high=2.0)
