"""Greedy k-center coreset selection on a random projection (PatchCore, Roth et al. 2022, sec. 3.2)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from inference.ml.algorithms.base import ProgressCallback


def greedy_coreset(
    features: NDArray[np.float32],
    n_select: int,
    rng: np.random.Generator,
    *,
    projection_dim: int = 64,
    chunk_size: int = 100_000,
    progress: ProgressCallback | None = None,
) -> NDArray[np.int64]:
    """Pick rows that cover all rows well: each next pick is the row farthest from those picked.

    Distances are measured after a Gaussian random projection to ``projection_dim`` dimensions
    (Johnson-Lindenstrauss). The rows are shuffled and split into chunks of at most ``chunk_size``,
    each getting its share of ``n_select``; every row is then within its chunk's covering radius of a
    pick. Cost is ``O(N * n_select * projection_dim * chunk_size / N)``: chunking trades a slightly
    larger coreset for the same coverage against a speed-up of ``N / chunk_size``.

    Args:
        features: ``(N, D)`` float32 rows.
        n_select: number of rows to pick, ``1 <= n_select <= N``.
        rng: source of the projection, the shuffle and the first pick of each chunk.
        projection_dim: dimensions after projection; no projection when ``D <= projection_dim``.
        chunk_size: most rows searched together.
        progress: called as ``progress("coreset", picked, n_select)``.

    Returns:
        ``(n_select,)`` int64 indices into ``features``, sorted.
    """
    n_rows, dim = features.shape
    n_select = int(np.clip(n_select, 1, n_rows))
    if dim > projection_dim:
        projection = rng.standard_normal((dim, projection_dim), dtype=np.float32) / np.sqrt(projection_dim)
    else:
        projection = None
    order = rng.permutation(n_rows)
    n_chunks = -(-n_rows // chunk_size)
    bounds = np.linspace(0, n_rows, n_chunks + 1).round().astype(np.int64)
    quotas = np.diff(np.linspace(0, n_select, n_chunks + 1).round().astype(np.int64))
    picked: list[NDArray[np.int64]] = []
    done = 0
    for start, stop, quota in zip(bounds[:-1], bounds[1:], quotas, strict=True):
        rows = order[start:stop]
        chunk = features[rows] if projection is None else features[rows] @ projection
        local = _greedy(
            np.ascontiguousarray(chunk, dtype=np.float32), int(quota), int(rng.integers(len(rows)))
        )
        picked.append(rows[local])
        done += int(quota)
        if progress is not None:
            progress("coreset", done, n_select)
    return np.sort(np.concatenate(picked))


def _greedy(points: NDArray[np.float32], count: int, first: int) -> NDArray[np.int64]:
    """Farthest-point traversal of ``(n, d)`` points from ``first``; ``count`` indices."""
    chosen = np.empty(count, np.int64)
    if count == 0:
        return chosen
    squared_norms = np.einsum("ij,ij->i", points, points)
    min_distance = np.full(len(points), np.inf, np.float32)
    distance = np.empty(len(points), np.float32)
    index = first
    for step in range(count):
        chosen[step] = index
        center = points[index]
        # |p - c|^2 = |p|^2 - 2 p.c + |c|^2 as one matrix-vector product: memory-bound and BLAS-fast.
        np.dot(points, center, out=distance)
        distance *= -2.0
        distance += squared_norms
        distance += float(center @ center)
        np.minimum(min_distance, distance, out=min_distance)
        index = int(np.argmax(min_distance))
    return chosen
