"""Weak labels on images, and what each one says about the patches of the feature grid.

A :class:`LabeledImage` carries one kind of label. :func:`patch_targets` turns it into a target
(1 defect, 0 normal) and a confidence weight (0: no information) for every feature cell of the image's
canvases:

- ``mask``: cells touching the mask are defects; a one-cell ring around them is left out (their
  aggregated features see the defect too); every other cell is normal.
- ``box``: cells touching a box are defects with ``box_weight`` confidence (a box holds background
  too); the one-cell ring is left out; cells farther out are normal.
- ``scribble`` / ``point``: cells touching a stroke or point are defects; nothing is said of the rest.
- ``image`` ("defective somewhere"): multiple-instance learning; the ``mil_fraction`` of cells the
  unsupervised model finds most anomalous are defects, nothing is said of the rest.
- ``normal_hard`` (a reviewed false positive): every cell is normal.

Cells outside the image (the mirrored margin of a letterboxed canvas) always get weight 0.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

from inference.ml.algorithms.labels import LabeledImage
from inference.ml.preprocessing import View, valid_grid

# A cell's own 3x3 neighbourhood, per view: the ring left out around a marked region.
_RING = np.ones((1, 3, 3), bool)


def patch_targets(
    label: LabeledImage,
    coverage: NDArray[np.float32],
    valid: NDArray[np.bool_],
    unsupervised: NDArray[np.float32] | None = None,
    *,
    box_weight: float = 0.5,
    mil_fraction: float = 0.01,
) -> tuple[NDArray[np.float32], NDArray[np.float32]]:
    """Per-cell targets and weights of one labeled image (rules in the module docstring).

    Args:
        label: the labeled image.
        coverage: ``(V, h, w)`` from :func:`cell_coverage`.
        valid: ``(V, h, w)`` true for cells showing the image.
        unsupervised: ``(V, h, w)`` unsupervised anomaly scores; needed for ``image`` labels.
        box_weight: confidence of a cell inside a box, (0, 1].
        mil_fraction: fraction of an ``image`` label's cells taken as defects (at least one).

    Returns:
        ``(V, h, w)`` float32 targets (1 defect, 0 normal) and weights (0: ignore).

    Raises:
        ValueError: an ``image`` label without unsupervised scores.
    """
    touched = (coverage > 0) & valid
    targets = touched.astype(np.float32)
    weights = np.zeros_like(targets)
    if label.kind in ("mask", "box"):
        ring = ndimage.binary_dilation(touched, _RING)
        weights[valid & ~ring] = 1.0
        weights[touched] = 1.0 if label.kind == "mask" else box_weight
    elif label.kind in ("scribble", "point"):
        weights[touched] = 1.0
    elif label.kind == "image":
        if unsupervised is None:
            raise ValueError("an image-level label needs the unsupervised scores of its cells")
        candidates = np.flatnonzero(valid)
        ranked = candidates[np.argsort(unsupervised.ravel()[candidates], kind="stable")[::-1]]
        top = ranked[: max(1, round(mil_fraction * len(candidates)))]
        targets.flat[top] = 1.0
        weights.flat[top] = 1.0
    else:  # normal_hard
        weights[valid] = 1.0
    return targets, weights


def valid_cells(views: Sequence[View], grid_shape: tuple[int, int], canvas_size: int) -> NDArray[np.bool_]:
    """``(V, h, w)`` true for the cells of each canvas that show the image."""
    return np.stack([valid_grid(view, grid_shape, canvas_size) for view in views])
