"""LabelMe JSON (https://github.com/wkentaro/labelme): one file per image, beside it, with `shapes`
(`label`, `points`, `shape_type`), `imagePath`, `imageWidth` and `imageHeight`.

Read: `polygon` → polygon; `rectangle` (two corners) → box; `point` → point; `linestrip` and `line`
→ scribble (LabelMe has no stroke width: width 1); `mask` (a base64 PNG of the box between its two
points, inclusive) → mask. A `circle` has no Loupe form: the file is refused, saying to make it a
polygon. The file's `flags` `defective`, `normal` or `unsure`, when one is true, say the verdict; else
the shapes do (any shape: defective). An image with no JSON beside it is not labeled.

Write: one `<stem>.json` beside each labeled image (an unlabeled one has none), boxes as rectangles,
masks as LabelMe's mask shapes; `imageData` is left empty (the image is beside it).
"""

import base64
import io
import json
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image as PILImage

from annotations.formats.labels import (
    DEFECTIVE,
    NORMAL,
    UNLABELED,
    UNSURE,
    LabeledImage,
    LabeledRegion,
    LabelFile,
    LabelFormatError,
    WriteReport,
    image_path,
    json_load,
    number,
    relative,
    whole,
)
from annotations.geometry import mask_bounds, mask_decode, mask_encode

VERSION = "5.5.0"


def label_files(root: Path) -> list[Path]:
    """Every JSON file under the dataset's folder."""
    return sorted(root.rglob("*.json"))


def sidecar(image: Path, root: Path) -> Path:
    """The LabelMe file of an image: beside it, of the same name."""
    return image.with_suffix(".json")


def _points(shape: dict[str, Any], where: str) -> list[list[float]]:
    points = shape.get("points")
    if not isinstance(points, list) or not all(isinstance(p, list) and len(p) == 2 for p in points):
        raise LabelFormatError(f"{where}: 'points' must be a list of [x, y] pairs")
    return [[number(p[0], where=where), number(p[1], where=where)] for p in points]


def _mask(shape: dict[str, Any], points: list[list[float]], size: tuple[int, int], where: str) -> dict:
    if len(points) != 2 or not isinstance(shape.get("mask"), str):
        raise LabelFormatError(f"{where}: a mask shape needs two corner points and a base64 PNG 'mask'")
    left, top = int(points[0][0]), int(points[0][1])
    try:
        with PILImage.open(io.BytesIO(base64.b64decode(shape["mask"], validate=True))) as png:
            crop = np.asarray(png.convert("L")) > 0
    except (ValueError, OSError):
        raise LabelFormatError(f"{where}: its 'mask' is not a base64 PNG") from None
    width, height = size
    if left < 0 or top < 0 or left + crop.shape[1] > width or top + crop.shape[0] > height:
        raise LabelFormatError(f"{where}: the mask at ({left}, {top}) leaves the {width}×{height} image")
    mask = np.zeros((height, width), dtype=bool)
    mask[top : top + crop.shape[0], left : left + crop.shape[1]] = crop
    return mask_encode(mask)


def _region(shape: Any, size: tuple[int, int], where: str) -> LabeledRegion:
    if not isinstance(shape, dict) or not isinstance(shape.get("label"), str):
        raise LabelFormatError(f"{where}: each shape needs a 'label'")
    kind = shape.get("shape_type") or "polygon"
    points = _points(shape, where)
    label = shape["label"] or None
    if kind == "polygon":
        return LabeledRegion("polygon", {"points": points}, label)
    if kind == "rectangle":
        if len(points) != 2:
            raise LabelFormatError(f"{where}: a rectangle needs two corner points")
        (x1, y1), (x2, y2) = points
        box = {"x": min(x1, x2), "y": min(y1, y2), "width": abs(x2 - x1), "height": abs(y2 - y1)}
        return LabeledRegion("box", box, label)
    if kind == "point":
        if len(points) != 1:
            raise LabelFormatError(f"{where}: a point shape needs one point")
        return LabeledRegion("point", {"x": points[0][0], "y": points[0][1]}, label)
    if kind in ("linestrip", "line"):
        return LabeledRegion("scribble", {"points": points, "width": 1}, label)
    if kind == "mask":
        return LabeledRegion("mask", _mask(shape, points, size, where), label)
    raise LabelFormatError(
        f"{where}: shape type {kind!r} cannot be imported (polygon, rectangle, point, linestrip, line and "
        "mask can): draw it as a polygon instead"
    )


