"""PatchCore (Roth et al., "Towards Total Recall in Industrial Anomaly Detection", CVPR 2022).

Fit: every locally aggregated patch feature of the normal images goes into a memory bank, thinned by
a greedy k-center coreset. Predict: a patch's anomaly score is its distance to the nearest bank entry.
The image score is, by default, the anomaly map's maximum or, when that is the more unusual of the
two for a normal image, its mean (``image_score="peak_or_mean"``): a small defect raises the peak, a
change spread over the whole image the mean, and neither alone holds up on every dataset (on MTD and
BSData the mean ranked images best, on small defects the peak). Alternatives: the largest patch score
re-weighted by how isolated that patch's nearest bank entry is among its own neighbours (eq. 7 of the
paper, ``"reweighted"``), the map's maximum (``"map_max"``), or the mean of its highest
``map_top_fraction`` of pixels (``"map_top"``).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Self, get_args

import numpy as np
import torch
from numpy.typing import NDArray

from inference.ml.algorithms.base import (
    FeatureParams,
    FitReport,
    Predictions,
    ProgressCallback,
    hard_normal_positions,
)
from inference.ml.algorithms.features import FeatureDetector, PatchFeatureExtractor
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.algorithms.patchcore.bank import MemoryBank
from inference.ml.algorithms.patchcore.coreset import StreamingCoreset
from inference.ml.postprocess import canvas_maps, top_mean
from inference.ml.preprocessing import ImageInput, View, stitch, valid_grid

ImageScore = Literal["peak_or_mean", "reweighted", "map_max", "map_top"]
IMAGE_SCORES: tuple[str, ...] = get_args(ImageScore)
_STATISTICS_IMAGES = 16
"""Training images scored at fit to learn what a normal image's map looks like (``peak_or_mean``)."""
_LEGACY_IMAGE_SCORE: ImageScore = "reweighted"
"""What models saved before ``image_score`` existed computed; they keep it when loaded."""


@dataclass(frozen=True, kw_only=True)
class PatchCoreParams(FeatureParams):
    """PatchCore settings (the shared ones are in :class:`FeatureParams`).

    Attributes:
        coreset_ratio: fraction of the patch features kept in the memory bank, (0, 1].
        memory_bank_size: most entries in the memory bank, whatever the number of training images, so
            scoring costs the same with 100 or 10,000 of them.
        projection_dim: dimensions of the random projection the coreset search works in.
        coreset_chunk: patch features reduced together while they stream in (speed vs. coverage; see
            :class:`~inference.ml.algorithms.patchcore.coreset.StreamingCoreset`).
        num_neighbors: bank neighbours used to re-weight the image score (1: no re-weighting);
            only used with ``image_score="reweighted"``.
        image_score: how an image's score is derived: ``peak_or_mean`` (the default: the map's
            maximum, or its mean when that is the more unusual of the two for a normal image — a
            small defect raises the peak, a change spread over the image its mean; see
            :meth:`PatchCore.score_statistics`), ``reweighted`` (eq. 7 of the paper: the largest
            patch distance, scaled by the isolation of its nearest bank entry), ``map_max`` (the
            largest value of the smoothed anomaly map) or ``map_top`` (the mean of the map's highest
            ``map_top_fraction`` of pixels). The map-based scores are in the map's units.
        map_top_fraction: fraction of an image's map pixels averaged by ``map_top``, (0, 1].
    """

    coreset_ratio: float = 0.05
    memory_bank_size: int = 20_000
    projection_dim: int = 64
    coreset_chunk: int = 32_768
    num_neighbors: int = 9
    image_score: ImageScore = "peak_or_mean"
    map_top_fraction: float = 0.01

    def __post_init__(self) -> None:
        if not 0 < self.coreset_ratio <= 1:
            raise ValueError(f"coreset_ratio must be in (0, 1], got {self.coreset_ratio}")
        if self.memory_bank_size < 1:
            raise ValueError(f"memory_bank_size must be at least 1, got {self.memory_bank_size}")
        if self.num_neighbors < 1:
            raise ValueError(f"num_neighbors must be at least 1, got {self.num_neighbors}")
        if self.image_score not in IMAGE_SCORES:
            raise ValueError(f"image_score must be one of {list(IMAGE_SCORES)}, got {self.image_score!r}")
        if not 0 < self.map_top_fraction <= 1:
            raise ValueError(f"map_top_fraction must be in (0, 1], got {self.map_top_fraction}")


