"""COCO object-detection JSON (https://cocodataset.org/#format-data): `images`, `annotations`,
`categories`.

Read: an annotation with a polygon `segmentation` (a list of flat [x1, y1, x2, y2, ...] lists) gives
one polygon region per list; with an RLE `segmentation` (`{"size": [h, w], "counts": ...}`, counts a
list or COCO's compressed string, column-major) a mask region; with none (absent or empty) a box
region from its `bbox` [x, y, width, height]. An image the file lists with no annotation is normal.
Loupe's own key `loupe_verdict` on an image (normal, defective, unsure or unlabeled), when present,
says its verdict.

Write: boxes as a `bbox` with an empty `segmentation`, polygons as one polygon list, masks as
compressed RLE; points and scribbles have no COCO form and are left out (reported). Regions without a
defect type go under the category `UNTYPED`.
"""

import json
from pathlib import Path
from typing import Any

import numpy as np

from annotations.formats.labels import (
    UNTYPED,
    VERDICTS,
    LabeledImage,
    LabeledRegion,
    LabelFile,
    LabelFormatError,
    WriteReport,
    category_names,
    image_path,
    images_reference,
    json_load,
    number,
    relative,
    whole,
)
from annotations.formats.rle import coco_compress, coco_decode, coco_decompress, coco_encode
from annotations.geometry import mask_bounds, mask_decode, mask_encode

LABEL_FILE = "annotations.json"


def label_files(root: Path) -> list[Path]:
    """The JSON files at the top of the dataset's folder and in its `annotations/` folder."""
    return sorted(root.glob("*.json")) + sorted((root / "annotations").glob("*.json"))


def _list(data: dict[str, Any], key: str, where: str) -> list[Any]:
    value = data.get(key)
    if not isinstance(value, list):
        raise LabelFormatError(f"{where}: '{key}' must be a list (is this a COCO file?)")
    return value


def _regions(annotation: dict[str, Any], *, image: dict[str, Any], category: str, where: str) -> list:
    segmentation = annotation.get("segmentation")
    if isinstance(segmentation, dict):
        size = segmentation.get("size")
        counts = segmentation.get("counts")
        if size != [image["height"], image["width"]]:
            raise LabelFormatError(
                f"{where}: the RLE's size {size} is not its image's [height, width] "
                f"[{image['height']}, {image['width']}]"
            )
        try:
            if isinstance(counts, str):
                counts = coco_decompress(counts)
            if not isinstance(counts, list) or not all(isinstance(c, int) for c in counts):
                raise ValueError("'counts' must be a list of whole numbers or a compressed string")
            mask = coco_decode(counts, height=image["height"], width=image["width"])
        except ValueError as error:
            raise LabelFormatError(f"{where}: {error}") from None
        return [LabeledRegion("mask", mask_encode(mask), category)]
    if isinstance(segmentation, list) and segmentation:
        regions = []
        for polygon in segmentation:
            if not isinstance(polygon, list) or len(polygon) % 2:
                raise LabelFormatError(f"{where}: a polygon must be a flat list of x, y pairs")
            values = [number(v, where=where) for v in polygon]
            points = [[values[i], values[i + 1]] for i in range(0, len(values), 2)]
            regions.append(LabeledRegion("polygon", {"points": points}, category))
        return regions
    if segmentation not in (None, []):
        raise LabelFormatError(f"{where}: 'segmentation' must be polygons, an RLE object or empty")
    bbox = annotation.get("bbox")
    if not isinstance(bbox, list) or len(bbox) != 4:
        raise LabelFormatError(f"{where}: an annotation without a segmentation needs a 'bbox' [x, y, w, h]")
    x, y, width, height = (number(v, where=where) for v in bbox)
    return [LabeledRegion("box", {"x": x, "y": y, "width": width, "height": height}, category)]


def _verdict(value: Any) -> str | None:
    return value if value in VERDICTS else None


