"""Active-learning simulation: how fast the labels a review strategy asks for improve the model.

On an MVTec-layout category the test split is cut (seeded, stratified by normal/defective) into a
POOL that a simulated reviewer labels from and a held-out EVAL set nobody ever labels. Round 0 is
unsupervised PatchCore. Every later round the current model scores the pool's unlabeled images, the
strategy (:func:`~inference.ml.active.review_order`) picks ``per_round`` of them, the reviewer answers
from the ground truth (a defective image gets its mask, a normal one becomes a ``normal_hard``
false-positive label), the semi-supervised model (``patchcore_ss``) learns from every label so far
and is evaluated on EVAL. Every strategy sees the same pool, the same EVAL set and the same model.

A round must not cost a feature extraction: backbone features are computed once per image
(:class:`~inference.ml.experiments.fewshot.CachingExtractor`), and the memory bank only grows (the
hard normals of
each round are appended), so the nearest-neighbour search over each part of the bank is done once per
image and remembered. A round costs a head's training, the head's pass over the features and the
search over the hard normals just added.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from numpy.typing import NDArray

from inference.ml.active import STRATEGIES, review_order
from inference.ml.algorithms.base import ProgressCallback
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.algorithms.patchcore.bank import GrowingBank
from inference.ml.algorithms.patchcore_ss import SemiSupervisedParams, SemiSupervisedPatchCore
from inference.ml.algorithms.patchcore_ss.labels import valid_cells
from inference.ml.data import Category, ImageFiles, discover_categories, load_mask
from inference.ml.device import resolve_device
from inference.ml.experiments.fewshot import CachingExtractor
from inference.ml.metrics import evaluate
from inference.ml.preprocessing import ImageInput
from inference.ml.thresholds import ScoreNormalizer, f1_optimal_threshold

METRICS: tuple[str, ...] = ("image_auroc", "pixel_auroc", "aupro")
"""What is measured on the EVAL set after every round."""
BASELINE = "random"
"""The strategy the others are measured against."""


def image_embeddings(
    model: SemiSupervisedPatchCore, images: Sequence[ImageInput], progress: ProgressCallback | None
) -> NDArray[np.float32]:
    """``(N, D)`` mean patch feature of each image over the cells that show it (what near-duplicates
    share)."""
    total = np.zeros((len(images), model.extractor.dim), np.float64)
    counts = np.zeros(len(images))
    for batch, views in model.batch_features(images, "embeddings", progress):
        valid = valid_cells(views, (batch.shape[-2], batch.shape[-1]), model.params.image_size)
        for features, view, cells in zip(batch.cpu().numpy(), views, valid, strict=True):
            total[view.image_index] += features[:, cells].sum(axis=1)
            counts[view.image_index] += cells.sum()
    return (total / counts[:, None]).astype(np.float32)


def split_pool(
    labels: NDArray[np.bool_], eval_fraction: float, seed: int
) -> tuple[NDArray[np.int64], NDArray[np.int64]]:
    """Cut test images into a pool to label from and a held-out EVAL set, each class separately.

    Args:
        labels: ``(N,)`` true for defective images.
        eval_fraction: share of each class held out, (0, 1).
        seed: seed of the cut.

    Returns:
        Sorted indices of the pool and of the EVAL set; together every index once.

    Raises:
        ValueError: ``eval_fraction`` outside (0, 1).
    """
    if not 0 < eval_fraction < 1:
        raise ValueError(f"eval_fraction must be in (0, 1), got {eval_fraction}")
    rng = np.random.default_rng(seed)
    pool, held = [], []
    for value in (False, True):
        members = rng.permutation(np.flatnonzero(np.asarray(labels) == value))
        count = round(eval_fraction * len(members))
        held.append(members[:count])
        pool.append(members[count:])
    return np.sort(np.concatenate(pool)).astype(np.int64), np.sort(np.concatenate(held)).astype(np.int64)


def _answer(category: Category, test: ImageFiles, index: int) -> LabeledImage:
    """What a reviewer who knows the ground truth says of test image ``index``."""
    image = test[index]
    if not category.test_labels[index]:
        return LabeledImage(image, "normal_hard")
    if category.masks[index] is None:
        return LabeledImage(image, "image")
    return LabeledImage(image, "mask", mask=load_mask(category.masks[index], (image.height, image.width)))


def _normalized(
    scores: NDArray[np.floating], labeled_scores: NDArray[np.floating], labeled: NDArray[np.bool_]
) -> NDArray[np.float32]:
    """Unlabeled images' scores mapped to 0..1 with the decision threshold at 0.5, as the review
    queue sees them.

    Args:
        scores: the unlabeled images' scores.
        labeled_scores: the labeled images' scores.
        labeled: their labels, true for defective.
    """
    if labeled.any() and not labeled.all():
        threshold = f1_optimal_threshold(labeled_scores, labeled)
    else:
        # No threshold can be learned without both kinds labeled; not knowing the defect rate,
        # the median is the guess that leaves as many images on either side.
        threshold = float(np.median(scores))
    return ScoreNormalizer.fit(np.concatenate([scores, labeled_scores]), threshold)(scores)


def _nearest_distance(points: NDArray[np.float32], others: NDArray[np.float32]) -> NDArray[np.float32]:
    """Distance of each of ``points`` to the nearest of ``others``."""
    squared = (points**2).sum(axis=1)[:, None] - 2 * points @ others.T + (others**2).sum(axis=1)[None, :]
    return np.sqrt(np.maximum(squared.min(axis=1), 0.0)).astype(np.float32)


def _pick(
    model: SemiSupervisedPatchCore,
    strategy: str,
    pool_images: ImageFiles,
    labeled: NDArray[np.bool_],
    truth: NDArray[np.bool_],
    embeddings: NDArray[np.float32],
    count: int,
    seed: int,
    round_: int,
) -> NDArray[np.int64]:
    """The ``count`` unlabeled pool images ``strategy`` puts first, as pool positions.

    Args:
        model: the model trained on the labels so far.
        strategy: a review strategy.
        pool_images: the whole pool.
        labeled: ``(P,)`` true for the pool images labeled so far.
        truth: ``(P,)`` ground truth of the pool; only the labeled images' is looked at.
        embeddings: ``(P, D)`` image descriptors of the pool.
        count: how many to pick.
        seed, round_: seed the order (random order, ties).
    """
    candidates = np.flatnonzero(~labeled)
    order_seed = int(np.random.SeedSequence([seed, round_]).generate_state(1)[0])
    if strategy == BASELINE:
        return candidates[review_order(BASELINE, np.zeros(len(candidates)), seed=order_seed)[:count]]
    # The whole pool, always in the same batches, so the bank searches are remembered.
    scores = model.predict(pool_images).scores
    normalized = _normalized(scores[candidates], scores[labeled], truth[labeled])
    novelty = _nearest_distance(embeddings[candidates], embeddings[labeled]) if labeled.any() else None
    ranked = review_order(
        strategy, normalized, novelty=novelty, embeddings=embeddings[candidates], seed=order_seed
    )
    return candidates[ranked[:count]]


def _simulate(
    model: SemiSupervisedPatchCore,
    category: Category,
    strategy: str,
    pool: NDArray[np.int64],
    held: NDArray[np.int64],
    *,
    rounds: int,
    per_round: int,
    seed: int,
    embeddings: NDArray[np.float32],
    masks: list[NDArray[np.bool_]],
    progress: ProgressCallback | None,
    log: Callable[[str], None] | None,
) -> dict[str, Any]:
    """One strategy's run: ``rounds`` rounds of ``per_round`` labels, evaluated after each."""
    # Back to unsupervised PatchCore: the fitted bank, no head, no hard normals.
    model.bank.truncate(1)
    model.clear_head()
    train, test = ImageFiles(category.train), ImageFiles(category.test)
    pool_images = ImageFiles([category.test[i] for i in pool])
    evaluation = ImageFiles([category.test[i] for i in held])
    truth = category.test_labels
    labeled = np.zeros(len(pool), bool)
    order: list[int] = []
    answers: list[LabeledImage] = []
    curve = []
    for round_ in range(rounds + 1):
        started = chosen = time.perf_counter()
        if round_:
            picks = _pick(
                model, strategy, pool_images, labeled, truth[pool], embeddings[pool], per_round, seed, round_
            )
            labeled[picks] = True
            chosen = time.perf_counter()
            new = [_answer(category, test, int(pool[i])) for i in picks]
            hard = [i for i, answer in enumerate(new) if answer.kind == "normal_hard"]
            if hard:
                sources = len(train) + len(answers) + np.array(hard, np.int64)
                model.add_normals([new[i].image for i in hard], sources, progress)
            answers += new
            order += [int(pool[i]) for i in picks]
            model.fit_head(train, answers, progress=progress)
        trained = time.perf_counter()
        predictions = model.predict(evaluation, progress=progress)
        quality = evaluate(predictions.scores, truth[held], predictions.anomaly_maps, masks)
        point = {
            "round": round_,
            "reviews": int(labeled.sum()),
            "defective_labeled": int(truth[pool[labeled]].sum()),
            **{key: float(quality[key]) for key in METRICS if key in quality},
            "choose_seconds": chosen - started,
            "train_seconds": trained - chosen,
            "evaluate_seconds": time.perf_counter() - trained,
        }
        curve.append(point)
        if log is not None:
            figures = ", ".join(f"{key} {point[key]:.4f}" for key in METRICS if key in point)
            log(f"seed {seed} {strategy} round {round_} ({point['reviews']} reviews): {figures}")
        if progress is not None:
            progress("rounds", round_ + 1, rounds + 1)
    return {
        "strategy": strategy,
        "seed": seed,
        "labeled": [category.test[i].name for i in order],
        "labeled_types": [category.test_types[i] for i in order],
        "curve": curve,
    }


