"""The MVTec AD layout, written so that anomalib (its `Folder`/`MVTecAD` datamodules) and Loupe's own
import take a collection as it is:

    train/good/<name>                      normal images of the train split
    test/good/<name>                       other normal images
    test/<defect>/<name>                   defective images, in their first region's defect type
    ground_truth/<defect>/<stem>_mask.png  0/255 masks of the defective images' exact regions

The layout has one mask per image: masks, polygons and boxes are painted into it (a box as a filled
rectangle, so it comes back as a mask), under the first region's defect type; points and scribbles
are left out, as are images not labeled normal or defective (each reported). Reading is the
learning core's reader (`inference.ml.data`), used by `dataset_plan`.
"""

import re
from pathlib import Path, PurePosixPath

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw

from annotations.formats.labels import DEFECTIVE, NORMAL, LabeledImage, WriteReport
from annotations.geometry import regions_mask

NORMAL_FOLDER = "good"
PAINTED = ("mask", "polygon", "box")


def defect_folder(defect_type: str | None) -> str:
    """A folder name for a defect type: characters other than letters, digits, '.', '-' and '_' become
    '_' (and 'good', the normal folder, becomes 'good_defect')."""
    name = re.sub(r"[^A-Za-z0-9._-]", "_", defect_type or DEFECTIVE).strip(".") or DEFECTIVE
    return "good_defect" if name == NORMAL_FOLDER else name


def place(file_name: str, *, split: str, verdict: str, defect_type: str | None) -> str | None:
    """Where an image goes in the layout; None when it has no place (not labeled normal or defective)."""
    if verdict == NORMAL:
        return f"{'train' if split == 'train' else 'test'}/{NORMAL_FOLDER}/{file_name}"
    if verdict == DEFECTIVE:
        return f"test/{defect_folder(defect_type)}/{file_name}"
    return None


def _painted(image: LabeledImage) -> np.ndarray | None:
    exact = [{"kind": r.kind, "geometry": r.geometry} for r in image.regions if r.kind in ("mask", "polygon")]
    mask = regions_mask(exact, width=image.width, height=image.height)
    boxes = [r.geometry for r in image.regions if r.kind == "box"]
    if boxes:
        drawn = PILImage.new("1", (image.width, image.height), 0)
        canvas = ImageDraw.Draw(drawn)
        for box in boxes:
            # Pillow's rectangle includes its far corner: the box covers [x, x + width) in pixels.
            x0, y0 = round(box["x"]), round(box["y"])
            x1, y1 = round(box["x"] + box["width"]) - 1, round(box["y"] + box["height"]) - 1
            if x1 >= x0 and y1 >= y0:
                canvas.rectangle([x0, y0, x1, y1], fill=1)
        painted = np.asarray(drawn, dtype=bool)
        mask = painted if mask is None else mask | painted
    return mask if mask is not None and mask.any() else None


def write(images: list[LabeledImage], directory: Path, *, categories: list[str]) -> WriteReport:
    """Write the masks of the defective images (placed by `place`, their names relative to
    `directory`) under `ground_truth/`."""
    report = WriteReport()
    for image in images:
        path = PurePosixPath(image.name)
        left_out = sorted({r.kind for r in image.regions if r.kind not in PAINTED})
        if left_out:
            report.left_out.append((image.name, f"{' and '.join(left_out)} regions have no place in a mask"))
        types = list(dict.fromkeys(r.defect_type for r in image.regions if r.kind in PAINTED))
        if len(types) > 1:
            shared = f"its regions of {len(types)} defect types share one mask, under {path.parent.name}"
            report.left_out.append((image.name, shared))
        if path.parts[0] != "test" or path.parent.name == NORMAL_FOLDER:
            continue
        mask = _painted(image)
        if mask is None:
            continue
        target = directory / "ground_truth" / path.parent.name / f"{path.stem}_mask.png"
        target.parent.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(mask.astype(np.uint8) * 255, mode="L").save(target, format="PNG")
    return report
