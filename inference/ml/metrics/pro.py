"""Per-region overlap (PRO) and its normalised area up to a false-positive-rate limit (AUPRO).

Definition of Bergmann et al., "The MVTec Anomaly Detection Dataset", IJCV 2021: every connected
defect region (8-connectivity) counts equally, whatever its size; the false-positive rate is over all
defect-free pixels of all images; the PRO curve is integrated from FPR 0 to ``fpr_limit`` and divided
by ``fpr_limit``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)


def pro_curve(
    anomaly_maps: Sequence[NDArray[np.floating]], masks: Sequence[NDArray[np.generic]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """False-positive rate and mean region overlap at every distinct pixel score.

    A pixel in region ``r`` (of ``K`` regions overall) adds ``1 / (K * |r|)`` to the mean overlap once
    the threshold falls to its score, so one sort of all pixels gives the whole curve.

    Args:
        anomaly_maps: ``(H_i, W_i)`` maps.
        masks: ``(H_i, W_i)`` ground truth, non-zero on defects.

    Returns:
        ``(fpr, pro)``, each ``(T + 1,)`` starting at (0, 0).

    Raises:
        ValueError: no defect region, no defect-free pixel, or shapes that differ.
    """
    scores: list[NDArray[np.float32]] = []
    region_sizes: list[NDArray[np.int64]] = []
    pixel_regions: list[NDArray[np.int64]] = []
    offset = 0
    for anomaly_map, mask in zip(anomaly_maps, masks, strict=True):
        if anomaly_map.shape != mask.shape:
            raise ValueError(f"anomaly map {anomaly_map.shape} and mask {mask.shape} differ in shape")
        labeled, count = ndimage.label(np.asarray(mask) != 0, structure=_EIGHT_CONNECTED)
        scores.append(np.asarray(anomaly_map, np.float32).ravel())
        region = labeled.ravel().astype(np.int64)
        pixel_regions.append(np.where(region > 0, region + offset, 0))
        region_sizes.append(np.bincount(region, minlength=count + 1)[1:])
        offset += count
    if offset == 0:
        raise ValueError("AUPRO needs at least one defect region in the masks")
    sizes = np.concatenate(region_sizes)
    all_regions = np.concatenate(pixel_regions)
    weight_of_region = np.r_[0.0, 1.0 / (offset * sizes)]
    all_scores = np.concatenate(scores)
    del scores
    normal = all_regions == 0
    n_normal = int(normal.sum())
    if n_normal == 0:
        raise ValueError("AUPRO needs defect-free pixels to measure false positives")
    order = np.argsort(all_scores, kind="stable")[::-1]
    sorted_scores = all_scores[order]
    last_of_each = np.r_[np.flatnonzero(np.diff(sorted_scores)), sorted_scores.size - 1]
    fpr = np.cumsum(normal[order], dtype=np.int64)[last_of_each] / n_normal
    pro = np.cumsum(weight_of_region[all_regions[order]])[last_of_each]
    return np.r_[0.0, fpr], np.r_[0.0, np.minimum(pro, 1.0)]


def aupro(
    anomaly_maps: Sequence[NDArray[np.floating]],
    masks: Sequence[NDArray[np.generic]],
    fpr_limit: float = 0.3,
) -> float:
    """Normalised area under the PRO curve from FPR 0 to ``fpr_limit`` (1 is perfect).

    The curve is interpolated linearly at ``fpr_limit``.

    Args:
        anomaly_maps: ``(H_i, W_i)`` maps, higher is more anomalous.
        masks: ``(H_i, W_i)`` ground truth, non-zero on defects.
        fpr_limit: upper FPR limit of the integration, in (0, 1].

    Raises:
        ValueError: see :func:`pro_curve`, or ``fpr_limit`` outside (0, 1].
    """
    if not 0 < fpr_limit <= 1:
        raise ValueError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
    fpr, pro = pro_curve(anomaly_maps, masks)
    inside = fpr <= fpr_limit
    x = fpr[inside]
    y = pro[inside]
    if x[-1] < fpr_limit:
        x = np.r_[x, fpr_limit]
        y = np.r_[y, np.interp(fpr_limit, fpr, pro)]
    return float(np.trapezoid(y, x) / fpr_limit)
