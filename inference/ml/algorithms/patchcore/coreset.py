"""Greedy k-center coreset selection on a random projection (PatchCore, Roth et al. 2022, sec. 3.2),
over a stream of features so that neither memory nor time grows with the size of the training set."""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import NDArray

from inference.ml.algorithms.base import ProgressCallback


def coreset_size(n_rows: int, ratio: float, max_size: int) -> int:
    """How many of ``n_rows`` rows a coreset keeps: ``ratio`` of them, at most ``max_size``, at least 1."""
    return int(np.clip(round(ratio * n_rows), 1, max(1, min(max_size, n_rows))))


class StreamingCoreset:
    """A greedy k-center coreset of rows that arrive in batches (merge and reduce).

    Rows gather into chunks of ``chunk_size``. A full chunk is reduced at once to its share of
    ``oversample`` times the coreset size expected for the whole stream (farthest-point picks within
    the chunk), and when the stream ends the union of those picks is reduced again, as a whole, to the
    coreset size. Every row lies within its chunk's covering radius of a pick, and the final picks cover
    all the chunks' picks together, so the result covers the whole set rather than each chunk
    separately. Memory is one chunk plus the picks; time is about ``oversample * size * (chunk_size +
    size) * projection_dim``, whatever the number of rows. A stream shorter than one chunk gets the
    plain greedy coreset of all its rows.

    Distances are measured after a Gaussian random projection to ``projection_dim`` dimensions
    (Johnson-Lindenstrauss); the rows kept are the original ones.

    Args:
        ratio: share of all rows to keep, (0, 1].
        max_size: most rows to keep, whatever the stream's length.
        rng: source of the projection and of each greedy traversal's first pick.
        projection_dim: dimensions after projection; no projection when rows have no more.
        chunk_size: rows reduced together.
        oversample: how many times the final size the chunks keep between them.
    """

    def __init__(
        self,
        *,
        ratio: float,
        max_size: int,
        rng: np.random.Generator,
        projection_dim: int = 64,
        chunk_size: int = 32_768,
        oversample: float = 2.0,
    ) -> None:
        self.ratio = ratio
        self.max_size = max_size
        self.rng = rng
        self.projection_dim = projection_dim
        self.chunk_size = chunk_size
        self.oversample = oversample
        self.n_seen = 0
        self._projection: NDArray[np.float32] | None = None
        self._buffer: list[tuple[NDArray[np.float32], NDArray[np.int64]]] = []
        self._buffered = 0
        self._picked: list[tuple[NDArray[np.float32], NDArray[np.int64], NDArray[np.float32]]] = []

    def add(self, features: NDArray[np.float32], sources: NDArray[np.int64], expected_rows: int) -> None:
        """Take a batch of rows.

        Args:
            features: ``(n, D)`` float32 rows.
            sources: ``(n,)`` int64 tag of each row (kept with it).
            expected_rows: the best estimate of how many rows the whole stream will hold; it sets each
                chunk's share of the picks.
        """
        if self._projection is None and features.shape[1] > self.projection_dim:
            self._projection = self.rng.standard_normal(
                (features.shape[1], self.projection_dim), dtype=np.float32
            ) / np.sqrt(self.projection_dim)
        self._buffer.append((features, sources))
        self._buffered += len(features)
        self.n_seen += len(features)
        if self._buffered >= self.chunk_size:
            self._reduce_buffer(max(expected_rows, self.n_seen))

    def finish(
        self, progress: ProgressCallback | None = None
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The coreset of every row taken.

        Args:
            progress: called as ``progress("coreset", picked, size)`` during the final reduction.

        Returns:
            ``(K, D)`` float32 rows and their ``(K,)`` sources, in the order they arrived.

        Raises:
            ValueError: no row was taken.
        """
        if self.n_seen == 0:
            raise ValueError("a coreset needs at least one row")
        size = coreset_size(self.n_seen, self.ratio, self.max_size)
        if self._picked:
            self._reduce_buffer(self.n_seen)
            parts = zip(*self._picked, strict=True)
            features, sources, projected = (np.concatenate(part) for part in parts)
        else:
            features, sources = (np.concatenate(parts) for parts in zip(*self._buffer, strict=True))
            projected = self._project(features)
        self._buffer, self._buffered, self._picked = [], 0, []
        if len(features) > size:
            keep = np.sort(greedy_picks(projected, size, int(self.rng.integers(len(features))), progress))
            features, sources = features[keep], sources[keep]
        elif progress is not None:
            progress("coreset", len(features), len(features))
        return np.ascontiguousarray(features), sources

    def _project(self, features: NDArray[np.float32]) -> NDArray[np.float32]:
        projected = features if self._projection is None else features @ self._projection
        return np.ascontiguousarray(projected, dtype=np.float32)

    def _reduce_buffer(self, expected_rows: int) -> None:
        """Replace the buffered rows by the chunk's share of the picks."""
        if not self._buffer:
            return
        features, sources = (np.concatenate(parts) for parts in zip(*self._buffer, strict=True))
        self._buffer, self._buffered = [], 0
        projected = self._project(features)
        share = self.oversample * coreset_size(expected_rows, self.ratio, self.max_size) / expected_rows
        count = min(len(features), math.ceil(share * len(features)))
        if count < len(features):
            keep = np.sort(greedy_picks(projected, count, int(self.rng.integers(len(features)))))
            features, sources, projected = features[keep], sources[keep], projected[keep]
        self._picked.append((features, sources, projected))


def greedy_picks(
    points: NDArray[np.float32], count: int, first: int, progress: ProgressCallback | None = None
) -> NDArray[np.int64]:
    """Farthest-point traversal of ``(n, d)`` points from ``first``: each next pick is the point
    farthest from those picked.

    Args:
        points: ``(n, d)`` float32, C-contiguous.
        count: picks to make, at most ``n``.
        first: index of the first pick.
        progress: called as ``progress("coreset", picked, count)`` now and then.

    Returns:
        ``(count,)`` int64 indices, in the order picked.
    """
    chosen = np.empty(count, np.int64)
    if count == 0:
        return chosen
    squared_norms = np.einsum("ij,ij->i", points, points)
    min_distance = np.full(len(points), np.inf, np.float32)
    distance = np.empty(len(points), np.float32)
    every = max(1, count // 50)
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
        if progress is not None and (step + 1) % every == 0:
            progress("coreset", step + 1, count)
    if progress is not None:
        progress("coreset", count, count)
    return chosen
