"""What importing a folder would create: datasets in the MVTec AD layout, read by the learning core's
reader (`inference.ml.data`, the one the benchmarks use), one collection per category; else a plain
folder of images. The import itself is `annotations.services.importing.dataset_import`.
"""

from pathlib import Path

from annotations.models import Split, Verdict
from annotations.services.importing import PlannedCollection, PlannedImage, folder_plan
from inference.ml.data import IMAGE_SUFFIXES, NORMAL_TYPE, Category, discover_categories


class DatasetError(ValueError):
    """The path holds nothing that can be imported."""


def _category_plan(category: Category) -> PlannedCollection:
    images = [PlannedImage(path, Split.TRAIN, Verdict.NORMAL) for path in category.train]
    for path, kind, mask in zip(category.test, category.test_types, category.masks, strict=True):
        if kind == NORMAL_TYPE:
            images.append(PlannedImage(path, Split.TEST, Verdict.NORMAL))
        else:
            images.append(PlannedImage(path, Split.TEST, Verdict.DEFECTIVE, kind, mask))
    return PlannedCollection(category.name, images, "mvtec")


def dataset_plan(path: Path) -> list[PlannedCollection]:
    """What importing `path` would create, one entry per collection.

    Raises:
        DatasetError: the path is missing or holds no images in a known layout.
    """
    if not path.is_dir():
        raise DatasetError(f"{path} is not a folder")
    try:
        plans = [_category_plan(category) for category in discover_categories(path, with_train=False)]
    except FileNotFoundError:
        plans = [folder_plan(path, IMAGE_SUFFIXES)]
    plans = [plan for plan in plans if plan.images]
    if not plans:
        raise DatasetError(
            f"no images found in {path}: expected the MVTec AD layout (<category>/train/good, "
            "<category>/test/<defect>) or a folder of PNG, JPEG, BMP, TIFF or WebP files"
        )
    return plans
