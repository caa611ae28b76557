"""One evaluation for every caller (training and evaluation jobs, the benchmarks, the simulation), so
a metric has one name and one definition everywhere."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from inference.ml.metrics.curves import auroc, f1_max, threshold_stats
from inference.ml.metrics.pixels import PixelCounts

DEFECTIVE, NORMAL, UNLABELED = 1, 0, -1
"""Image labels: defective, normal, and not labeled (left out of every metric)."""
NORMAL_TYPE = "good"
"""The defect type of normal images (MVTec AD's folder name)."""


def evaluate(
    scores: ArrayLike,
    labels: ArrayLike,
    anomaly_maps: Sequence[NDArray[np.floating]] | None = None,
    masks: Sequence[NDArray[np.bool_] | None] | None = None,
    *,
    threshold: float | None = None,
    types: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Image metrics over the labeled images, and pixel metrics where maps and masks are given.

    Args:
        scores: ``(N,)`` image scores.
        labels: ``(N,)`` :data:`DEFECTIVE`, :data:`NORMAL` or :data:`UNLABELED` (ignored).
        anomaly_maps: ``N`` maps ``(H_i, W_i)``.
        masks: ``N`` entries: a bool ``(H_i, W_i)`` mask, or None. None on a normal image means no
            defect pixel; on a defective one, that its defect is not outlined (left out of the pixel
            metrics).
        threshold: where to report precision, recall, FPR, FNR and F1; the F1-optimal threshold
            when None.
        types: ``N`` defect types (:data:`NORMAL_TYPE` for normal), for an image AUROC per type
            against the normals.

    Returns:
        ``n_images``, ``n_labeled``, ``n_defective``; with both classes labeled ``image_auroc``,
        ``f1_max``, ``f1_max_threshold``, ``at_threshold`` (``threshold``, ``precision``,
        ``recall``, ``fpr``, ``fnr``, ``f1``) and ``image_auroc_by_type`` when types are given; when
        some mask marks a defect pixel, ``n_masks``, ``pixel_auroc`` and ``aupro`` (to 30 % FPR).
        Otherwise a ``note`` says what is missing.

    Raises:
        ValueError: a mask's shape differs from its map's.
    """
    labels = np.asarray(labels, np.int64)
    labeled = np.flatnonzero(labels != UNLABELED)
    flags = labels[labeled] == DEFECTIVE
    out: dict[str, Any] = {
        "n_images": len(labels),
        "n_labeled": len(labeled),
        "n_defective": int(flags.sum()),
    }
    if not len(labeled) or flags.all() or not flags.any():
        out["note"] = "image metrics need labeled normal and defective test images"
        return out
    chosen = np.asarray(scores)[labeled]
    best = f1_max(chosen, flags)
    at = best.threshold if threshold is None else threshold
    stats = threshold_stats(chosen, flags, at)
    out.update(
        image_auroc=auroc(chosen, flags),
        f1_max=best.f1,
        f1_max_threshold=best.threshold,
        at_threshold={
            "threshold": at,
            "precision": stats.precision,
            "recall": stats.recall,
            "fpr": stats.fpr,
            "fnr": stats.fnr,
            "f1": stats.f1,
        },
    )
    if types is not None:
        kinds = np.asarray(types)[labeled]
        out["image_auroc_by_type"] = {
            kind: auroc(chosen[(kinds == kind) | ~flags], flags[(kinds == kind) | ~flags])
            for kind in sorted(set(kinds[flags]))
        }
    if anomaly_maps is not None and masks is not None:
        out.update(_pixel_metrics([anomaly_maps[i] for i in labeled], [masks[i] for i in labeled], flags))
    return out


def _pixel_metrics(
    maps: list[NDArray[np.floating]], masks: list[NDArray[np.bool_] | None], flags: NDArray[np.bool_]
) -> dict[str, Any]:
    """Pixel AUROC and AUPRO over the normal images and the defective ones whose defect is outlined,
    counted map by map (:class:`PixelCounts`): no copy of all the pixels is made."""
    pixel_maps, pixel_masks = [], []
    for anomaly_map, mask, defective in zip(maps, masks, flags, strict=True):
        if mask is None and defective:
            continue
        pixel_maps.append(anomaly_map)
        pixel_masks.append(mask)
    n_masks = sum(int(mask is not None and np.any(mask)) for mask in pixel_masks)
    if not n_masks:
        return {}
    counts = PixelCounts.of(pixel_maps, pixel_masks)
    return {"n_masks": n_masks, "pixel_auroc": counts.pixel_auroc(), "aupro": counts.aupro()}
