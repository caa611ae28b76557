"""What importing a folder would create: datasets in the MVTec AD layout, read by the learning core's
reader (`inference.ml.data`, the one the benchmarks use), one collection per category; a plain folder
of images; or images with their label files in a label format (`annotations.services.label_import`).
The import itself is `annotations.services.importing.dataset_import`.
"""

from pathlib import Path

from annotations.formats import READABLE
from annotations.formats.labels import LabelFormatError
from annotations.models import Split, Verdict
from annotations.services.importing import LINK_REFUSED, PlannedCollection, PlannedImage, folder_plan
from annotations.services.label_import import label_plan
from inference.ml.data import IMAGE_SUFFIXES, NORMAL_TYPE, Category, discover_categories, is_category


class DatasetError(ValueError):
    """The path holds nothing that can be imported."""


def _category_plan(category: Category) -> PlannedCollection:
    images = [PlannedImage(path, Split.TRAIN, Verdict.NORMAL) for path in category.train]
    for path, kind, mask in zip(category.test, category.test_types, category.masks, strict=True):
        if kind == NORMAL_TYPE:
            images.append(PlannedImage(path, Split.TEST, Verdict.NORMAL))
        else:
            images.append(PlannedImage(path, Split.TEST, Verdict.DEFECTIVE, kind, mask))
    refused = [(str(link), LINK_REFUSED) for link in category.links]
    return PlannedCollection(category.name, images, "mvtec", refused)


# The layouts `dataset_plan` reads; without a format it tells the first two apart by themselves.
DATASET_FORMATS = ("mvtec", "folder", *READABLE)


def _mvtec_plans(path: Path) -> list[PlannedCollection]:
    # Links are never followed: one into the media root would copy another team's images.
    plans = [
        _category_plan(category)
        for category in discover_categories(path, with_train=False, follow_links=False)
    ]
    if not is_category(path, with_train=False):  # else the category's own links say it
        linked = sorted(p for p in path.iterdir() if p.is_symlink() and p.is_dir())
        plans[0].refused.extend((str(link), LINK_REFUSED) for link in linked)
    return plans


def _labeled_plans(path: Path, format: str) -> list[PlannedCollection]:
    try:
        plan = label_plan(path=path, format=format)
    except LabelFormatError as error:
        raise DatasetError(str(error)) from None
    if not plan.images:
        refusals = "; ".join(f"{label_file}: {reason}" for label_file, reason in plan.refused)
        raise DatasetError(
            f"nothing to import from {path}: "
            + (refusals or f"it holds no {format} label file and no image (is it another format?)")
        )
    return [plan]


def dataset_plan(path: Path, *, format: str | None = None) -> list[PlannedCollection]:
    """What importing `path` would create, one entry per collection.

    Args:
        format: one of `DATASET_FORMATS`; None: the MVTec AD layout when the folder is in it, else a
            plain folder. A label format plans one collection named after the folder; the label files
            it refuses are in the plan's `refused` (`annotations.services.label_import` says when).

    Raises:
        DatasetError: the path is missing, holds no images in the layout (or every label file was
            refused, with why), or the format is unknown.
    """
    if not path.is_dir():
        raise DatasetError(f"{path} is not a folder")
    if format is not None and format not in DATASET_FORMATS:
        raise DatasetError(f"unknown format {format!r}: choose one of {', '.join(DATASET_FORMATS)}")
    if format == "mvtec":
        try:
            plans = _mvtec_plans(path)
        except FileNotFoundError as error:
            raise DatasetError(str(error)) from None
    elif format == "folder":
        plans = [folder_plan(path, IMAGE_SUFFIXES)]
    elif format is not None:
        return _labeled_plans(path, format)
    else:
        try:
            plans = _mvtec_plans(path)
        except FileNotFoundError:
            plans = [folder_plan(path, IMAGE_SUFFIXES)]
    plans = [plan for plan in plans if plan.images]
    if not plans:
        raise DatasetError(
            f"no images found in {path}: expected the MVTec AD layout (<category>/train/good, "
            "<category>/test/<defect>) or a folder of PNG, JPEG, BMP, TIFF or WebP files"
        )
    return plans
