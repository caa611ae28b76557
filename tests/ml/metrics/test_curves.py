import numpy as np
import pytest
from scipy import ndimage
from sklearn.metrics import precision_recall_curve, roc_auc_score

from inference.ml.metrics import aupro, auroc, f1_max, pro_curve, threshold_stats


def test_auroc_hand_computed():
    # Pairs (defect, normal) ranked correctly: 0.8>0.3, 0.8>0.5, 0.4>0.3; 0.4<0.5 -> 3 of 4.
    assert auroc([0.8, 0.4, 0.3, 0.5], [1, 1, 0, 0]) == pytest.approx(0.75)


def test_auroc_counts_ties_as_half():
    assert auroc([0.5, 0.5], [1, 0]) == pytest.approx(0.5)


@pytest.mark.parametrize("seed", range(5))
def test_auroc_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(300) < 0.3
    scores = np.round(rng.normal(labels * 1.0, 1.0), 1)  # rounding makes ties
    assert auroc(scores, labels) == pytest.approx(roc_auc_score(labels, scores), abs=1e-12)


def test_auroc_needs_both_classes():
    with pytest.raises(ValueError, match="both"):
        auroc([0.1, 0.2], [0, 0])


def test_f1_max_hand_computed():
    # Threshold 0.7 flags {0.9, 0.7}: P=1, R=2/3, F1=0.8; threshold 0.4: P=3/4, R=1, F1=6/7.
    best = f1_max([0.9, 0.7, 0.5, 0.4, 0.1], [1, 1, 0, 1, 0])
    assert best.f1 == pytest.approx(6 / 7)
    assert best.threshold == pytest.approx(0.4)
    assert (best.precision, best.recall) == (pytest.approx(0.75), pytest.approx(1.0))


@pytest.mark.parametrize("seed", range(3))
def test_f1_max_matches_scikit_learn(seed):
    rng = np.random.default_rng(seed)
    labels = rng.random(200) < 0.4
    scores = rng.normal(labels * 1.5, 1.0)
    precision, recall, _ = precision_recall_curve(labels, scores)
    with np.errstate(invalid="ignore"):
        expected = np.nanmax(2 * precision * recall / (precision + recall))
    assert f1_max(scores, labels).f1 == pytest.approx(expected)


def test_threshold_stats_hand_computed():
    stats = threshold_stats([0.9, 0.6, 0.2, 0.7, 0.1], [1, 1, 1, 0, 0], threshold=0.5)
    assert (stats.true_positives, stats.false_positives, stats.true_negatives, stats.false_negatives) == (
        2,
        1,
        1,
        1,
    )
    assert stats.precision == pytest.approx(2 / 3)
    assert stats.recall == pytest.approx(2 / 3)
    assert stats.fpr == pytest.approx(0.5)
    assert stats.fnr == pytest.approx(1 / 3)


def test_aupro_hand_computed():
    # Regions: A = pixel 0, B = pixels 4-5; normal pixels 1, 2, 3.
    # Curve: (0, 0) -> t=0.9 (0, 1/2) -> t=0.8 (0, 3/4) -> t=0.5 (1/3, 1) -> (2/3, 1) -> (1, 1).
    # Area to FPR 0.3: 0.3 * 3/4 + 0.5 * 0.3 * (0.9 * 1/4) = 0.25875; normalised: / 0.3.
    scores = np.array([[0.9, 0.1, 0.5, 0.2, 0.8, 0.5]])
    mask = np.array([[1, 0, 0, 0, 1, 1]])
    assert aupro([scores], [mask]) == pytest.approx(0.25875 / 0.3)
    # Up to FPR 1 the curve is 3/4 then rises to 1 on [0, 1/3], then flat: 1/3 * 7/8 + 2/3 * 1.
    assert aupro([scores], [mask], fpr_limit=1.0) == pytest.approx(7 / 24 + 2 / 3)


def _brute_force_pro(maps, masks, thresholds):
    """FPR and mean per-region overlap, threshold by threshold, straight from the definition."""
    labeled = [ndimage.label(mask, structure=np.ones((3, 3))) for mask in masks]
    normal = sum((mask == 0).sum() for mask in masks)
    fprs, pros = [], []
    for t in thresholds:
        fprs.append(sum(((m >= t) & (k == 0)).sum() for m, k in zip(maps, masks, strict=True)) / normal)
        overlaps = [
            ((m >= t) & (regions == i)).sum() / (regions == i).sum()
            for m, (regions, count) in zip(maps, labeled, strict=True)
            for i in range(1, count + 1)
        ]
        pros.append(np.mean(overlaps))
    return np.array(fprs), np.array(pros)


def test_pro_curve_matches_brute_force():
    rng = np.random.default_rng(0)
    masks = [np.zeros((12, 12), bool) for _ in range(3)]
    masks[0][2:5, 2:6] = True
    masks[0][8:11, 9:11] = True
    masks[2][5:9, 5:7] = True
    maps = [np.round(rng.random((12, 12)) + 0.6 * m, 2) for m in masks]
    fpr, pro = pro_curve(maps, masks)
    thresholds = np.unique(np.concatenate([m.ravel() for m in maps]))[::-1]
    expected_fpr, expected_pro = _brute_force_pro(maps, masks, thresholds)
    np.testing.assert_allclose(fpr[1:], expected_fpr)
    np.testing.assert_allclose(pro[1:], expected_pro)


def test_aupro_is_one_for_a_perfect_map_and_needs_a_region():
    mask = np.zeros((8, 8), bool)
    mask[2:4, 2:4] = True
    assert aupro([mask.astype(float)], [mask]) == pytest.approx(1.0)
    with pytest.raises(ValueError, match="region"):
        aupro([np.zeros((8, 8))], [np.zeros((8, 8), bool)])