def _summarise(runs: list[dict[str, Any]], strategies: Sequence[str]) -> dict[str, Any]:
    """Per strategy: reviews after each round, and each metric's mean and standard deviation over seeds."""
    curves: dict[str, Any] = {}
    for strategy in strategies:
        mine = [run["curve"] for run in runs if run["strategy"] == strategy]
        entry: dict[str, Any] = {"reviews": [point["reviews"] for point in mine[0]]}
        for key in (*METRICS, "defective_labeled"):
            if key in mine[0][0]:
                values = np.array([[point[key] for point in curve] for curve in mine], np.float64)
                entry[key] = {"mean": values.mean(axis=0).tolist(), "std": values.std(axis=0).tolist()}
        curves[strategy] = entry
    return curves


def reviews_to_reach(curves: dict[str, Any], strategy: str, metric: str = "aupro") -> int | None:
    """Reviews after which ``strategy``'s mean ``metric`` first reaches the final mean of random order
    (``None`` if it never does)."""
    target = curves[BASELINE][metric]["mean"][-1]
    for reviews, value in zip(curves[strategy]["reviews"], curves[strategy][metric]["mean"], strict=True):
        if value >= target:
            return int(reviews)
    return None


def simulate_active_learning(
    root: str | Path,
    *,
    rounds: int = 8,
    per_round: int = 10,
    strategies: Sequence[str] = ("active", BASELINE),
    eval_fraction: float = 0.5,
    seeds: Sequence[int] = (0,),
    params: dict[str, Any] | None = None,
    category: str | None = None,
    device: str = "auto",
    cache_dir: str | Path | None = None,
    progress: ProgressCallback | None = None,
    log: Callable[[str], None] | None = None,
) -> dict[str, Any]:
    """Simulate a reviewer labeling ``per_round`` images a round for ``rounds`` rounds, per strategy.

    Args:
        root: a category folder, or a folder of them with ``category`` naming one (MVTec AD layout,
            with ground-truth masks).
        rounds: labeling rounds after the unsupervised round 0.
        per_round: images labeled per round.
        strategies: review strategies (:data:`~inference.ml.active.STRATEGIES`).
        eval_fraction: share of each class of the test split held out for evaluation.
        seeds: one run per seed and strategy; a seed chooses the pool/EVAL cut and random order.
        params: :class:`SemiSupervisedParams` fields, e.g. ``{"image_size": 256}``.
        category: which category under ``root``.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        cache_dir: where to keep backbone features between runs; memory only when ``None``.
        progress: called as ``progress(stage, done, total)``: stage ``rounds``, and the model's stages.
        log: called with one line per round.

    Returns:
        The settings, ``n_pool``/``n_eval`` (and their defective counts), ``runs`` (per seed and
        strategy: the images labeled in order and the ``curve``, one point per round with
        ``reviews`` so far and the EVAL metrics), ``curves`` (per strategy: ``reviews`` and the mean
        and ``std`` over seeds of each metric), ``reviews_to_reach`` (per strategy, the reviews after
        which its mean AUPRO first reaches random order's final one) and ``timing`` (s).

    Raises:
        ValueError: an unknown strategy, no or several categories, or a pool smaller than the reviews.
    """
    for strategy in strategies:
        if strategy not in STRATEGIES:
            raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    found = discover_categories(root, [category] if category else None)
    if len(found) > 1:
        raise ValueError(f"{root} holds {len(found)} categories; name one with category")
    [chosen] = found
    truth = chosen.test_labels
    splits = [split_pool(truth, eval_fraction, seed) for seed in seeds]
    if rounds * per_round > len(splits[0][0]):
        raise ValueError(
            f"{rounds} rounds of {per_round} reviews need {rounds * per_round} pool images; "
            f"the pool has {len(splits[0][0])}"
        )
    started = time.perf_counter()
    model_params = SemiSupervisedParams.from_dict(params or {})
    # Every round appends hard normals and searches only them anew; features are computed once.
    extractor = CachingExtractor(
        model_params, resolve_device(device), None if cache_dir is None else Path(cache_dir)
    )
    model = SemiSupervisedPatchCore(model_params, device, bank=GrowingBank(), extractor=extractor)
    model.fit(ImageFiles(chosen.train), progress=progress)
    bank_seconds = time.perf_counter() - started
    test = ImageFiles(chosen.test)
    embeddings = image_embeddings(model, test, progress)
    runs = []
    for seed, (pool, held) in zip(seeds, splits, strict=True):
        masks = []
        for index in held:
            image = test[int(index)]
            masks.append(load_mask(chosen.masks[index], (image.height, image.width)))
        for strategy in strategies:
            runs.append(
                _simulate(
                    model,
                    chosen,
                    strategy,
                    pool,
                    held,
                    rounds=rounds,
                    per_round=per_round,
                    seed=seed,
                    embeddings=embeddings,
                    masks=masks,
                    progress=progress,
                    log=log,
                )
            )
    curves = _summarise(runs, strategies)
    later = [point for run in runs for point in run["curve"][1:]]
    parts = ("choose_seconds", "train_seconds", "evaluate_seconds")
    return {
        "category": chosen.name,
        "params": params or {},
        "rounds": rounds,
        "per_round": per_round,
        "strategies": list(strategies),
        "eval_fraction": eval_fraction,
        "seeds": list(seeds),
        "n_pool": len(splits[0][0]),
        "n_pool_defective": int(truth[splits[0][0]].sum()),
        "n_eval": len(splits[0][1]),
        "n_eval_defective": int(truth[splits[0][1]].sum()),
        "runs": runs,
        "curves": curves,
        "reviews_to_reach": {
            strategy: reviews_to_reach(curves, strategy)
            for strategy in strategies
            if strategy != BASELINE and BASELINE in strategies and "aupro" in curves[strategy]
        },
        "timing": {
            "bank_seconds": bank_seconds,
            **{
                f"round_{part}_mean": float(np.mean([p[part] for p in later])) if later else 0.0
                for part in parts
            },
            "total_seconds": time.perf_counter() - started,
        },
    }


