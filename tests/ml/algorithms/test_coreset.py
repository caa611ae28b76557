import numpy as np
import pytest

from inference.ml.algorithms.patchcore.coreset import StreamingCoreset, coreset_size, greedy_picks


def _covering_radius(rows: np.ndarray, picks: np.ndarray) -> float:
    squared = ((rows[:, None, :] - picks[None, :, :]) ** 2).sum(axis=2)
    return float(np.sqrt(squared.min(axis=1).max()))


def _clusters(rng: np.random.Generator, sizes: list[int], dim: int = 8) -> np.ndarray:
    centres = rng.normal(scale=10.0, size=(len(sizes), dim))
    return np.concatenate(
        [
            centre + rng.normal(scale=0.1, size=(size, dim))
            for centre, size in zip(centres, sizes, strict=True)
        ]
    ).astype(np.float32)


def _stream(coreset: StreamingCoreset, rows: np.ndarray, batch: int) -> tuple[np.ndarray, np.ndarray]:
    sources = np.arange(len(rows), dtype=np.int64)
    for start in range(0, len(rows), batch):
        coreset.add(rows[start : start + batch], sources[start : start + batch], expected_rows=len(rows))
    return coreset.finish()


def test_the_size_is_the_ratio_capped_by_the_maximum():
    assert coreset_size(1000, 0.1, 50) == 50
    assert coreset_size(1000, 0.01, 50) == 10
    assert coreset_size(3, 0.01, 50) == 1
    assert coreset_size(10, 1.0, 50) == 10


def test_a_stream_shorter_than_a_chunk_gets_the_plain_greedy_coreset():
    rows = np.random.default_rng(0).normal(size=(500, 4)).astype(np.float32)
    coreset = StreamingCoreset(ratio=0.1, max_size=1000, rng=np.random.default_rng(1), chunk_size=10_000)
    features, sources = _stream(coreset, rows, batch=64)
    first = int(np.random.default_rng(1).integers(500))
    assert np.array_equal(sources, np.sort(greedy_picks(rows, 50, first)))
    assert np.array_equal(features, rows[sources])


def test_a_long_stream_covers_every_cluster_even_one_seen_in_a_single_chunk():
    rng = np.random.default_rng(0)
    # 11 large clusters and one small cluster that arrives inside a single chunk.
    rows = _clusters(rng, [900] * 5 + [12] + [900] * 6)
    coreset = StreamingCoreset(ratio=0.01, max_size=40, rng=np.random.default_rng(0), chunk_size=1000)
    features, sources = _stream(coreset, rows, batch=100)
    assert len(features) == 40 and coreset.n_seen == len(rows)
    assert np.array_equal(features, rows[sources]) and np.all(np.diff(sources) > 0)
    rare = np.arange(4500, 4512)
    assert np.isin(sources, rare).any()
    whole = greedy_picks(rows, 40, 0)
    # Greedy k-center is within 2x of the optimum; merge and reduce stays near the whole-set greedy.
    assert _covering_radius(rows, features) <= 2 * _covering_radius(rows, rows[whole])


def test_the_size_holds_when_the_estimate_of_the_stream_was_low():
    rows = np.random.default_rng(2).normal(size=(3000, 4)).astype(np.float32)
    coreset = StreamingCoreset(ratio=0.5, max_size=100, rng=np.random.default_rng(0), chunk_size=500)
    sources = np.arange(len(rows), dtype=np.int64)
    for start in range(0, len(rows), 250):
        coreset.add(rows[start : start + 250], sources[start : start + 250], expected_rows=600)
    features, _ = coreset.finish()
    assert len(features) == 100


def test_an_empty_stream_is_refused():
    with pytest.raises(ValueError, match="at least one row"):
        StreamingCoreset(ratio=0.1, max_size=10, rng=np.random.default_rng(0)).finish()
