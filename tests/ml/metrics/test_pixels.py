import numpy as np
import pytest

from inference.ml.metrics import PixelCounts, aupro, auroc, score_thresholds


def _maps_and_masks(seed: int = 0, count: int = 6, side: int = 64):
    rng = np.random.default_rng(seed)
    maps, masks = [], []
    for i in range(count):
        mask = np.zeros((side, side), bool)
        if i % 2:
            top, left = rng.integers(0, side - 12, size=2)
            mask[top : top + rng.integers(2, 12), left : left + rng.integers(2, 12)] = True
        maps.append((rng.random((side, side)) + 0.8 * mask).astype(np.float32))
        masks.append(mask)
    return maps, masks


def test_with_few_distinct_scores_the_thresholds_are_the_scores_and_the_metrics_exact():
    maps, masks = _maps_and_masks()
    rounded = [np.round(m, 3) for m in maps]
    thresholds = score_thresholds(rounded)
    np.testing.assert_array_equal(thresholds, np.unique(np.concatenate([m.ravel() for m in rounded])))
    counts = PixelCounts.of(rounded, masks)
    exact = auroc(np.concatenate([m.ravel() for m in rounded]), np.concatenate([m.ravel() for m in masks]))
    assert counts.pixel_auroc() == pytest.approx(exact, abs=1e-12)


def test_binned_metrics_stay_within_a_small_tolerance_of_the_exact_ones():
    maps, masks = _maps_and_masks(seed=1)
    exact_auroc = auroc(np.concatenate([m.ravel() for m in maps]), np.concatenate([m.ravel() for m in masks]))
    exact_aupro = aupro(maps, masks)  # 24,576 distinct scores: exact
    binned = PixelCounts(score_thresholds(maps, most=2048))
    for anomaly_map, mask in zip(maps, masks, strict=True):
        binned.add(anomaly_map, mask)
    assert len(binned.thresholds) == 2048
    assert binned.pixel_auroc() == pytest.approx(exact_auroc, abs=1e-3)
    assert binned.aupro() == pytest.approx(exact_aupro, abs=2e-3)
    assert binned.pixel_auroc() != exact_auroc  # the binning did happen


def test_a_missing_mask_counts_every_pixel_as_normal_and_bad_shapes_are_refused():
    maps, masks = _maps_and_masks(count=2)
    with_none = PixelCounts.of(maps, [None, masks[1]])
    with_zeros = PixelCounts.of(maps, [np.zeros_like(masks[0]), masks[1]])
    assert with_none.pixel_auroc() == with_zeros.pixel_auroc() and with_none.n_regions == 1
    with pytest.raises(ValueError, match="differ in shape"):
        with_none.add(maps[0], masks[0][:10])
    with pytest.raises(ValueError, match="both defect and defect-free"):
        PixelCounts.of(maps[:1], [None]).pixel_auroc()
