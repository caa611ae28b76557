"""Human labels as the learning core's weak labels: what a stored verdict and its regions teach.

An image's regions may mix kinds; the label it becomes is the most precise one it has: exact shapes
(masks and polygons, drawn into one mask), else boxes, else scribbles, else points, else the bare
verdict "defective somewhere" (multiple-instance). A normal image a reviewer marked as a false positive
is a hard normal. Runs in the worker (imports the learning core).
"""

from typing import Any

import numpy as np
from numpy.typing import NDArray
from PIL import Image as PILImage
from PIL import ImageDraw

from annotations.geometry import mask_decode
from annotations.models import RegionKind, Verdict
from inference.ml.algorithms.semisupervised import LabeledImage, Scribble


def _mask(regions: list[dict[str, Any]], shape: tuple[int, int]) -> NDArray[np.bool_] | None:
    """The union of the exact shapes (masks, polygons) at the image's size, or None without any."""
    height, width = shape
    masks = [
        mask
        for region in regions
        if region["kind"] == RegionKind.MASK and (mask := mask_decode(region["geometry"])).shape == shape
    ]
    polygons = [region["geometry"]["points"] for region in regions if region["kind"] == RegionKind.POLYGON]
    if polygons:
        drawn = PILImage.new("1", (width, height), 0)
        canvas = ImageDraw.Draw(drawn)
        for points in polygons:
            canvas.polygon([tuple(point) for point in points], fill=1, outline=1)
        masks.append(np.asarray(drawn, dtype=bool))
    if not masks:
        return None
    union = np.logical_or.reduce(masks)
    return union if union.any() else None


def labeled_image(
    *, image: PILImage.Image, verdict: str, regions: list[dict[str, Any]], hard_normal: bool = False
) -> LabeledImage | None:
    """What one labeled image teaches, or None when it teaches the semi-supervised head nothing
    (a plain normal or an unlabeled image: those are the memory bank's business).

    Args:
        image: the picture, as the model will see it.
        verdict: the image's verdict at the training snapshot.
        regions: its regions at the snapshot, as an annotation revision stores them.
        hard_normal: a reviewer said the model's alarm on this normal image was false.
    """
    if verdict == Verdict.NORMAL:
        return LabeledImage(image=image, kind="normal_hard") if hard_normal else None
    if verdict != Verdict.DEFECTIVE:
        return None
    shape = (image.height, image.width)
    mask = _mask(regions, shape)
    if mask is not None:
        return LabeledImage(image=image, kind="mask", mask=mask)
    by_kind: dict[str, list[dict[str, Any]]] = {}
    for region in regions:
        by_kind.setdefault(region["kind"], []).append(region["geometry"])
    if by_kind.get(RegionKind.BOX):
        boxes = tuple((g["x"], g["y"], g["width"], g["height"]) for g in by_kind[RegionKind.BOX])
        return LabeledImage(image=image, kind="box", boxes=boxes)
    if by_kind.get(RegionKind.SCRIBBLE):
        strokes = tuple(
            Scribble(points=tuple(tuple(p) for p in g["points"]), width=g["width"])
            for g in by_kind[RegionKind.SCRIBBLE]
        )
        return LabeledImage(image=image, kind="scribble", scribbles=strokes)
    if by_kind.get(RegionKind.POINT):
        points = tuple((g["x"], g["y"]) for g in by_kind[RegionKind.POINT])
        return LabeledImage(image=image, kind="point", points=points)
    return LabeledImage(image=image, kind="image")