def plot_simulation(results: dict[str, Any], path: str | Path) -> Path:
    """Draw AUPRO and image AUROC against reviews for each strategy to a PNG.

    A dashed line marks random order's final AUPRO, and a dot where each other strategy first
    reaches it; bands span one standard deviation over seeds.

    Returns:
        The file written.
    """
    # Figure without pyplot: no GUI backend and no global state, so it works on a headless worker.
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    curves = results["curves"]
    figure = Figure(figsize=(11, 4.5), layout="constrained")
    FigureCanvasAgg(figure)
    panels = [("aupro", "AUPRO (to 30% FPR)"), ("image_auroc", "image AUROC")]
    for axes, (metric, title) in zip(figure.subplots(1, 2), panels, strict=True):
        for strategy, curve in curves.items():
            if metric not in curve:
                continue
            reviews = np.asarray(curve["reviews"])
            mean, std = np.asarray(curve[metric]["mean"]), np.asarray(curve[metric]["std"])
            (line,) = axes.plot(reviews, mean, marker="o", markersize=3, label=strategy)
            axes.fill_between(reviews, mean - std, mean + std, color=line.get_color(), alpha=0.15)
            reached = results["reviews_to_reach"].get(strategy) if metric == "aupro" else None
            if reached is not None:
                value = mean[list(reviews).index(reached)]
                axes.plot([reached], [value], "*", markersize=14, color=line.get_color(), zorder=5)
                axes.annotate(
                    f"{reached} reviews", (reached, value), textcoords="offset points", xytext=(6, -14)
                )
        if metric == "aupro" and BASELINE in curves:
            target = curves[BASELINE]["aupro"]["mean"][-1]
            axes.axhline(target, color="grey", linestyle="--", linewidth=1, label=f"{BASELINE} final")
        axes.set(title=title, xlabel="reviews (images labeled)", ylabel=title)
        axes.grid(alpha=0.3)
        axes.legend(loc="lower right")
    seeds = len(results["seeds"])
    figure.suptitle(
        f"{results['category']}: {results['per_round']} reviews a round, mean of {seeds} seed"
        f"{'s' if seeds > 1 else ''}; EVAL {results['n_eval']} images, pool {results['n_pool']}"
    )
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    figure.savefig(path, dpi=120)
    return path
