"""Reading datasets in the MVTec AD layout, the one most anomaly-detection tools read.

Layout of one category::

    <category>/train/good/*.png|jpg            normal training images
    <category>/test/<type>/*                   test images; ``good`` is normal, any other type defective
    <category>/ground_truth/<type>/<name>_mask.png   defect masks (non-zero on the defect)

Used by the benchmarks and the simulation, and by the platform's dataset import, which reads with
``follow_links=False``: a symbolic link (to a file or a folder) is then never followed, only noted in
the category's ``links``, so a dataset cannot reach files outside itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import overload

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from inference.ml.metrics import NORMAL_TYPE

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"})
MASK_FORMATS = ("PNG", "BMP", "TIFF")


@dataclass(frozen=True)
class Category:
    """One MVTec-layout category.

    Attributes:
        name: folder name.
        train: normal training image paths.
        test: test image paths.
        test_types: defect type of each test image (``good`` for normal).
        masks: ground-truth mask path of each test image, ``None`` for normal ones.
        links: symbolic links found and not followed (read with ``follow_links=False``).
    """

    name: str
    train: list[Path]
    test: list[Path]
    test_types: list[str]
    masks: list[Path | None]
    links: list[Path] = field(default_factory=list)

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


def _linked(path: Path, below: Path) -> Path | None:
    """The first part of ``path`` under ``below`` that is a symbolic link, or ``None``."""
    current = below
    for part in path.relative_to(below).parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def images_in(folder: Path, *, follow_links: bool = True, links: list[Path] | None = None) -> list[Path]:
    """The image files of ``folder`` (by suffix, not following into subfolders), sorted; none when
    it is missing. Without ``follow_links``, linked files are left out and appended to ``links``."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES):
        if not follow_links and path.is_symlink():
            if links is not None:
                links.append(path)
        elif path.is_file():
            found.append(path)
    return found


def is_category(folder: Path, *, with_train: bool = True) -> bool:
    """Whether ``folder`` is a category: it has ``train/good`` (or, without ``with_train``, a
    ``train`` or a ``test`` folder)."""
    if with_train:
        return (folder / "train" / NORMAL_TYPE).is_dir()
    return (folder / "train").is_dir() or (folder / "test").is_dir()


def read_category(folder: Path, *, follow_links: bool = True) -> Category:
    """The category in ``folder``: ``train/good`` images, ``test/<type>`` images and their masks.
    Without ``follow_links``, no linked folder or file is read: each is in the category's ``links``
    (a test image whose mask is linked is read without its mask)."""
    links: list[Path] = []

    def usable(path: Path) -> bool:
        link = None if follow_links else _linked(path, folder)
        if link is not None and link not in links:
            links.append(link)
        return link is None

    test: list[Path] = []
    types: list[str] = []
    masks: list[Path | None] = []
    test_folder = folder / "test"
    type_folders = (
        sorted(p for p in test_folder.iterdir() if p.is_dir() and usable(p))
        if test_folder.is_dir() and usable(test_folder)
        else []
    )
    for type_folder in type_folders:
        for path in images_in(type_folder, follow_links=follow_links, links=links):
            test.append(path)
            types.append(type_folder.name)
            if type_folder.name == NORMAL_TYPE:
                masks.append(None)
            else:
                mask = folder / "ground_truth" / type_folder.name / f"{path.stem}_mask.png"
                masks.append(mask if mask.is_file() and usable(mask) else None)
    train_folder = folder / "train" / NORMAL_TYPE
    train = images_in(train_folder, follow_links=follow_links, links=links) if usable(train_folder) else []
    return Category(folder.name, train, test, types, masks, links)


def discover_categories(
    root: str | Path,
    names: Sequence[str] | None = None,
    *,
    with_train: bool = True,
    follow_links: bool = True,
) -> list[Category]:
    """Find the categories under ``root`` (or ``root`` itself, if it is one).

    Args:
        root: a category folder, or a folder of category folders.
        names: only these categories.
        with_train: only folders with ``train/good`` count (else a ``train`` or ``test`` folder is
            enough: an importer takes a test split alone).
        follow_links: read linked folders and files; without it a linked category folder is no
            category, and the links inside one are in its ``links``.

    Raises:
        FileNotFoundError: no category was found.
    """
    root = Path(root)
    if is_category(root, with_train=with_train):
        folders = [root]
    elif root.is_dir():
        folders = sorted(
            p
            for p in root.iterdir()
            if (follow_links or not p.is_symlink()) and p.is_dir() and is_category(p, with_train=with_train)
        )
    else:
        folders = []
    if names:
        folders = [p for p in folders if p.name in set(names)]
    if not folders:
        wanted = f"train/{NORMAL_TYPE}/" if with_train else "train/ or test/"
        raise FileNotFoundError(f"no MVTec-layout category (a folder with {wanted}) found in {root}")
    return [read_category(folder, follow_links=follow_links) for folder in folders]


def load_mask(path: Path | None, shape: tuple[int, int]) -> NDArray[np.bool_]:
    """A ground-truth mask as ``(H, W)`` bool; all false when ``path`` is ``None``.

    Raises:
        ValueError: the mask's size differs from the image's.
        PIL.UnidentifiedImageError: the mask is not a PNG, BMP or TIFF file.
    """
    if path is None:
        return np.zeros(shape, bool)
    # Lossless formats only, and the size compared from the header, before anything is decoded.
    with Image.open(path, formats=MASK_FORMATS) as image:
        if image.size != (shape[1], shape[0]):
            raise ValueError(f"mask {path} is {image.width}x{image.height}, its image {shape[1]}x{shape[0]}")
        return np.asarray(image.convert("L")) > 0
