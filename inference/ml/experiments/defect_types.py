"""How well the defect type of a region is told from its features: on a dataset whose test defects
have several types (MVTec layout: ``test/<type>/``), the regions of a seeded share of each type's
images teach the detector's defect-type head
(:meth:`~inference.ml.algorithms.features.FeatureDetector.fit_defect_types`) and the rest are predicted."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.features import FeatureDetector
from inference.ml.data import ImageFiles, discover_categories, load_mask
from inference.ml.defect_types import type_confusion
from inference.ml.metrics import NORMAL_TYPE


def defect_type_experiment(
    root: str | Path, params: dict[str, Any], *, train_share: float = 0.5, seed: int = 0, device: str = "auto"
) -> dict[str, Any]:
    """Per category: learn types from ``train_share`` of each type's outlined test defects, predict the rest.

    Args:
        root: a category folder or a folder of them.
        params: the feature settings (backbone, canvas …) of a ``patchcore`` detector.
        train_share: share of each type's images whose regions are labeled, (0, 1).
        seed: seed of the split.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.

    Returns:
        Per category (those with at least two types): ``n_train``, ``n_test`` and
        :func:`~inference.ml.defect_types.type_confusion` on the predicted regions.
    """
    results = []
    for category in discover_categories(root):
        outlined = [
            i
            for i, (kind, mask) in enumerate(zip(category.test_types, category.masks, strict=True))
            if kind != NORMAL_TYPE and mask is not None
        ]
        types = [category.test_types[i] for i in outlined]
        if len(set(types)) < 2:
            continue
        detector = get_algorithm("patchcore", device=device, **params)
        assert isinstance(detector, FeatureDetector)
        detector.choose_canvas(ImageFiles(category.train))
        images = ImageFiles([category.test[i] for i in outlined])
        masks = [load_mask(category.masks[i], images[k].size[::-1]) for k, i in enumerate(outlined)]
        keep = [k for k, mask in enumerate(masks) if mask.any()]
        types = [types[k] for k in keep]
        rng = np.random.default_rng(seed)
        learn = np.zeros(len(types), bool)
        for kind in sorted(set(types)):
            members = rng.permutation([k for k, t in enumerate(types) if t == kind])
            learn[members[: max(1, round(train_share * len(members)))]] = True
        learned, held = [keep[k] for k in np.flatnonzero(learn)], [keep[k] for k in np.flatnonzero(~learn)]
        detector.fit_defect_types(
            ImageFiles([images.paths[k] for k in learned]),
            [[masks[k]] for k in learned],
            [[category.test_types[outlined[k]]] for k in learned],
        )
        named = detector.region_types(ImageFiles([images.paths[k] for k in held]), [[masks[k]] for k in held])
        predicted = [kinds[0][0] for kinds in named]
        results.append(
            {
                "category": category.name,
                "n_train": len(learned),
                "n_test": len(held),
                **type_confusion([category.test_types[outlined[k]] for k in held], predicted),
            }
        )
    return {"params": params, "train_share": train_share, "seed": seed, "categories": results}
