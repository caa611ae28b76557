"""Active learning: the order in which images should be put in front of reviewers.

A label teaches the model most where it is unsure (score near the threshold), where it disagrees with
what a person already said, and where the image is unlike anything it has seen; and a queue of ten
near-duplicates teaches little more than one of them. :func:`review_order` ranks images by those
measures under a named strategy; it is used by the review queue and by the active-learning simulation.
"""

from __future__ import annotations

from typing import Literal, get_args

import numpy as np
from numpy.typing import ArrayLike, NDArray

Strategy = Literal["active", "uncertainty", "highest", "random"]
STRATEGIES: tuple[str, ...] = get_args(Strategy)

UNKNOWN = -1
"""The human label of an image nobody has labeled (others: 0 normal, 1 defective)."""

DIVERSE_POOL = 2000
"""The most informative images re-ranked for diversity (the greedy step is quadratic in it)."""


def map_descriptor(anomaly_map: ArrayLike, low: float, high: float, side: int = 8) -> NDArray[np.float32]:
    """An image's anomaly map pooled to ``side × side`` cells and scaled to 0..1 by ``low``..``high``:
    where and how strongly the model objects, a cheap descriptor for telling near-duplicates apart."""
    values = np.clip((np.asarray(anomaly_map, np.float64) - low) / max(high - low, 1e-12), 0.0, 1.0)
    rows = np.array_split(np.arange(values.shape[0]), side)
    cols = np.array_split(np.arange(values.shape[1]), side)
    pooled = [[values[np.ix_(r, c)].mean() if r.size and c.size else 0.0 for c in cols] for r in rows]
    return np.asarray(pooled, np.float32).ravel()


def informativeness(
    scores: ArrayLike, labels: ArrayLike | None = None, novelty: ArrayLike | None = None
) -> NDArray[np.float64]:
    """How much a label on each image would teach, about 0 to 3.

    Args:
        scores: normalised scores, 0 to 1 with the decision threshold at 0.5.
        labels: what people said so far (1 defective, 0 normal, :data:`UNKNOWN`), if anything.
        novelty: how far each image is from what the model has seen, any non-negative units.

    Returns:
        uncertainty (1 at the threshold, 0 at either end) + disagreement with a human label (1) +
        novelty scaled to 0..1 by its 95th percentile.
    """
    values = np.clip(np.asarray(scores, np.float64), 0.0, 1.0)
    total = 1.0 - 2.0 * np.abs(values - 0.5)
    if labels is not None:
        human = np.asarray(labels)
        said = human != UNKNOWN
        total += (said & ((values >= 0.5) != (human == 1))).astype(np.float64)
    if novelty is not None:
        distance = np.asarray(novelty, np.float64)
        scale = np.percentile(distance, 95) if distance.size else 1.0
        total += np.clip(distance / max(scale, 1e-12), 0.0, 1.0)
    return total


def _diverse(
    order: NDArray[np.int64], gain: NDArray[np.float64], embeddings: NDArray[np.float32]
) -> NDArray[np.int64]:
    """Re-rank `order` greedily: each next image maximises its gain times its distance to the images
    already chosen (relative to the pool's spread), so near-duplicates wait their turn."""
    points = embeddings[order].astype(np.float32)
    norms = (points**2).sum(axis=1)
    value = gain[order]
    nearest = np.full(len(order), np.inf, np.float32)
    spread = float(np.linalg.norm(points - points.mean(axis=0), axis=1).mean()) or 1.0
    chosen = np.zeros(len(order), bool)
    ranked = []
    for _ in range(len(order)):
        closeness = np.minimum(nearest / spread, 1.0)
        utility = np.where(chosen, -np.inf, value * np.where(np.isinf(nearest), 1.0, closeness))
        pick = int(np.argmax(utility))
        ranked.append(order[pick])
        chosen[pick] = True
        # |a - b|² = |a|² - 2 a·b + |b|²: one matrix-vector product per step.
        distance = np.sqrt(np.maximum(norms - 2.0 * (points @ points[pick]) + norms[pick], 0.0))
        np.minimum(nearest, distance, out=nearest)
    return np.asarray(ranked, np.int64)


def review_order(
    strategy: Strategy,
    scores: ArrayLike,
    *,
    labels: ArrayLike | None = None,
    novelty: ArrayLike | None = None,
    embeddings: ArrayLike | None = None,
    seed: int = 0,
) -> NDArray[np.int64]:
    """Indices of the images, most worth reviewing first.

    Args:
        strategy: ``active`` (informativeness, then diversity among the top :data:`DIVERSE_POOL`
            where ``embeddings`` are given), ``uncertainty`` (closest to the threshold), ``highest``
            (highest score) or ``random``.
        scores: normalised scores, 0 to 1, threshold at 0.5.
        labels: human labels so far (see :func:`informativeness`).
        novelty: distance of each image from what the model has seen.
        embeddings: ``(N, D)`` image descriptors; near ones are near-duplicates.
        seed: seed of ``random`` and of ties.

    Raises:
        ValueError: unknown strategy, or inputs of different lengths.
    """
    values = np.asarray(scores, np.float64)
    count = len(values)
    for name, other in (("labels", labels), ("novelty", novelty), ("embeddings", embeddings)):
        if other is not None and len(other) != count:
            raise ValueError(f"{name} has {len(other)} rows for {count} scores")
    rng = np.random.default_rng(seed)
    if strategy == "random":
        return rng.permutation(count).astype(np.int64)
    # A random tie-break, so equal keys do not fall back to upload order.
    tie = rng.random(count)
    if strategy == "highest":
        return np.lexsort((tie, -values)).astype(np.int64)
    if strategy == "uncertainty":
        return np.lexsort((tie, np.abs(values - 0.5))).astype(np.int64)
    if strategy != "active":
        raise ValueError(f"unknown strategy {strategy!r}; choose from {', '.join(STRATEGIES)}")
    gain = informativeness(values, labels, novelty)
    order = np.lexsort((tie, -gain)).astype(np.int64)
    if embeddings is None or count < 2:
        return order
    head = _diverse(order[:DIVERSE_POOL], gain, np.asarray(embeddings, np.float32))
    return np.concatenate([head, order[DIVERSE_POOL:]])
