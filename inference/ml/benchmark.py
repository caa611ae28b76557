"""Fit and evaluate an algorithm on datasets in the MVTec AD layout, measuring quality and cost.

Layout of one category::

    <category>/train/good/*.png|jpg            normal training images
    <category>/test/<type>/*                   test images; ``good`` is normal, any other type defective
    <category>/ground_truth/<type>/<name>_mask.png   defect masks (non-zero on the defect)
"""

from __future__ import annotations

import os
import resource
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, overload

import numpy as np
from numpy.typing import NDArray
from PIL import Image
from tqdm import tqdm

from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.base import ProgressCallback
from inference.ml.metrics import aupro, auroc, f1_max, threshold_stats

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff"})
NORMAL_TYPE = "good"


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


def evaluate(
    scores: NDArray[np.floating],
    labels: NDArray[np.bool_],
    anomaly_maps: Sequence[NDArray[np.floating]] | None = None,
    masks: Sequence[NDArray[np.bool_]] | None = None,
    types: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Image metrics, and pixel metrics when maps and masks are given.

    Args:
        scores: ``(N,)`` image scores.
        labels: ``(N,)`` true for defective images.
        anomaly_maps: ``N`` maps ``(H_i, W_i)``.
        masks: ``N`` ground-truth masks of the same shapes.
        types: ``N`` defect types (``good`` for normal), for an image AUROC per type against the normals.

    Returns:
        ``image_auroc``, ``image_f1_max`` with its ``threshold``, precision/recall/FPR/FNR at that
        threshold, and, with maps, ``pixel_auroc`` and ``aupro`` (to 30% FPR).
    """
    best = f1_max(scores, labels)
    at_best = threshold_stats(scores, labels, best.threshold)
    out: dict[str, Any] = {
        "image_auroc": auroc(scores, labels),
        "image_f1_max": best.f1,
        "threshold": best.threshold,
        "at_threshold": {
            "precision": at_best.precision,
            "recall": at_best.recall,
            "fpr": at_best.fpr,
            "fnr": at_best.fnr,
        },
    }
    if types is not None:
        kinds = np.asarray(types)
        out["image_auroc_by_type"] = {
            kind: auroc(scores[(kinds == kind) | ~labels], labels[(kinds == kind) | ~labels])
            for kind in sorted(set(types) - {NORMAL_TYPE})
        }
    if anomaly_maps is not None and masks is not None and any(m.any() for m in masks):
        pixel_scores = np.concatenate([np.asarray(m, np.float32).ravel() for m in anomaly_maps])
        pixel_labels = np.concatenate([m.ravel() for m in masks])
        out["pixel_auroc"] = auroc(pixel_scores, pixel_labels)
        del pixel_scores, pixel_labels
        out["aupro"] = aupro(anomaly_maps, masks)
    return out


class _PeakMemory:
    """Highest resident set size seen while running, sampled every ``interval`` seconds (Linux)."""

    def __init__(self, interval: float = 0.02) -> None:
        self.interval = interval
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def _rss(self) -> int:
        try:
            with open("/proc/self/statm") as handle:
                return int(handle.read().split()[1]) * self._page
        except OSError:  # not Linux: the process's lifetime peak is the best available
            return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024

    def _sample(self) -> None:
        while not self._stop.is_set():
            self.peak_bytes = max(self.peak_bytes, self._rss())
            self._stop.wait(self.interval)

    def __enter__(self) -> _PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak_bytes = max(self.peak_bytes, self._rss())


@contextmanager
def tqdm_progress(enabled: bool = True) -> Iterator[ProgressCallback | None]:
    """A progress callback drawing one tqdm bar per stage; ``None`` when disabled."""
    if not enabled:
        yield None
        return
    bars: dict[str, tqdm] = {}

    def progress(stage: str, done: int, total: int) -> None:
        bar = bars.get(stage)
        if bar is None:
            unit = {"coreset": "pt", "head": "step"}.get(stage, "img")
            bar = bars[stage] = tqdm(total=total, desc=stage, unit=unit, leave=False)
        bar.update(done - bar.n)

    try:
        yield progress
    finally:
        for bar in bars.values():
            bar.close()


def benchmark_category(
    category: Category,
    algorithm: str,
    params: dict[str, Any],
    *,
    device: str = "auto",
    show_progress: bool = True,
) -> dict[str, Any]:
    """Fit on ``train/good``, predict ``test``, and report quality and cost.

    Returns:
        ``quality`` (see :func:`evaluate`) and ``cost``: ``fit_seconds``, ``predict_seconds``,
        ``images_per_second`` (prediction), ``peak_memory_mb`` (resident set, whole process),
        ``model_size_mb`` (safetensors + JSON), plus the fit report's details.
    """
    import torch

    torch.manual_seed(int(params.get("seed", 0)))
    model = get_algorithm(algorithm, device=device, **params)
    with _PeakMemory() as memory, tqdm_progress(show_progress) as progress:
        report = model.fit(ImageFiles(category.train), progress=progress)
        started = time.perf_counter()
        predictions = model.predict(ImageFiles(category.test), progress=progress)
        predict_seconds = time.perf_counter() - started
    masks = [
        load_mask(path, anomaly_map.shape)
        for path, anomaly_map in zip(category.masks, predictions.anomaly_maps, strict=True)
    ]
    quality = evaluate(
        predictions.scores, category.test_labels, predictions.anomaly_maps, masks, category.test_types
    )
    with tempfile.TemporaryDirectory() as folder:
        model_bytes = sum(path.stat().st_size for path in model.save(folder))
    return {
        "category": category.name,
        "n_train": len(category.train),
        "n_test": len(category.test),
        "n_test_defective": int(category.test_labels.sum()),
        "quality": quality,
        "cost": {
            "fit_seconds": report.seconds,
            "predict_seconds": predict_seconds,
            "images_per_second": len(category.test) / predict_seconds,
            "peak_memory_mb": memory.peak_bytes / 2**20,
            "model_size_mb": model_bytes / 2**20,
            "device": str(model.device),
            **report.details,
        },
    }


def run_benchmark(
    root: str | Path,
    algorithm: str,
    params: dict[str, Any],
    *,
    categories: Sequence[str] | None = None,
    device: str = "auto",
    show_progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Benchmark every category under ``root``.

    Args:
        root: a category folder or a folder of them (MVTec AD layout).
        algorithm: algorithm name (``patchcore``, ``padim``).
        params: the algorithm's parameters.
        categories: only these categories.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        show_progress: draw tqdm progress bars.
        log: called with one summary line per category.

    Returns:
        ``algorithm``, ``params``, one entry per category, and the ``mean`` of each metric over categories.
    """
    results = []
    for category in discover_categories(root, categories):
        result = benchmark_category(category, algorithm, params, device=device, show_progress=show_progress)
        results.append(result)
        if log is not None:
            quality, cost = result["quality"], result["cost"]
            log(
                f"{category.name}: image AUROC {quality['image_auroc']:.4f}, "
                f"pixel AUROC {quality.get('pixel_auroc', float('nan')):.4f}, "
                f"AUPRO {quality.get('aupro', float('nan')):.4f}, fit {cost['fit_seconds']:.1f} s, "
                f"{cost['images_per_second']:.1f} img/s, peak {cost['peak_memory_mb']:.0f} MB"
            )
    keys = ("image_auroc", "pixel_auroc", "aupro", "image_f1_max")
    mean = {
        key: float(np.mean([r["quality"][key] for r in results if key in r["quality"]]))
        for key in keys
        if any(key in r["quality"] for r in results)
    }
    return {"algorithm": algorithm, "params": params, "categories": results, "mean": mean}
