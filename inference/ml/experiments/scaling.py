"""How an algorithm's cost grows with the number of training images: fit time, scoring speed and peak
memory at 100, 1,000 and 10,000 images of one synthetic texture, each size in a fresh process so that
one size's peak memory is not another's."""

from __future__ import annotations

import multiprocessing
import resource
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inference.ml.synthetic import add_defect, normal_texture

DEFAULT_SIZES = (100, 1_000, 10_000)


class SyntheticImages(Sequence[NDArray[np.uint8]]):
    """``count`` normal images of one texture, each drawn on demand from its own seed (no memory held).

    Args:
        count: number of images.
        side: side of each image, px.
        seed: seed of the first image (image ``i`` uses ``seed + i``).
    """

    def __init__(self, count: int, side: int, seed: int) -> None:
        self.count, self.side, self.seed = count, side, seed

    def __len__(self) -> int:
        return self.count

    def __getitem__(self, index: int) -> NDArray[np.uint8]:  # type: ignore[override]
        if not 0 <= index < self.count:
            raise IndexError(index)
        return normal_texture(np.random.default_rng(self.seed + index), self.side, style="woven")


def _test_set(n_test: int, side: int) -> tuple[list[NDArray[np.uint8]], NDArray[np.int64]]:
    """Half normal, half with one synthetic defect; seeds apart from the training images'."""
    images, labels = [], []
    for i in range(n_test):
        rng = np.random.default_rng(10_000_000 + i)
        image = normal_texture(rng, side, style="woven")
        if i % 2:
            image, _mask, _kind = add_defect(image, rng)
        images.append(image)
        labels.append(i % 2)
    return images, np.array(labels, np.int64)


def _measure(algorithm: str, params: dict[str, Any], count: int, side: int, n_test: int) -> dict[str, Any]:
    """Fit on ``count`` images and score the test set, in this process (run in a fresh one)."""
    import torch

    from inference.ml.algorithms import get_algorithm
    from inference.ml.metrics import auroc

    torch.manual_seed(0)
    model = get_algorithm(algorithm, device="cpu", **params)
    test, labels = _test_set(n_test, side)
    started = time.perf_counter()
    report = model.fit(SyntheticImages(count, side, seed=0))
    fit_seconds = time.perf_counter() - started
    model.predict(test[:2])  # warm-up: the first call pays one-off allocations
    started = time.perf_counter()
    predictions = model.predict(test)
    predict_seconds = time.perf_counter() - started
    return {
        "n_train": count,
        "fit_seconds": fit_seconds,
        "images_per_second": len(test) / predict_seconds,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "n_patches": report.n_patches,
        "memory_bank_size": report.details.get("memory_bank_size"),
        "image_auroc": auroc(predictions.scores, labels == 1),
    }


def run_scaling(
    algorithm: str,
    params: dict[str, Any],
    *,
    sizes: Sequence[int] = DEFAULT_SIZES,
    side: int = 256,
    n_test: int = 100,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Measure fit time, scoring images/s and peak memory for each number of training images.

    Args:
        algorithm: algorithm name.
        params: its parameters.
        sizes: numbers of training images.
        side: side of every image, px.
        n_test: images scored at each size (half of them defective).
        log: called with one line per size.

    Returns:
        ``algorithm``, ``params``, ``side`` and one row per size (``n_train``, ``fit_seconds``,
        ``images_per_second``, ``peak_memory_mb`` of that size's own process, ``n_patches``,
        ``memory_bank_size``, ``image_auroc``), and ``speed_ratio``: the smallest size's images/s over
        the largest's.
    """
    rows = []
    context = multiprocessing.get_context("spawn")
    for count in sizes:
        with context.Pool(1) as pool:
            row = pool.apply(_measure, (algorithm, params, count, side, n_test))
        rows.append(row)
        if log is not None:
            log(
                f"{count} training images: fit {row['fit_seconds']:.1f} s, "
                f"{row['images_per_second']:.1f} img/s, peak {row['peak_memory_mb']:.0f} MB, "
                f"bank {row['memory_bank_size']}"
            )
    return {
        "algorithm": algorithm,
        "params": params,
        "side": side,
        "sizes": rows,
        "speed_ratio": rows[0]["images_per_second"] / rows[-1]["images_per_second"],
    }


def scaling_table(results: dict[str, Any]) -> str:
    """:func:`run_scaling`'s results as a Markdown table."""
    lines = [
        "| training images | patches | bank | fit s | img/s | peak MB | image AUROC |",
        "|---|---|---|---|---|---|---|",
    ]
    for row in results["sizes"]:
        lines.append(
            f"| {row['n_train']:,} | {row['n_patches']:,} | {row['memory_bank_size']:,} | "
            f"{row['fit_seconds']:.1f} | {row['images_per_second']:.1f} | {row['peak_memory_mb']:.0f} | "
            f"{row['image_auroc']:.3f} |"
        )
    return "\n".join(lines)
