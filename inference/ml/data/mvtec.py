"""Reading datasets in the MVTec AD layout, the one most anomaly-detection tools read.

Layout of one category::

    <category>/train/good/*.png|jpg            normal training images
    <category>/test/<type>/*                   test images; ``good`` is normal, any other type defective
    <category>/ground_truth/<type>/<name>_mask.png   defect masks (non-zero on the defect)

Used by the benchmarks and the simulation, and by the platform's dataset import.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import overload

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from inference.ml.metrics import NORMAL_TYPE

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})


@dataclass(frozen=True)
class Category:
    """One MVTec-layout category.

    Attributes:
        name: folder name.
        train: normal training image paths.
        test: test image paths.
        test_types: defect type of each test image (``good`` for normal).
        masks: ground-truth mask path of each test image, ``None`` for normal ones.
    """

    name: str
    train: list[Path]
    test: list[Path]
    test_types: list[str]
    masks: list[Path | None]

    @property
    def test_labels(self) -> NDArray[np.bool_]:
        """``(N_test,)`` true for defective test images."""
        return np.array([kind != NORMAL_TYPE for kind in self.test_types])


class ImageFiles(Sequence[Image.Image]):
    """Images opened from disk when indexed, so a whole dataset never sits in memory.

    Args:
        paths: image files.
    """

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = list(paths)

    def __len__(self) -> int:
        return len(self.paths)

    @overload
    def __getitem__(self, index: int) -> Image.Image: ...

    @overload
    def __getitem__(self, index: slice) -> ImageFiles: ...

    def __getitem__(self, index: int | slice) -> Image.Image | ImageFiles:
        if isinstance(index, slice):
            return ImageFiles(self.paths[index])
        with Image.open(self.paths[index]) as image:
            image.load()
            return image


def _images_in(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)


def discover_categories(root: str | Path, names: Sequence[str] | None = None) -> list[Category]:
    """Find the categories under ``root`` (or ``root`` itself, if it is one).

    Args:
        root: a category folder, or a folder of category folders.
        names: only these categories.

    Raises:
        FileNotFoundError: no category (no ``train/good`` folder) was found.
    """
    root = Path(root)
    if (root / "train" / NORMAL_TYPE).is_dir():
        folders = [root]
    elif root.is_dir():
        folders = sorted(p for p in root.iterdir() if (p / "train" / NORMAL_TYPE).is_dir())
    else:
        folders = []
    if names:
        folders = [p for p in folders if p.name in set(names)]
    if not folders:
        raise FileNotFoundError(
            f"no MVTec-layout category (a folder with train/{NORMAL_TYPE}/) found in {root}"
        )
    categories = []
    for folder in folders:
        test: list[Path] = []
        types: list[str] = []
        masks: list[Path | None] = []
        for type_folder in sorted(p for p in (folder / "test").iterdir() if p.is_dir()):
            for path in _images_in(type_folder):
                test.append(path)
                types.append(type_folder.name)
                if type_folder.name == NORMAL_TYPE:
                    masks.append(None)
                else:
                    mask = folder / "ground_truth" / type_folder.name / f"{path.stem}_mask.png"
                    masks.append(mask if mask.is_file() else None)
        categories.append(
            Category(folder.name, _images_in(folder / "train" / NORMAL_TYPE), test, types, masks)
        )
    return categories


def load_mask(path: Path | None, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """A ground-truth mask as ``(H, W)`` bool; all false when ``path`` is ``None``.

    Raises:
        ValueError: the mask's size differs from the image's.
    """
    if path is None:
        return np.zeros(shape, bool)
    with Image.open(path) as image:
        mask = np.asarray(image.convert("L")) > 0
    if mask.shape != shape:
        raise ValueError(f"mask {path} is {mask.shape[1]}x{mask.shape[0]}, its image {shape[1]}x{shape[0]}")
    return mask