def read(path: Path, root: Path) -> LabelFile:
    """The images and regions of one COCO file.

    Raises:
        LabelFormatError: it is not COCO, or an annotation names an unknown image or category.
    """
    where = relative(path, root)
    data = json_load(path, root)
    if not isinstance(data, dict):
        raise LabelFormatError(f"{where}: a COCO file is a JSON object")
    categories: dict[Any, str] = {}
    for category in _list(data, "categories", where):
        if not isinstance(category, dict) or not isinstance(category.get("name"), str):
            raise LabelFormatError(f"{where}: each category needs an 'id' and a 'name'")
        categories[category.get("id")] = category["name"]
    images: dict[Any, dict[str, Any]] = {}
    for entry in _list(data, "images", where):
        if not isinstance(entry, dict) or not isinstance(entry.get("file_name"), str):
            raise LabelFormatError(f"{where}: each image needs an 'id' and a 'file_name'")
        if entry.get("id") in images:
            raise LabelFormatError(f"{where}: image id {entry.get('id')!r} is listed twice")
        images[entry.get("id")] = {
            "name": image_path(path, entry["file_name"], root),
            "width": whole(entry.get("width"), where=f"{where}: {entry['file_name']} width"),
            "height": whole(entry.get("height"), where=f"{where}: {entry['file_name']} height"),
            "verdict": _verdict(entry.get("loupe_verdict")),
            "regions": [],
        }
    for index, annotation in enumerate(_list(data, "annotations", where)):
        at = f"{where}: annotation {index + 1}"
        if not isinstance(annotation, dict):
            raise LabelFormatError(f"{at} is not an object")
        image = images.get(annotation.get("image_id"))
        if image is None:
            raise LabelFormatError(f"{at} names image id {annotation.get('image_id')!r}, which is not listed")
        if annotation.get("category_id") not in categories:
            raise LabelFormatError(
                f"{at} names category id {annotation.get('category_id')!r}, "
                "which 'categories' does not declare"
            )
        image["regions"] += _regions(
            annotation, image=image, category=categories[annotation["category_id"]], where=at
        )
    return LabelFile(
        where,
        tuple(
            LabeledImage(i["name"], i["width"], i["height"], tuple(i["regions"]), i["verdict"])
            for i in images.values()
        ),
        tuple(dict.fromkeys(categories.values())),
    )


def _polygon_area(points: list[list[float]]) -> float:
    xs, ys = np.array([p[0] for p in points]), np.array([p[1] for p in points])
    return float(abs(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) / 2)


def _annotation(region: LabeledRegion, image: LabeledImage) -> dict[str, Any] | None:
    geometry = region.geometry
    if region.kind == "box":
        bbox = [geometry["x"], geometry["y"], geometry["width"], geometry["height"]]
        return {"bbox": bbox, "segmentation": [], "area": geometry["width"] * geometry["height"]}
    if region.kind == "polygon":
        points = geometry["points"]
        xs, ys = [p[0] for p in points], [p[1] for p in points]
        return {
            "bbox": [min(xs), min(ys), max(xs) - min(xs), max(ys) - min(ys)],
            "segmentation": [[value for point in points for value in point]],
            "area": _polygon_area(points),
        }
    if region.kind == "mask":
        mask = mask_decode(geometry)
        counts = coco_compress(coco_encode(mask))
        return {
            "bbox": list(mask_bounds(geometry)),
            "segmentation": {"size": [image.height, image.width], "counts": counts},
            "area": int(mask.sum()),
        }
    return None


def write(images: list[LabeledImage], directory: Path, *, categories: list[str]) -> WriteReport:
    """Write `annotations.json` for `images` (their names `images/<file>`, relative to `directory`) into
    `directory`."""
    report = WriteReport()
    names = category_names(images, categories)
    category_ids = {name: index + 1 for index, name in enumerate(names)}
    coco_images, annotations = [], []
    for image_id, image in enumerate(images, start=1):
        coco_images.append(
            {
                "id": image_id,
                "file_name": images_reference(image.name),
                "width": image.width,
                "height": image.height,
                "loupe_verdict": image.decided_verdict,
            }
        )
        for region in image.regions:
            annotation = _annotation(region, image)
            if annotation is None:
                report.left_out.append((image.name, f"a {region.kind} has no COCO form"))
                continue
            category = category_ids[region.defect_type or UNTYPED]
            annotations.append(
                {"id": len(annotations) + 1, "image_id": image_id, "category_id": category, "iscrowd": 0}
                | annotation
            )
    document = {
        "info": {"description": "exported from Loupe"},
        "images": coco_images,
        "annotations": annotations,
        "categories": [
            {"id": i, "name": name, "supercategory": "defect"} for name, i in category_ids.items()
        ],
    }
    (directory / LABEL_FILE).write_text(json.dumps(document), encoding="utf-8")
    return report
