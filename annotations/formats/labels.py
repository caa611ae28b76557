"""The neutral representation every label format is read into and written from.

Plain dataclasses, no Django: a reader turns one format's files into a `LabelFile` per label file, a
writer turns `LabeledImage`s into that format's files. Region geometry is Loupe's own (image pixels,
see `annotations/geometry.py`), and a reader hands back only geometry that `validate_geometry` accepts.
"""

import json
import os
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath, PureWindowsPath
from typing import Any

from PIL import Image as PILImage

from annotations.geometry import GeometryError, validate_geometry

EXIF_ORIENTATION = 0x0112

# What a label file can say about an image as a whole (Loupe's verdicts).
NORMAL, DEFECTIVE, UNSURE, UNLABELED = "normal", "defective", "unsure", "unlabeled"
VERDICTS = (NORMAL, DEFECTIVE, UNSURE, UNLABELED)
# The category of regions without a defect type, in the formats where every region has one.
UNTYPED = "defect"
IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
# Where COCO and CVAT exports keep their images, beside the label file.
IMAGES = "images"


class LabelFormatError(ValueError):
    """A label file is malformed or does not match its images; the message names the file and says what
    to fix. Nothing from that file is imported."""


@dataclass(frozen=True)
class LabeledRegion:
    """One region: `kind` is box, polygon, mask, point or scribble; `defect_type` a category name."""

    kind: str
    geometry: dict[str, Any]
    defect_type: str | None = None
    precision: str = "exact"


@dataclass(frozen=True)
class LabeledImage:
    """An image as a label file describes it.

    Attributes:
        name: the image's path relative to the dataset's folder, with forward slashes.
        width, height: its size in pixels, as the label file states it.
        verdict: one of `VERDICTS` when the file says so (Loupe's own COCO and LabelMe keys); None
            lets the regions decide (defective when there are some, else normal).
        split: train, test or unassigned when the layout tells (YOLO's images/train), else None.
    """

    name: str
    width: int
    height: int
    regions: tuple[LabeledRegion, ...] = ()
    verdict: str | None = None
    split: str | None = None

    @property
    def decided_verdict(self) -> str:
        return self.verdict or (DEFECTIVE if self.regions else NORMAL)


@dataclass(frozen=True)
class LabelFile:
    """What one label file says: its images, and the category names it declares (in its order)."""

    path: str
    images: tuple[LabeledImage, ...]
    categories: tuple[str, ...] = ()


@dataclass
class WriteReport:
    """What a writer could not carry: (image name, what was left out and why)."""

    left_out: list[tuple[str, str]] = field(default_factory=list)


def category_names(images: list[LabeledImage], categories: list[str]) -> list[str]:
    """The categories to declare: `categories`, and `UNTYPED` when some region has no defect type."""
    names = list(dict.fromkeys(categories))
    if any(r.defect_type is None for image in images for r in image.regions) and UNTYPED not in names:
        names.append(UNTYPED)
    return names


def region_checked(
    region: LabeledRegion, *, image: str, width: int, height: int, where: str
) -> LabeledRegion:
    """The region with its geometry in canonical form.

    Raises:
        LabelFormatError: the geometry is malformed or outside the image, naming `where`.
    """
    try:
        geometry = validate_geometry(region.kind, region.geometry, width=width, height=height)
    except GeometryError as error:
        raise LabelFormatError(f"{where}: a {region.kind} on {image}: {error}") from None
    return LabeledRegion(region.kind, geometry, region.defect_type, region.precision)


def number(value: Any, *, where: str) -> float:
    """A finite JSON/XML number.

    Raises:
        LabelFormatError: it is not one.
    """
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise LabelFormatError(f"{where}: {value!r} is not a number") from None
    if isinstance(value, bool) or result != result or result in (float("inf"), float("-inf")):
        raise LabelFormatError(f"{where}: {value!r} is not a finite number")
    return result


def whole(value: Any, *, where: str) -> int:
    """A positive whole number (an image size).

    Raises:
        LabelFormatError: it is not one.
    """
    result = number(value, where=where)
    if result != int(result) or result <= 0:
        raise LabelFormatError(f"{where}: {value!r} is not a positive whole number")
    return int(result)


def image_path(label_file: Path, reference: str, root: Path) -> str:
    """The dataset-relative name of an image a label file refers to: beside the label file, else in an
    `images/` folder beside it (where CVAT and many COCO exports put them); the reference as it stands
    when neither holds it (the import then says it is missing).

    Raises:
        LabelFormatError: the reference is absolute or leads out of the dataset's folder.
    """
    if not reference or PurePosixPath(reference).is_absolute() or PureWindowsPath(reference).is_absolute():
        raise LabelFormatError(f"{label_file.name}: image {reference!r} is not a relative path")
    candidates = [label_file.parent / reference, label_file.parent / IMAGES / reference]
    chosen = next((path for path in candidates if path.is_file()), candidates[0])
    name = os.path.normpath(os.path.relpath(chosen, root)).replace(os.sep, "/")
    if name.startswith("../") or name == "..":
        raise LabelFormatError(f"{label_file.name}: image {reference!r} lies outside the dataset's folder")
    return name


def images_reference(name: str) -> str:
    """How a COCO or CVAT file names an exported image (`images/<file>`): relative to `images/`."""
    return PurePosixPath(name).relative_to(IMAGES).as_posix()


def image_size(path: Path) -> tuple[int, int] | None:
    """(width, height) of an image file from its header, upright as ingest stores it (EXIF
    orientation applied); None when it is missing or no image."""
    try:
        with PILImage.open(path) as image:
            width, height = image.size
            rotated = image.getexif().get(EXIF_ORIENTATION, 1) in (5, 6, 7, 8)
    except (OSError, ValueError, PILImage.DecompressionBombError):
        return None
    return (height, width) if rotated else (width, height)


def json_load(path: Path, root: Path) -> Any:
    """The parsed JSON of a label file.

    Raises:
        LabelFormatError: it is not JSON (with where it breaks).
    """
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        raise LabelFormatError(f"{relative(path, root)} is not UTF-8 text") from None
    except json.JSONDecodeError as error:
        raise LabelFormatError(
            f"{relative(path, root)} is not valid JSON: {error.msg} at line {error.lineno}, "
            f"column {error.colno}"
        ) from None


def relative(path: Path, root: Path) -> str:
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.name
