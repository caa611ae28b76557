"""Pixel metrics — pixel AUROC and the per-region overlap (PRO) with its normalised area (AUPRO) —
counted map by map into histograms, so memory does not grow with the number or size of the maps.

PRO follows Bergmann et al., "The MVTec Anomaly Detection Dataset", IJCV 2021: every connected defect
region (8-connectivity) counts equally, whatever its size; the false-positive rate is over all
defect-free pixels of all images; the PRO curve is integrated from FPR 0 to ``fpr_limit`` and divided
by ``fpr_limit``.

Every pixel is counted at the highest of a fixed set of thresholds it reaches. When the maps hold at
most :data:`MOST_THRESHOLDS` distinct values the thresholds are those values and the metrics are exact;
otherwise they are quantiles of the pixel scores, and a metric moves by at most about
``1 / MOST_THRESHOLDS``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

_EIGHT_CONNECTED = np.ones((3, 3), dtype=bool)
MOST_THRESHOLDS = 1 << 16
_SAMPLE = 1 << 22
"""Most pixels read to place the thresholds."""


def score_thresholds(anomaly_maps: Sequence[NDArray[np.floating]], most: int = MOST_THRESHOLDS) -> NDArray:
    """Thresholds for :class:`PixelCounts`: every distinct pixel score when there are at most ``most``,
    else ``most`` quantiles of a regular sample of the pixels (the lowest and highest scores included).

    Returns:
        Sorted ascending, distinct, float64.
    """
    total = sum(int(np.size(m)) for m in anomaly_maps)
    step = max(1, -(-total // _SAMPLE))
    parts = [np.asarray(m, np.float64).ravel()[::step] for m in anomaly_maps if np.size(m)]
    parts += [np.array([np.min(m), np.max(m)], np.float64) for m in anomaly_maps if np.size(m)]
    sample = np.unique(np.concatenate(parts)) if parts else np.zeros(1)
    if len(sample) <= most:
        return sample
    return np.unique(np.quantile(sample, np.linspace(0.0, 1.0, most)))


class PixelCounts:
    """Normal pixels, defect pixels and region overlap counted per threshold, one map at a time.

    Args:
        thresholds: ascending thresholds (see :func:`score_thresholds`); a pixel below the lowest one
            counts at the lowest.
    """

    def __init__(self, thresholds: NDArray) -> None:
        self.thresholds = np.asarray(thresholds, np.float64)
        size = len(self.thresholds)
        self.normal = np.zeros(size, np.int64)
        self.defect = np.zeros(size, np.int64)
        self.region_weight = np.zeros(size, np.float64)
        """Per threshold, the sum over its defect pixels of one over the size of their region."""
        self.n_regions = 0

    @classmethod
    def of(
        cls, anomaly_maps: Sequence[NDArray[np.floating]], masks: Sequence[NDArray[np.generic] | None]
    ) -> PixelCounts:
        """Counts of these maps against these masks (see :meth:`add`), at :func:`score_thresholds` of the
        maps."""
        counts = cls(score_thresholds(anomaly_maps))
        for anomaly_map, mask in zip(anomaly_maps, masks, strict=True):
            counts.add(anomaly_map, mask)
        return counts

    def add(self, anomaly_map: NDArray[np.floating], mask: NDArray[np.generic] | None) -> None:
        """Count one map against its ground truth (non-zero on defects; None: no defect pixel).

        Raises:
            ValueError: the shapes differ.
        """
        if mask is not None and np.shape(anomaly_map) != np.shape(mask):
            raise ValueError(f"anomaly map {np.shape(anomaly_map)} and mask {np.shape(mask)} differ in shape")
        size = len(self.thresholds)
        scores = np.asarray(anomaly_map, np.float64).ravel()
        level = np.maximum(np.searchsorted(self.thresholds, scores, side="right") - 1, 0)
        if mask is None or not np.any(mask):
            self.normal += np.bincount(level, minlength=size)
            return
        regions, count = ndimage.label(np.asarray(mask) != 0, structure=_EIGHT_CONNECTED)
        regions = regions.ravel()
        defect = regions > 0
        weight = 1.0 / np.bincount(regions, minlength=count + 1).astype(np.float64)
        self.normal += np.bincount(level[~defect], minlength=size)
        self.defect += np.bincount(level[defect], minlength=size)
        self.region_weight += np.bincount(level[defect], weights=weight[regions[defect]], minlength=size)
        self.n_regions += count

    def pixel_auroc(self) -> float:
        """Area under the pixel ROC curve; tied pixels count half.

        Raises:
            ValueError: no defect pixel or no normal pixel was counted.
        """
        positives, negatives = int(self.defect.sum()), int(self.normal.sum())
        if positives == 0 or negatives == 0:
            raise ValueError("pixel AUROC needs both defect and defect-free pixels")
        normal_below = np.cumsum(self.normal) - self.normal
        return float((self.defect * (normal_below + 0.5 * self.normal)).sum() / (positives * negatives))

    def pro_curve(self) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
        """False-positive rate and mean region overlap at each threshold, from the highest down.

        Returns:
            ``(fpr, pro)``, each ``(T + 1,)``, starting at (0, 0).

        Raises:
            ValueError: no defect region or no defect-free pixel was counted.
        """
        if self.n_regions == 0:
            raise ValueError("AUPRO needs at least one defect region in the masks")
        n_normal = int(self.normal.sum())
        if n_normal == 0:
            raise ValueError("AUPRO needs defect-free pixels to measure false positives")
        seen = (self.normal + self.defect)[::-1] > 0
        fpr = np.cumsum(self.normal[::-1])[seen] / n_normal
        pro = np.cumsum(self.region_weight[::-1])[seen] / self.n_regions
        return np.r_[0.0, fpr], np.r_[0.0, np.minimum(pro, 1.0)]

    def aupro(self, fpr_limit: float = 0.3) -> float:
        """Normalised area under the PRO curve from FPR 0 to ``fpr_limit``, interpolated linearly there.

        Raises:
            ValueError: see :meth:`pro_curve`, or ``fpr_limit`` outside (0, 1].
        """
        if not 0 < fpr_limit <= 1:
            raise ValueError(f"fpr_limit must be in (0, 1], got {fpr_limit}")
        fpr, pro = self.pro_curve()
        inside = fpr <= fpr_limit
        x, y = fpr[inside], pro[inside]
        if x[-1] < fpr_limit:
            x = np.r_[x, fpr_limit]
            y = np.r_[y, np.interp(fpr_limit, fpr, pro)]
        return float(np.trapezoid(y, x) / fpr_limit)


def pro_curve(
    anomaly_maps: Sequence[NDArray[np.floating]], masks: Sequence[NDArray[np.generic]]
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """False-positive rate and mean region overlap at every threshold (see :meth:`PixelCounts.pro_curve`).

    Args:
        anomaly_maps: ``(H_i, W_i)`` maps.
        masks: ``(H_i, W_i)`` ground truth, non-zero on defects.
    """
    return PixelCounts.of(anomaly_maps, masks).pro_curve()


def aupro(
    anomaly_maps: Sequence[NDArray[np.floating]],
    masks: Sequence[NDArray[np.generic]],
    fpr_limit: float = 0.3,
) -> float:
    """Normalised area under the PRO curve from FPR 0 to ``fpr_limit`` (1 is perfect).

    Args:
        anomaly_maps: ``(H_i, W_i)`` maps, higher is more anomalous.
        masks: ``(H_i, W_i)`` ground truth, non-zero on defects.
        fpr_limit: upper FPR limit of the integration, in (0, 1].
    """
    return PixelCounts.of(anomaly_maps, masks).aupro(fpr_limit)
