"""Planning the import of a dataset whose labels are in COCO, LabelMe, YOLO or CVAT files: one
collection named after the folder, for `annotations.services.importing.dataset_import` (the one
import path; `inference.services.importing.dataset_plan(path, format=...)` calls this).

The unit of all-or-nothing is the label file. A label file is refused whole, and none of the images it
names is imported, when it is malformed, names an image that is not in the folder (beside it, or in an
`images/` folder beside it) or leads out of the folder, states another size than the image's, has a
region outside its image, names a category it does not declare, or reaches an image through a
symbolic link (links are never followed; each is reported). The refusals are reported in the
plan (and the import's summary) with what to fix; the other label files are imported.

Images: COCO and CVAT import the images their files list (others in the folder are passed over);
LabelMe and YOLO import every image of the folder, those without a label file beside them unlabeled
(except the image of a refused label file, which is not imported).
"""

from pathlib import Path

from annotations.formats import FORMATS, READABLE
from annotations.formats.labels import (
    IMAGE_SUFFIXES,
    LabeledImage,
    LabelFile,
    LabelFormatError,
    image_size,
    region_checked,
    relative,
)
from annotations.models import Split, Verdict
from annotations.services.importing import LINK_REFUSED, PlannedCollection, PlannedImage, path_link


def _planned(label_file: LabelFile, image: LabeledImage, root: Path) -> PlannedImage:
    """The image checked against its file in the folder, with its regions in canonical form.

    Raises:
        LabelFormatError: what does not match.
    """
    where = label_file.path
    path = root / image.name
    if path_link(path, root) is not None:
        raise LabelFormatError(f"{where}: image {image.name} is reached through {LINK_REFUSED}")
    if not path.resolve().is_relative_to(root.resolve()):
        raise LabelFormatError(f"{where}: image {image.name} lies outside the dataset's folder")
    if not path.is_file():
        raise LabelFormatError(
            f"{where} names image {image.name}, which is not in the folder: "
            "add it, or remove it from the file"
        )
    size = image_size(path)
    if size is None:
        raise LabelFormatError(f"{where}: {image.name} is not an image that can be read")
    if size != (image.width, image.height):
        raise LabelFormatError(
            f"{where} says {image.name} is {image.width}×{image.height} px, but it is "
            f"{size[0]}×{size[1]} px: is this the label file of these images?"
        )
    regions = tuple(
        region_checked(region, image=image.name, width=size[0], height=size[1], where=where)
        for region in image.regions
    )
    return PlannedImage(
        path=path,
        split=image.split or Split.UNASSIGNED,
        verdict=image.verdict or (Verdict.DEFECTIVE if regions else Verdict.NORMAL),
        regions=regions,
        size=size,
        name=image.name,
        label_file=where,
    )


def _file_planned(label_file: LabelFile, root: Path) -> list[PlannedImage]:
    """Every image of a label file, or none.

    Raises:
        LabelFormatError: the first thing that does not match.
    """
    names = [image.name for image in label_file.images]
    if len(set(names)) != len(names):
        twice = next(name for name in names if names.count(name) > 1)
        raise LabelFormatError(f"{label_file.path} lists {twice} more than once")
    return [_planned(label_file, image, root) for image in label_file.images]


def label_plan(*, path: Path, format: str) -> PlannedCollection:
    """What importing the labeled dataset in `path` would create: one collection, named after it.

    Raises:
        LabelFormatError: the dataset as a whole cannot be read (no class names for YOLO).
        ValueError: `format` is not one of `READABLE`.
    """
    if format not in READABLE:
        raise ValueError(f"unknown label format {format!r}: choose one of {', '.join(READABLE)}")
    spec = FORMATS[format]
    assert spec.read is not None
    files, refused = spec.read(path)
    images: list[PlannedImage] = []
    named: set[str] = set()
    for label_file in files:
        named |= {image.name for image in label_file.images}
        if path_link(path / label_file.path, path) is not None:
            refused.append((label_file.path, LINK_REFUSED))
            continue
        try:
            images += _file_planned(label_file, path)
        except LabelFormatError as error:
            refused.append((label_file.path, str(error)))
    if spec.sidecar is not None:
        refused_files = {label_file for label_file, _ in refused}
        # rglob does not descend into a linked folder, but lists it and every linked file.
        found = sorted(path.rglob("*"))
        reported = {name for name, _ in refused}
        refused += [
            (relative(p, path), LINK_REFUSED)
            for p in found
            if p.is_symlink() and relative(p, path) not in reported
        ]
        for file in (p for p in found if p.suffix.lower() in IMAGE_SUFFIXES):
            if path_link(file, path) is not None or not file.is_file():
                continue
            name = relative(file, path)
            if name not in named and relative(spec.sidecar(file, path), path) not in refused_files:
                images.append(PlannedImage(file, Split.UNASSIGNED, name=name))
    return PlannedCollection(path.name, images, format, refused)
