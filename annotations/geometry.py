"""Region geometry: validation, and masks as run-length encodings.

All coordinates are in image pixels, origin top-left, x to the right, y down.

- box:      {"x", "y", "width", "height"}
- polygon:  {"points": [[x, y], ...]}                 at least 3 points
- scribble: {"points": [[x, y], ...], "width": px}    at least 2 points; a rough stroke
- point:    {"x", "y"}
- mask:     {"width": W, "height": H, "counts": [...]} the image's full size; counts alternate runs
            of 0 and 1 in row-major order, starting with 0 (a mask that starts with 1 has counts[0] = 0)
"""

import reprlib
from typing import Any

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw

Geometry = dict[str, Any]


class GeometryError(ValueError):
    """A region's geometry is malformed or lies outside its image."""


# The most points a polygon or scribble holds: far more than any hand draws, few enough to rasterise.
MAX_POINTS = 10_000


def _number(value: Any, name: str) -> float:
    try:
        number = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
    except OverflowError:  # an int past a float's range (10**400)
        number = None
    if number is None or not np.isfinite(number):
        raise GeometryError(f"{name} must be a finite number, got {reprlib.repr(value)}")
    return number


def _inside(x: float, y: float, width: int, height: int) -> None:
    if not (0 <= x <= width and 0 <= y <= height):
        raise GeometryError(f"point ({x:g}, {y:g}) lies outside the {width}×{height} image")


def _points(geometry: Geometry, minimum: int, width: int, height: int) -> list[list[float]]:
    points = geometry.get("points")
    if not isinstance(points, list) or not minimum <= len(points) <= MAX_POINTS:
        raise GeometryError(f"'points' must be a list of {minimum} to {MAX_POINTS} [x, y] pairs")
    checked = []
    for point in points:
        if not isinstance(point, list | tuple) or len(point) != 2:
            raise GeometryError(f"each point must be an [x, y] pair, got {reprlib.repr(point)}")
        x, y = _number(point[0], "x"), _number(point[1], "y")
        _inside(x, y, width, height)
        checked.append([x, y])
    return checked


def validate_geometry(kind: str, geometry: Any, *, width: int, height: int) -> Geometry:
    """Check a region's geometry against its kind and image size; return it in canonical form.

    Raises:
        GeometryError: with a message that says what is wrong.
    """
    if not isinstance(geometry, dict):
        raise GeometryError("geometry must be an object")
    if kind == "box":
        x, y = _number(geometry.get("x"), "x"), _number(geometry.get("y"), "y")
        w, h = _number(geometry.get("width"), "width"), _number(geometry.get("height"), "height")
        if w <= 0 or h <= 0:
            raise GeometryError("a box needs a positive width and height")
        _inside(x, y, width, height)
        _inside(x + w, y + h, width, height)
        return {"x": x, "y": y, "width": w, "height": h}
    if kind == "point":
        x, y = _number(geometry.get("x"), "x"), _number(geometry.get("y"), "y")
        _inside(x, y, width, height)
        return {"x": x, "y": y}
    if kind == "polygon":
        return {"points": _points(geometry, 3, width, height)}
    if kind == "scribble":
        stroke = _number(geometry.get("width", 1), "width")
        # Wider than the image's longer side covers it all: a larger width only costs rasterising.
        if not 0 < stroke <= max(width, height):
            raise GeometryError(f"a scribble's width must be above 0 and at most {max(width, height)} px")
        return {"points": _points(geometry, 2, width, height), "width": stroke}
    if kind == "mask":
        if geometry.get("width") != width or geometry.get("height") != height:
            raise GeometryError(
                f"a mask must be the image's size, {width}×{height}, "
                f"got {geometry.get('width')}×{geometry.get('height')}"
            )
        counts = geometry.get("counts")
        if not isinstance(counts, list) or not all(
            isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in counts
        ):
            raise GeometryError("'counts' must be a list of non-negative whole numbers")
        if sum(counts) != width * height:
            raise GeometryError(f"'counts' must add up to {width * height} pixels, got {sum(counts)}")
        if not any(counts[1::2]):
            raise GeometryError("the mask is empty")
        return {"width": width, "height": height, "counts": counts}
    raise GeometryError(f"unknown region kind {kind!r}")


def mask_encode(mask: np.ndarray) -> Geometry:
    """Run-length encode a 2-D mask (nonzero = inside), shape (H, W)."""
    height, width = mask.shape
    flat = np.concatenate([[False], mask.reshape(-1) != 0, [False]])
    edges = np.flatnonzero(flat[1:] != flat[:-1])
    boundaries = np.concatenate([[0], edges, [height * width]])
    counts = np.diff(boundaries).tolist()
    # A trailing run of zeros of length 0 comes from the sentinel: drop it.
    if counts and counts[-1] == 0:
        counts.pop()
    return {"width": int(width), "height": int(height), "counts": counts}


def mask_decode(geometry: Geometry) -> np.ndarray:
    """The boolean mask, shape (H, W), of a mask geometry."""
    width, height = geometry["width"], geometry["height"]
    values = np.zeros(len(geometry["counts"]), dtype=bool)
    values[1::2] = True
    flat = np.repeat(values, geometry["counts"])
    return flat.reshape(height, width)


def mask_bounds(geometry: Geometry) -> tuple[int, int, int, int]:
    """(x, y, width, height) of the smallest box holding a mask's pixels."""
    mask = mask_decode(geometry)
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    return int(cols[0]), int(rows[0]), int(cols[-1] - cols[0] + 1), int(rows[-1] - rows[0] + 1)


def regions_mask(regions: list[dict[str, Any]], *, width: int, height: int) -> np.ndarray | None:
    """The union of the exact shapes among `regions` (masks and polygons, as an annotation revision
    stores them: dicts with `kind` and `geometry`), shape (H, W) bool; None when they cover nothing.

    A mask of another size than the image (it cannot be the image's) is left out.
    """
    masks = [
        mask
        for region in regions
        if region["kind"] == "mask" and (mask := mask_decode(region["geometry"])).shape == (height, width)
    ]
    polygons = [region["geometry"]["points"] for region in regions if region["kind"] == "polygon"]
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
