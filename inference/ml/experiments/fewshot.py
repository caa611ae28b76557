"""How much a handful of (weakly) labeled defects improves on unsupervised PatchCore.

On an MVTec-layout category, ``n_labeled`` defective test images (a seeded choice) become training
labels, converted to each weak kind asked for; unsupervised PatchCore and the semi-supervised model
(``patchcore_ss``) trained with each kind are all evaluated on the rest of the test split, never on
the labeled images.

Every variant shares one memory bank (the labels only train the head), so the bank is built once,
and each canvas's backbone features and nearest-neighbour distances are computed once
(:class:`CachingExtractor`, :class:`~inference.ml.algorithms.patchcore.bank.CachedBank`): a variant
costs a head's training and the head's pass over the test features.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray
from scipy import ndimage

from inference.ml.algorithms.base import FeatureParams
from inference.ml.algorithms.features import PatchFeatureExtractor
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.algorithms.patchcore.bank import CachedBank
from inference.ml.algorithms.patchcore_ss import SemiSupervisedParams, SemiSupervisedPatchCore
from inference.ml.data import Category, ImageFiles, discover_categories, load_mask
from inference.ml.device import resolve_device
from inference.ml.experiments.benchmark import tqdm_progress
from inference.ml.metrics import evaluate
from inference.ml.preprocessing import ImageInput

BENCHMARK_KINDS: tuple[str, ...] = ("mask", "box", "point", "image")
"""Label kinds a ground-truth mask can be turned into."""
BASELINE = "patchcore"
"""Name of the unsupervised variant in the results."""
_EIGHT_CONNECTED = np.ones((3, 3), bool)
_SUMMARY_KEYS = ("image_auroc", "pixel_auroc", "aupro", "f1_max")


class CachingExtractor(PatchFeatureExtractor):
    """A feature extractor that computes each distinct canvas once.

    Canvases are recognised by their content (and the backbone settings), so the same image seen by
    several fits and predictions costs one forward pass. Features are kept in memory and, when
    ``folder`` is given, as ``.npy`` files there, to be reused by later runs.

    Args:
        params: backbone, layers, canvas and aggregation settings.
        device: where the backbone runs.
        folder: where to keep features between runs (created if needed); memory only when ``None``.
    """

    def __init__(self, params: FeatureParams, device: torch.device, folder: Path | None = None) -> None:
        super().__init__(params, device)
        self.folder = folder
        if folder is not None:
            folder.mkdir(parents=True, exist_ok=True)
        self._memory: dict[str, torch.Tensor] = {}
        settings = (
            params.backbone,
            params.layers,
            params.weights_path,
            params.aggregate,
            params.aggregate_include_pad,
        )
        self._salt = repr(settings).encode()

    def _key(self, canvas: torch.Tensor) -> str:
        digest = hashlib.blake2b(self._salt, digest_size=20)
        digest.update(canvas.contiguous().numpy().tobytes())
        return digest.hexdigest()

    def _recall(self, key: str) -> bool:
        """Whether the features of ``key`` are in memory, after loading them from the folder if there."""
        if key in self._memory:
            return True
        path = None if self.folder is None else self.folder / f"{key}.npy"
        if path is None or not path.is_file():
            return False
        self._memory[key] = torch.from_numpy(np.load(path, allow_pickle=False))
        return True

    @torch.no_grad()
    def __call__(self, canvases: torch.Tensor) -> torch.Tensor:
        """Patch features of a batch of canvases, computing only those not seen before."""
        canvases = canvases.cpu()
        keys = [self._key(canvas) for canvas in canvases]
        missing = [i for i, key in enumerate(keys) if not self._recall(key)]
        if missing:
            computed = super().__call__(canvases[missing]).cpu()
            for i, features in zip(missing, computed, strict=True):
                self._memory[keys[i]] = features.clone()
                if self.folder is not None:
                    np.save(self.folder / f"{keys[i]}.npy", features.numpy())
        return torch.stack([self._memory[key] for key in keys]).to(self.device)


def mask_to_label(image: ImageInput, mask: NDArray[np.bool_], kind: str) -> LabeledImage:
    """A ground-truth mask turned into a weaker label.

    Args:
        image: the defective image.
        mask: ``(H, W)`` its defect mask.
        kind: ``mask`` (as is), ``box`` (the bounding box of each connected region), ``point`` (one
            pixel of each region, the nearest to its centroid) or ``image`` (the verdict only).

    Raises:
        ValueError: another kind.
    """
    if kind == "mask":
        return LabeledImage(image, "mask", mask=mask)
    if kind == "image":
        return LabeledImage(image, "image")
    regions, count = ndimage.label(mask, structure=_EIGHT_CONNECTED)
    if kind == "box":
        boxes = tuple(
            (cols.start, rows.start, cols.stop - cols.start, rows.stop - rows.start)
            for rows, cols in ndimage.find_objects(regions)
        )
        return LabeledImage(image, "box", boxes=boxes)
    if kind == "point":
        points = []
        for region in range(1, count + 1):
            rows, cols = np.nonzero(regions == region)
            nearest = int(np.argmin((rows - rows.mean()) ** 2 + (cols - cols.mean()) ** 2))
            points.append((float(cols[nearest]), float(rows[nearest])))
        return LabeledImage(image, "point", points=tuple(points))
    raise ValueError(f"cannot turn a mask into a {kind!r} label; choose from {', '.join(BENCHMARK_KINDS)}")


def _summary(quality: dict[str, Any]) -> dict[str, float]:
    return {key: quality[key] for key in _SUMMARY_KEYS if key in quality}


def few_label_category(
    category: Category,
    *,
    n_labeled: int = 10,
    label_kinds: Sequence[str] = ("mask", "box", "image"),
    seed: int = 0,
    params: dict[str, Any] | None = None,
    device: str = "auto",
    cache_dir: Path | None = None,
    show_progress: bool = True,
) -> dict[str, Any]:
    """Unsupervised PatchCore against the semi-supervised model with each label kind, on one category.

    Args:
        category: an MVTec-layout category with defect masks.
        n_labeled: defective test images that become labels.
        label_kinds: what each becomes (see :func:`mask_to_label`).
        seed: chooses the labeled images (the models' own seed is in ``params``).
        params: :class:`SemiSupervisedParams` fields (PatchCore's among them).
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        cache_dir: where to keep backbone features between runs; memory only when ``None``.
        show_progress: draw tqdm progress bars.

    Returns:
        ``labeled`` (the labeled images' names), ``n_eval``, and per variant (``patchcore``: the
        model without labels, which is PatchCore exactly; then each kind) ``quality`` (see
        :func:`~inference.ml.metrics.evaluate`), ``summary`` (its main figures) and
        ``fit_seconds`` (the memory bank's for ``patchcore``, the head's for the others).

    Raises:
        ValueError: fewer than ``n_labeled + 1`` defective test images, or an unknown label kind.
    """
    for kind in label_kinds:
        if kind not in BENCHMARK_KINDS:
            raise ValueError(f"unknown label kind {kind!r}; choose from {', '.join(BENCHMARK_KINDS)}")
    defective = np.flatnonzero(category.test_labels)
    if len(defective) <= n_labeled:
        raise ValueError(
            f"{category.name} has {len(defective)} defective test images; {n_labeled} labeled ones "
            "must leave some to evaluate on"
        )
    chosen = np.sort(np.random.default_rng(seed).choice(defective, n_labeled, replace=False))
    rest = np.setdiff1d(np.arange(len(category.test)), chosen)
    test = ImageFiles(category.test)
    model_params = SemiSupervisedParams.from_dict(params or {})
    # The variants differ only in their heads: features and bank searches are shared.
    extractor = CachingExtractor(model_params, resolve_device(device), cache_dir)
    model = SemiSupervisedPatchCore(model_params, device, bank=CachedBank(), extractor=extractor)
    evaluation = ImageFiles([category.test[i] for i in rest])
    labels = category.test_labels[rest]
    masks: list[NDArray[np.bool_]] | None = None
    variants: dict[str, dict[str, Any]] = {}
    train = ImageFiles(category.train)
    with tqdm_progress(show_progress) as progress:
        started = time.perf_counter()
        model.fit(train, progress=progress)
        fit_seconds = time.perf_counter() - started
        for kind in (BASELINE, *label_kinds):
            if kind != BASELINE:
                labeled = []
                for i in chosen:
                    image = test[int(i)]
                    mask = load_mask(category.masks[i], (image.height, image.width))
                    labeled.append(mask_to_label(image, mask, kind))
                started = time.perf_counter()
                model.fit_head(train, labeled, progress=progress)
                fit_seconds = time.perf_counter() - started
            predictions = model.predict(evaluation, progress=progress)
            if masks is None:
                masks = [
                    load_mask(category.masks[i], anomaly_map.shape)
                    for i, anomaly_map in zip(rest, predictions.anomaly_maps, strict=True)
                ]
            quality = evaluate(predictions.scores, labels, predictions.anomaly_maps, masks)
            variants[kind] = {"quality": quality, "summary": _summary(quality), "fit_seconds": fit_seconds}
    return {
        "category": category.name,
        "n_labeled": n_labeled,
        "labeled": [category.test[i].name for i in chosen],
        "labeled_types": [category.test_types[i] for i in chosen],
        "n_eval": len(rest),
        "n_eval_defective": int(labels.sum()),
        "variants": variants,
    }


def few_label_benchmark(
    root: str | Path,
    n_labeled: int = 10,
    label_kinds: Sequence[str] = ("mask", "box", "image"),
    seed: int = 0,
    params: dict[str, Any] | None = None,
    *,
    categories: Sequence[str] | None = None,
    device: str = "auto",
    cache_dir: str | Path | None = None,
    show_progress: bool = True,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Run :func:`few_label_category` on every category under ``root``.

    Args:
        root: a category folder or a folder of them (MVTec AD layout, with ground-truth masks).
        n_labeled: defective test images per category that become labels.
        label_kinds: label kinds to compare (``mask``, ``box``, ``point``, ``image``).
        seed: chooses the labeled images.
        params: :class:`SemiSupervisedParams` fields, e.g. ``{"image_size": 256}``.
        categories: only these categories.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        cache_dir: where to keep backbone features between runs (e.g. ``var/cache/features``).
        show_progress: draw tqdm progress bars.
        log: called with one line per category and variant.

    Returns:
        ``params``, ``n_labeled``, ``seed``, one entry per category, and the ``mean`` summary of each
        variant over categories.
    """
    results = []
    for category in discover_categories(root, categories):
        result = few_label_category(
            category,
            n_labeled=n_labeled,
            label_kinds=label_kinds,
            seed=seed,
            params=params,
            device=device,
            cache_dir=None if cache_dir is None else Path(cache_dir),
            show_progress=show_progress,
        )
        results.append(result)
        if log is not None:
            for name, variant in result["variants"].items():
                figures = ", ".join(f"{key} {value:.4f}" for key, value in variant["summary"].items())
                log(f"{category.name} {name}: {figures}")
    names = list(results[0]["variants"]) if results else []
    mean = {
        name: {
            key: float(np.mean([r["variants"][name]["summary"][key] for r in results]))
            for key in results[0]["variants"][name]["summary"]
        }
        for name in names
    }
    return {
        "params": params or {},
        "n_labeled": n_labeled,
        "seed": seed,
        "categories": results,
        "mean": mean,
    }
