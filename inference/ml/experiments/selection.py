"""Choosing a default across datasets without reading the figures it is then judged by.

An image score is an aggregation of the anomaly map (:func:`map_top_scores`: the mean of its highest
``fraction`` of pixels, 0 for the maximum). :func:`cross_validate` splits every category's test images
into folds; each fold's images are scored by the candidate that did best, on the mean over all
categories, on the *other* folds, so every reported figure comes from images the choice never saw.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inference.ml.metrics import auroc
from inference.ml.postprocess import top_mean

TOP_FRACTIONS = (0.0, 0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1.0)
"""Candidate ``map_top_fraction`` values; 0 stands for the map's maximum."""


def map_top_scores(
    anomaly_maps: Sequence[NDArray[np.floating]], fractions: Sequence[float] = TOP_FRACTIONS
) -> dict[float, NDArray[np.float64]]:
    """Each image's :func:`~inference.ml.postprocess.top_mean` at each fraction."""
    return {fraction: np.array([top_mean(m, fraction) for m in anomaly_maps]) for fraction in fractions}


def _folds(labels: NDArray[np.bool_], n_folds: int, rng: np.random.Generator) -> NDArray[np.int64]:
    """A fold per image, each class dealt out evenly."""
    fold = np.zeros(len(labels), np.int64)
    for cls in (False, True):
        members = rng.permutation(np.flatnonzero(labels == cls))
        fold[members] = np.arange(len(members)) % n_folds
    return fold


def _auroc(scores: NDArray[np.floating], labels: NDArray[np.bool_]) -> float:
    return auroc(scores, labels) if 0 < labels.sum() < len(labels) else float("nan")


def cross_validate(
    scores: Mapping[str, Mapping[Any, NDArray[np.floating]]],
    labels: Mapping[str, NDArray[np.bool_]],
    *,
    n_folds: int = 2,
    seed: int = 0,
) -> dict[str, Any]:
    """Choose the candidate with the best mean AUROC over categories, fold by fold.

    Args:
        scores: per category, per candidate, the image scores of its test images.
        labels: per category, true for its defective test images.
        n_folds: folds per category.
        seed: seed of the fold assignment.

    Returns:
        ``chosen`` (the candidate picked for each fold), ``cross_validated`` (per category, the mean
        over folds of the AUROC of the held-out fold under the choice made without it), ``in_sample``
        (per candidate, per category, the AUROC on all test images, for reference only) and ``overall``:
        the candidate with the best mean in-sample AUROC (what the folds' choices estimate).
    """
    rng = np.random.default_rng(seed)
    names = sorted(scores)
    candidates = list(next(iter(scores.values())))
    folds = {name: _folds(np.asarray(labels[name], bool), n_folds, rng) for name in names}
    chosen: list[Any] = []
    held_out: dict[str, list[float]] = {name: [] for name in names}
    for k in range(n_folds):

        def fitted_mean(candidate: Any, k: int = k) -> float:
            return float(
                np.nanmean(
                    [
                        _auroc(np.asarray(scores[n][candidate])[folds[n] != k], labels[n][folds[n] != k])
                        for n in names
                    ]
                )
            )

        best = max(candidates, key=fitted_mean)
        chosen.append(best)
        for name in names:
            inside = folds[name] == k
            held_out[name].append(_auroc(np.asarray(scores[name][best])[inside], labels[name][inside]))
    in_sample = {
        candidate: {name: _auroc(np.asarray(scores[name][candidate]), labels[name]) for name in names}
        for candidate in candidates
    }
    return {
        "chosen": chosen,
        "cross_validated": {name: float(np.nanmean(values)) for name, values in held_out.items()},
        "in_sample": in_sample,
        "overall": max(candidates, key=lambda c: float(np.nanmean(list(in_sample[c].values())))),
    }