@dataclass
class _ImageBest:
    """The most anomalous patch seen so far for one image."""

    score: float
    feature: torch.Tensor
    bank_index: int


class PatchCore(FeatureDetector):
    """Memory-bank anomaly detector.

    Args:
        params: settings; defaults when omitted.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        bank: the memory bank to fill and search (:mod:`~inference.ml.algorithms.patchcore.bank`);
            a plain exact one by default.
        extractor: the patch feature extractor; built from ``params`` by default.
    """

    name = "patchcore"
    params_type = PatchCoreParams

    def __init__(
        self,
        params: PatchCoreParams | None = None,
        device: str = "auto",
        *,
        bank: MemoryBank | None = None,
        extractor: PatchFeatureExtractor | None = None,
    ) -> None:
        super().__init__(params or PatchCoreParams(), device, extractor=extractor)
        self.params: PatchCoreParams
        self.bank = bank if bank is not None else MemoryBank()
        self.score_statistics: torch.Tensor | None = None
        """``(4,)`` mean and standard deviation of a normal image's map maximum, then of its map mean
        (``peak_or_mean`` only): measured at fit on training images scored without their own bank
        entries, as if they had been held out."""
        self._skip: torch.Tensor | None = None

    @property
    def memory_bank(self) -> torch.Tensor | None:
        """``(M, D)`` the bank's features, None before fitting."""
        return self.bank.features

    @property
    def bank_sources(self) -> torch.Tensor | None:
        """``(M,)`` the image each bank entry comes from, None before fitting."""
        return self.bank.sources

    def fit(
        self,
        images: Sequence[ImageInput],
        *,
        labeled: Sequence[LabeledImage] = (),
        progress: ProgressCallback | None = None,
    ) -> FitReport:
        """Build the memory bank from normal images; every patch of a hard normal joins it too, so the
        same false alarm is not raised again.

        Args:
            images: defect-free images.
            labeled: labeled images; only the ``normal_hard`` ones are learned.
            progress: called with stages ``features`` (images done), ``coreset`` (entries picked) and
                ``normal_hard`` (hard normals added).

        Raises:
            ValueError: no images.
        """
        if len(images) == 0:
            raise ValueError("PatchCore needs at least one normal image to fit")
        started = time.perf_counter()
        self.choose_canvas(images, labeled)
        coreset = StreamingCoreset(
            ratio=self.params.coreset_ratio,
            max_size=self.params.memory_bank_size,
            rng=np.random.default_rng(self.params.seed),
            projection_dim=self.params.projection_dim,
            chunk_size=self.params.coreset_chunk,
        )
        for batch, views in self.batch_features(images, "features", progress):
            features, sources = self._valid_patches(batch, views)
            # Later images are expected to hold as many patches as those seen so far.
            seen, images_seen = coreset.n_seen + len(features), views[-1].image_index + 1
            coreset.add(features, sources, expected_rows=-(-seen * len(images) // images_seen))
        extracted = time.perf_counter()
        features, sources = coreset.finish(progress)
        self.bank.reset(torch.from_numpy(features).to(self.device), torch.from_numpy(sources))
        hard = hard_normal_positions(labeled)
        if hard:
            self.add_normals([labeled[i].image for i in hard], len(images) + np.array(hard), progress)
        assert self.memory_bank is not None
        if self.params.image_score == "peak_or_mean":
            self.score_statistics = self._measure_score_statistics(images)
        finished = time.perf_counter()
        return FitReport(
            n_images=len(images) + len(hard),
            n_patches=coreset.n_seen,
            seconds=finished - started,
            details={
                "memory_bank_size": len(self.memory_bank),
                "feature_dim": self.extractor.dim,
                "feature_seconds": extracted - started,
                "coreset_seconds": finished - extracted,
                "canvas": self.canvas_reason,
            },
        )

    def _valid_patches(
        self, batch: torch.Tensor, views: Sequence[View]
    ) -> tuple[NDArray[np.float32], NDArray[np.int64]]:
        """The patch features of a batch that show image content, with the index of their image.

        Args:
            batch: ``(B, D, h, w)`` features of ``B`` canvases.
            views: their views.

        Returns:
            ``(N, D)`` float32 features and ``(N,)`` int64 image indices.
        """
        count, dim, height, width = batch.shape
        flat = batch.permute(0, 2, 3, 1).reshape(count * height * width, dim).cpu().numpy()
        valid = np.stack([valid_grid(view, (height, width), self.params.image_size) for view in views])
        per_canvas = valid.reshape(count, -1).sum(axis=1)
        image_of_canvas = np.array([view.image_index for view in views], np.int64)
        return np.ascontiguousarray(flat[valid.reshape(-1)]), np.repeat(image_of_canvas, per_canvas)

    def add_normals(
        self,
        images: Sequence[ImageInput],
        sources: NDArray[np.int64],
        progress: ProgressCallback | None = None,
    ) -> None:
        """Append every patch of these normal images to the bank (no coreset), ``sources[i]`` naming
        image ``i`` in ``Predictions.nearest_normal``.

        Raises:
            RuntimeError: the model is not fitted.
        """
        if self.memory_bank is None:
            raise RuntimeError("PatchCore is not fitted: call fit() before adding normal images")
        parts = [
            self._valid_patches(batch, views)
            for batch, views in self.batch_features(images, "normal_hard", progress)
        ]
        features = np.concatenate([part[0] for part in parts])
        index = np.concatenate([part[1] for part in parts])
        self.bank.extend(torch.from_numpy(features).to(self.device), torch.from_numpy(sources[index]))

    def _measure_score_statistics(self, images: Sequence[ImageInput]) -> torch.Tensor:
        """Mean and spread of the map maximum and map mean of a sample of training images, each scored
        without the bank entries taken from it (see :attr:`score_statistics`)."""
        assert self.bank_sources is not None
        picks = np.unique(np.linspace(0, len(images) - 1, min(len(images), _STATISTICS_IMAGES)).round())
        peaks, levels = [], []
        # Only the maps are read; statistics whose normal mean is infinite keep the scoring defined.
        self.score_statistics = torch.tensor([0.0, 1.0, float("inf"), 1.0])
        for index in picks.astype(int):
            own = self.bank_sources == index
            self._skip = None if bool(own.all()) else own
            try:
                [anomaly_map] = self.predict([images[int(index)]]).anomaly_maps
            finally:
                self._skip = None
            peaks.append(float(anomaly_map.max()))
            levels.append(float(anomaly_map.mean()))
        spread = [max(float(np.std(v)), 1e-3 * abs(float(np.mean(v))), 1e-12) for v in (peaks, levels)]
        return torch.tensor([np.mean(peaks), spread[0], np.mean(levels), spread[1]], dtype=torch.float32)

    def _map_score(self, anomaly_map: NDArray[np.float32]) -> float:
        """Image score from its anomaly map (``peak_or_mean``, ``map_max`` or ``map_top``), in map units."""
        if self.params.image_score == "map_max":
            return float(anomaly_map.max())
        if self.params.image_score == "peak_or_mean":
            if self.score_statistics is None:
                raise RuntimeError("this model has no normal score statistics: fit it again")
            peak_mean, peak_std, level_mean, level_std = self.score_statistics.tolist()
            # The mean's distance from normal, in standard deviations, expressed on the peak's scale.
            level = peak_mean + peak_std * (float(anomaly_map.mean()) - level_mean) / level_std
            return max(float(anomaly_map.max()), level)
        return top_mean(anomaly_map, self.params.map_top_fraction)

    def _patch_scores(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Anomaly score of each patch feature and its nearest bank entry (the golden sample's source).

        PatchCore's score is the distance to that entry; a subclass may add learned evidence.

        Args:
            queries: ``(Q, D)`` float32 on the bank's device.

        Returns:
            ``(Q,)`` float32 scores and ``(Q,)`` int64 bank indices.
        """
        return self.bank.nearest(queries, self._skip)

    def _reweighted(self, best: _ImageBest) -> float:
        """Image score of eq. 7: the patch score scaled by ``1 - softmax(distances to N_b(m*))[m*]``."""
        assert self.memory_bank is not None
        if self.params.num_neighbors == 1:
            return best.score
        bank = self.memory_bank
        anchor = bank[best.bank_index]
        k = min(self.params.num_neighbors, len(bank))
        neighbours = torch.topk(((bank - anchor) ** 2).sum(dim=1), k, largest=False).indices
        distances = torch.linalg.vector_norm(bank[neighbours] - best.feature, dim=1)
        # Put m* first; topk may order ties differently.
        distances = torch.cat(
            [distances[neighbours == best.bank_index], distances[neighbours != best.bank_index]]
        )
        weight = 1.0 - torch.softmax(distances, dim=0)[0]
        return float(weight) * best.score

    @torch.no_grad()
    def predict(
        self, images: Sequence[ImageInput], *, progress: ProgressCallback | None = None
    ) -> Predictions:
        """Score images and map where they differ from the memory bank.

        Args:
            images: images of any size.
            progress: called with stage ``predict`` (images done).

        Returns:
            Raw scores (feature-space distances), anomaly maps at each image's size, and the index of
            the training image holding each image's nearest bank entry.

        Raises:
            RuntimeError: the model is neither fitted nor loaded.
        """
        if self.memory_bank is None or self.bank_sources is None:
            raise RuntimeError("PatchCore is not fitted: call fit() or load a saved model first")
        size = self.params.image_size
        scores = np.zeros(len(images), np.float32)
        nearest = np.zeros(len(images), np.int64)
        maps: list[NDArray[np.float32]] = []
        pending: list[tuple[NDArray[np.float32], View]] = []
        best: _ImageBest | None = None

        def finish() -> None:
            assert best is not None
            index = pending[0][1].image_index
            nearest[index] = int(self.bank_sources[best.bank_index])
            maps.append(stitch([m for m, _ in pending], [v for _, v in pending]))
            if self.params.image_score == "reweighted":
                scores[index] = self._reweighted(best)
            else:
                scores[index] = self._map_score(maps[-1])
            pending.clear()

        for batch, views in self.batch_features(images, "predict", progress):
            count, dim, height, width = batch.shape
            queries = batch.permute(0, 2, 3, 1).reshape(-1, dim)
            valid = np.stack([valid_grid(view, (height, width), size) for view in views]).reshape(-1)
            valid_index = torch.from_numpy(np.flatnonzero(valid)).to(self.device)
            # Only cells showing the image are searched; the mirrored margin gets each canvas's median,
            # which keeps the smoothing at the image border neutral.
            patch_scores, indices = self._patch_scores(queries[valid_index])
            grid = torch.full((count * height * width,), float("nan"), device=self.device)
            grid[valid_index] = patch_scores
            grid = grid.view(count, -1)
            grid = torch.where(grid.isnan(), grid.nanmedian(dim=1, keepdim=True).values, grid)
            canvas = canvas_maps(grid.view(count, height, width), size, self.params.blur_sigma)
            rows = valid_index // (height * width)
            for row, view in enumerate(views):
                if pending and pending[0][1].image_index != view.image_index:
                    finish()
                    best = None
                mine = torch.nonzero(rows == row).flatten()
                position = int(mine[patch_scores[mine].argmax()])
                if best is None or float(patch_scores[position]) > best.score:
                    best = _ImageBest(
                        score=float(patch_scores[position]),
                        feature=queries[valid_index[position]],
                        bank_index=int(indices[position]),
                    )
                pending.append((canvas[row], view))
        if pending:
            finish()
        return Predictions(scores=scores, anomaly_maps=maps, nearest_normal=nearest)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """``memory_bank`` ``(M, D)`` float32, ``bank_sources`` ``(M,)`` int64 and, for
        ``peak_or_mean``, ``score_statistics`` ``(4,)``."""
        if self.memory_bank is None or self.bank_sources is None:
            raise RuntimeError("PatchCore is not fitted: nothing to save")
        tensors = {"memory_bank": self.memory_bank, "bank_sources": self.bank_sources}
        if self.score_statistics is not None:
            tensors["score_statistics"] = self.score_statistics
        return tensors

    @classmethod
    def from_saved(cls, document: dict[str, Any], directory: Path, device: str = "auto") -> Self:
        """Rebuild a saved model; one saved before ``image_score`` existed keeps its old image score."""
        params = document.get("params", {})
        if "image_score" not in params:
            document = {**document, "params": {**params, "image_score": _LEGACY_IMAGE_SCORE}}
        return super().from_saved(document, directory, device=device)

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
        """Restore the memory bank and the normal score statistics."""
        self.bank.reset(tensors["memory_bank"].float().to(self.device), tensors["bank_sources"].long())
        self.score_statistics = tensors.get("score_statistics")
