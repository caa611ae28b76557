"""Fit and evaluate an algorithm on datasets in the MVTec AD layout (:mod:`inference.ml.data`),
measuring quality and cost."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
from tqdm import tqdm

from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.base import ProgressCallback
from inference.ml.data import Category, ImageFiles, discover_categories, load_mask
from inference.ml.experiments.memory import PeakMemory
from inference.ml.experiments.peer import Peer, run_peer
from inference.ml.experiments.selection import cross_validate, map_top_scores
from inference.ml.metrics import evaluate


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
    score_candidates: bool = False,
) -> dict[str, Any]:
    """Fit on ``train/good``, predict ``test``, and report quality and cost.

    Args:
        category: the category.
        algorithm: algorithm name.
        params: its parameters.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        show_progress: draw tqdm progress bars.
        score_candidates: also keep, for every test image, each candidate image score of
            :func:`~inference.ml.experiments.selection.map_top_scores` (for :func:`select_image_score`).

    Returns:
        ``quality`` (see :func:`evaluate`) and ``cost``: ``fit_seconds``, ``predict_seconds``,
        ``images_per_second`` (prediction), ``peak_memory_mb`` (resident set, whole process),
        ``model_size_mb`` (safetensors + JSON), plus the fit report's details; with
        ``score_candidates``, ``test_labels`` and ``score_candidates`` (fraction -> scores).
    """
    import torch

    torch.manual_seed(int(params.get("seed", 0)))
    model = get_algorithm(algorithm, device=device, **params)
    with PeakMemory() as memory, tqdm_progress(show_progress) as progress:
        report = model.fit(ImageFiles(category.train), progress=progress)
        started = time.perf_counter()
        predictions = model.predict(ImageFiles(category.test), progress=progress)
        predict_seconds = time.perf_counter() - started
    masks = [
        load_mask(path, anomaly_map.shape)
        for path, anomaly_map in zip(category.masks, predictions.anomaly_maps, strict=True)
    ]
    quality = evaluate(
        predictions.scores,
        category.test_labels.astype(np.int64),
        predictions.anomaly_maps,
        masks,
        types=category.test_types,
    )
    extra: dict[str, Any] = {}
    if score_candidates:
        candidates = map_top_scores(predictions.anomaly_maps)
        extra["test_labels"] = category.test_labels.astype(int).tolist()
        extra["score_candidates"] = {str(fraction): s.tolist() for fraction, s in candidates.items()}
    with tempfile.TemporaryDirectory() as folder:
        model_bytes = sum(path.stat().st_size for path in model.save(folder))
    return {
        **extra,
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


MEAN_METRICS = ("image_auroc", "pixel_auroc", "aupro", "f1_max")


def limit_training(category: Category, limit: int | None, seed: int = 0) -> Category:
    """The category with at most ``limit`` training images, a seeded choice kept in file order."""
    if limit is None or len(category.train) <= limit:
        return category
    picks = np.sort(np.random.default_rng(seed).choice(len(category.train), limit, replace=False))
    return replace(category, train=[category.train[i] for i in picks])


def _mean(categories: list[dict[str, Any]]) -> dict[str, float]:
    """Each metric's mean over the categories that have it."""
    qualities = [category["quality"] for category in categories]
    return {
        key: float(np.mean([q[key] for q in qualities if key in q]))
        for key in MEAN_METRICS
        if any(key in q for q in qualities)
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
    train_limit: int | None = None,
    peer: Peer | None = None,
    score_candidates: bool = False,
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
        train_limit: train on at most this many images of each category (a seeded choice).
        peer: also run this tool on the same training images; its entry is the category's ``peer``.
        score_candidates: keep every candidate image score (see :func:`benchmark_category`).

    Returns:
        ``algorithm``, ``params``, one entry per category, and the ``mean`` of each metric over
        categories (with a peer, ``peer_mean`` too).
    """
    results = []
    for category in discover_categories(root, categories):
        category = limit_training(category, train_limit)
        result = benchmark_category(
            category,
            algorithm,
            params,
            device=device,
            show_progress=show_progress,
            score_candidates=score_candidates,
        )
        if peer is not None:
            result["peer"] = {"tool": peer.name, **run_peer(peer, category)}
        results.append(result)
        if log is not None:
            quality, cost = result["quality"], result["cost"]
            log(
                f"{category.name}: image AUROC {quality['image_auroc']:.4f}, "
                f"pixel AUROC {quality.get('pixel_auroc', float('nan')):.4f}, "
                f"AUPRO {quality.get('aupro', float('nan')):.4f}, fit {cost['fit_seconds']:.1f} s, "
                f"{cost['images_per_second']:.1f} img/s, peak {cost['peak_memory_mb']:.0f} MB"
            )
    out = {"algorithm": algorithm, "params": params, "categories": results, "mean": _mean(results)}
    if peer is not None:
        out["peer_mean"] = _mean([result["peer"] for result in results])
    return out


def run_benchmarks(
    roots: Sequence[str | Path],
    algorithm: str,
    params: dict[str, Any],
    *,
    categories: Sequence[str] | None = None,
    device: str = "auto",
    show_progress: bool = True,
    log: Callable[[str], None] | None = None,
    train_limit: int | None = None,
    peer: Peer | None = None,
    score_candidates: bool = False,
) -> dict[str, Any]:
    """Benchmark several datasets (each a folder of MVTec-layout categories, or one category), so that
    no default is judged on one dataset alone.

    Args:
        roots: the datasets.
        algorithm, params, categories, device, show_progress, log, train_limit, peer,
            score_candidates: as for :func:`run_benchmark`.

    Returns:
        ``algorithm``, ``params``, ``datasets`` (per dataset: its ``name`` and :func:`run_benchmark`'s
        result) and the ``mean`` of each metric over every category of every dataset (with a peer,
        ``peer_mean`` too).
    """
    datasets = []
    for root in roots:
        if log is not None:
            log(f"dataset {Path(root).name}:")
        result = run_benchmark(
            root,
            algorithm,
            params,
            categories=categories,
            device=device,
            show_progress=show_progress,
            log=log,
            train_limit=train_limit,
            peer=peer,
            score_candidates=score_candidates,
        )
        datasets.append({"name": Path(root).name, **result})
    every = [category for dataset in datasets for category in dataset["categories"]]
    out = {"algorithm": algorithm, "params": params, "datasets": datasets, "mean": _mean(every)}
    if peer is not None:
        out["peer_mean"] = _mean([category["peer"] for category in every])
    return out


def results_table(results: dict[str, Any]) -> str:
    """:func:`run_benchmarks`' results as a Markdown table: a row per dataset, category and tool (Loupe,
    then the peer where one ran), then the means."""
    columns = MEAN_METRICS
    lines = [
        "| dataset | category | tool | image AUROC | pixel AUROC | AUPRO | F1-max | fit s | img/s "
        "| peak MB |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]

    def figure(values: dict[str, Any], key: str) -> str:
        return f"{values[key]:.3f}" if key in values else "–"

    def row(dataset: str, category: str, tool: str, entry: dict[str, Any]) -> str:
        quality, cost = entry["quality"], entry["cost"]
        return (
            f"| {dataset} | {category} | {tool} | "
            + " | ".join(figure(quality, key) for key in columns)
            + f" | {cost['fit_seconds']:.1f} | {cost['images_per_second']:.1f}"
            + f" | {cost['peak_memory_mb']:.0f} |"
        )

    for dataset in results["datasets"]:
        for category in dataset["categories"]:
            name = category["category"]
            lines.append(row(dataset["name"], name, "loupe", category))
            if "peer" in category:
                lines.append(row(dataset["name"], name, category["peer"]["tool"], category["peer"]))
    means = [("loupe", results["mean"])]
    if "peer_mean" in results:
        tool = results["datasets"][0]["categories"][0]["peer"]["tool"]
        means.append((tool, results["peer_mean"]))
    for tool, mean in means:
        lines.append(f"| mean | | {tool} | " + " | ".join(figure(mean, key) for key in columns) + " | | | |")
    return "\n".join(lines)


def select_image_score(results: dict[str, Any], n_folds: int = 2, seed: int = 0) -> dict[str, Any]:
    """Cross-validate the choice of ``map_top_fraction`` over every category of :func:`run_benchmarks`'
    results (run with ``score_candidates``); see :func:`~inference.ml.experiments.selection.cross_validate`.
    """
    scores, labels = {}, {}
    for dataset in results["datasets"]:
        for category in dataset["categories"]:
            name = f"{dataset['name']}/{category['category']}"
            scores[name] = {float(f): np.asarray(s) for f, s in category["score_candidates"].items()}
            labels[name] = np.asarray(category["test_labels"], bool)
    return cross_validate(scores, labels, n_folds=n_folds, seed=seed)


def selection_table(selection: dict[str, Any]) -> str:
    """:func:`select_image_score`'s result as Markdown: in-sample AUROC per candidate and category, and
    the cross-validated figure of the choice made fold by fold."""
    names = sorted(selection["cross_validated"])
    lines = ["| map_top_fraction | " + " | ".join(names) + " | mean |", "|---" * (len(names) + 2) + "|"]
    for candidate, per_category in selection["in_sample"].items():
        values = [per_category[name] for name in names]
        lines.append(
            f"| {candidate} | " + " | ".join(f"{v:.3f}" for v in values) + f" | {np.nanmean(values):.3f} |"
        )
    values = [selection["cross_validated"][name] for name in names]
    chosen = ", ".join(str(c) for c in selection["chosen"])
    lines.append(
        f"| cross-validated (chose {chosen}) | "
        + " | ".join(f"{v:.3f}" for v in values)
        + f" | {np.nanmean(values):.3f} |"
    )
    return "\n".join(lines)
