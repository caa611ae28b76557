"""Writing a collection's images and labels in a label format (COCO, LabelMe, YOLO, CVAT for images
1.1, the MVTec AD layout) into a folder or a zip, for the export job (`inference.services.label_exports`),
a small export streamed from the collection page, and `manage.py export_dataset`.

What comes back when the export is imported again (`import_dataset --format`): every image with its
verdict; boxes and polygons exactly (YOLO: to floating-point rounding of its normalised coordinates);
masks pixel for pixel (COCO RLE, LabelMe, CVAT; MVTec paints masks, polygons and boxes into one mask
per image). What a format cannot carry is left out and listed in the report: points and scribbles
in COCO, YOLO and MVTec, masks in YOLO; unlabeled and unsure images in CVAT and MVTec (YOLO and
LabelMe copy them without a label file: they come back unlabeled). Scribble widths and region
precision are not carried by any format but Loupe's. File names are the images' own, made unique.
"""

import re
import shutil
import tempfile
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import BinaryIO

from django.core.files.storage import default_storage
from django.db.models import Prefetch

from annotations.formats import FORMATS
from annotations.formats.labels import LabeledImage, LabeledRegion
from annotations.models import Collection, Image, Region

LABEL_FORMATS = tuple(FORMATS)


@dataclass
class LabelExportReport:
    """What an export wrote, and what it left out: (image, what and why)."""

    format: str
    images: int = 0
    labeled: int = 0
    regions: int = 0
    left_out: list[tuple[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "format": self.format,
            "images": self.images,
            "labeled": self.labeled,
            "regions": self.regions,
            "left_out": [list(entry) for entry in self.left_out],
        }


def _safe(text: str) -> str:
    return re.sub(r"[^\w.-]+", "_", text).strip("._")


def _file_name(image: Image, taken: set[str]) -> str:
    """The image's own file name, with its stored format's extension, unique (ignoring case) by stem
    across the export: the formats that name label files after their images need that."""
    original = PurePosixPath(image.original_name.replace("\\", "/")).name
    stem = _safe(PurePosixPath(original).stem) or f"image_{image.pk}"
    if stem.casefold() in taken:
        stem = f"{stem}_{image.pk}"
    taken.add(stem.casefold())
    return f"{stem}{PurePosixPath(image.file.name).suffix}"


def _regions(image: Image) -> tuple[LabeledRegion, ...]:
    return tuple(
        LabeledRegion(
            kind=region.kind,
            geometry=region.geometry,
            defect_type=region.defect_type.name if region.defect_type else None,
            precision=region.precision,
        )
        for region in image.annotation.regions.all()
    )


def labels_export_write(
    *,
    collection: Collection,
    format: str,
    directory: Path,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> LabelExportReport:
    """Write the collection's images and labels in `format` (one of `LABEL_FORMATS`) into `directory`.

    `progress(done, total)` is called after each image (it may raise to stop the export).
    """
    spec = FORMATS[format]
    report = LabelExportReport(format)
    region_rows = Region.objects.select_related("defect_type").order_by("id")
    images = (
        Image.objects.filter(collection=collection)
        .select_related("annotation")
        .prefetch_related(Prefetch("annotation__regions", queryset=region_rows))
        .order_by("id")
    )
    total = images.count()
    taken: set[str] = set()
    placed: list[LabeledImage] = []
    for done, image in enumerate(images.iterator(chunk_size=500), start=1):
        file_name = _file_name(image, taken)
        regions = _regions(image)
        verdict = image.annotation.verdict
        first_type = next((region.defect_type for region in regions if region.defect_type), None)
        name = spec.place(file_name, split=image.split, verdict=verdict, defect_type=first_type)
        if name is None:
            why = f"it is {verdict}, and {format} has no place for such an image"
            report.left_out.append((file_name, why))
        else:
            target = directory / name
            target.parent.mkdir(parents=True, exist_ok=True)
            with default_storage.open(image.file.name, "rb") as source, target.open("wb") as copy:
                shutil.copyfileobj(source, copy)
            placed.append(LabeledImage(name, image.width, image.height, regions, verdict, image.split))
            report.images += 1
            report.labeled += verdict != "unlabeled"
            report.regions += len(regions)
        progress(done, total)
    categories = list(collection.defect_types.order_by("name").values_list("name", flat=True))
    report.left_out += spec.write(placed, directory, categories=categories).left_out
    return report


def export_folder_name(collection: Collection) -> str:
    """The folder inside an export's zip (an import of it is named after the folder)."""
    return _safe(collection.name) or f"collection_{collection.pk}"


def export_zip_name(collection: Collection, format: str) -> str:
    """The file name a downloaded export gets."""
    return f"{export_folder_name(collection)}-{format}.zip"


def labels_export_zip(
    *,
    collection: Collection,
    format: str,
    file: BinaryIO,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> LabelExportReport:
    """Write the export (see `labels_export_write`) as a zip into `file`, under one folder named after
    the collection."""
    with tempfile.TemporaryDirectory() as temporary:
        folder = Path(temporary) / export_folder_name(collection)
        folder.mkdir()
        report = labels_export_write(
            collection=collection, format=format, directory=folder, progress=progress
        )
        with zipfile.ZipFile(file, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for path in sorted(folder.rglob("*")):
                if path.is_file():
                    archive.write(path, path.relative_to(temporary).as_posix())
    return report