def _verdict(flags: Any) -> str | None:
    if not isinstance(flags, dict):
        return None
    return next((verdict for verdict in (DEFECTIVE, NORMAL, UNSURE) if flags.get(verdict) is True), None)


def read(path: Path, root: Path) -> LabelFile:
    """The image and regions of one LabelMe file.

    Raises:
        LabelFormatError: it is not a LabelMe file, or a shape is malformed or of a kind Loupe lacks.
    """
    where = relative(path, root)
    data = json_load(path, root)
    if not isinstance(data, dict) or not isinstance(data.get("shapes"), list):
        raise LabelFormatError(f"{where}: a LabelMe file is an object with 'shapes' (is this LabelMe JSON?)")
    if not isinstance(data.get("imagePath"), str):
        raise LabelFormatError(f"{where}: 'imagePath' must name the image beside it")
    size = (
        whole(data.get("imageWidth"), where=f"{where}: imageWidth"),
        whole(data.get("imageHeight"), where=f"{where}: imageHeight"),
    )
    regions = tuple(
        _region(shape, size, f"{where}: shape {index + 1}") for index, shape in enumerate(data["shapes"])
    )
    name = image_path(path, data["imagePath"].replace("\\", "/"), root)
    return LabelFile(where, (LabeledImage(name, *size, regions, _verdict(data.get("flags"))),))


def _shape(region: LabeledRegion) -> dict[str, Any]:
    geometry, label = region.geometry, region.defect_type or ""
    shape: dict[str, Any] = {"label": label, "group_id": None, "description": "", "flags": {}, "mask": None}
    if region.kind == "polygon":
        return shape | {"shape_type": "polygon", "points": geometry["points"]}
    if region.kind == "box":
        x, y, width, height = geometry["x"], geometry["y"], geometry["width"], geometry["height"]
        return shape | {"shape_type": "rectangle", "points": [[x, y], [x + width, y + height]]}
    if region.kind == "point":
        return shape | {"shape_type": "point", "points": [[geometry["x"], geometry["y"]]]}
    if region.kind == "scribble":
        return shape | {"shape_type": "linestrip", "points": geometry["points"]}
    if region.kind == "mask":
        left, top, width, height = mask_bounds(geometry)
        crop = mask_decode(geometry)[top : top + height, left : left + width]
        png = io.BytesIO()
        PILImage.fromarray(crop.astype(np.uint8) * 255, mode="L").save(png, format="PNG")
        points = [[left, top], [left + width - 1, top + height - 1]]
        encoded = base64.b64encode(png.getvalue()).decode()
        return shape | {"shape_type": "mask", "points": points, "mask": encoded}
    raise ValueError(f"unknown region kind {region.kind!r}")


def write(images: list[LabeledImage], directory: Path, *, categories: list[str]) -> WriteReport:
    """Write `<stem>.json` beside each image (their names relative to `directory`); LabelMe carries
    every kind of region, so nothing is left out."""
    for image in images:
        verdict = image.decided_verdict
        if verdict == UNLABELED:
            continue
        shapes = [_shape(region) for region in image.regions]
        document = {
            "version": VERSION,
            "flags": {name: verdict == name for name in (NORMAL, DEFECTIVE, UNSURE)},
            "shapes": shapes,
            "imagePath": Path(image.name).name,
            "imageData": None,
            "imageHeight": image.height,
            "imageWidth": image.width,
        }
        target = (directory / image.name).with_suffix(".json")
        target.write_text(json.dumps(document), encoding="utf-8")
    return WriteReport()
