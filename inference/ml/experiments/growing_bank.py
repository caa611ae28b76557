"""A semi-supervised PatchCore whose memory bank only grows, for the active-learning simulation: each
round appends the hard normals just labeled and searches only them anew."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

import numpy as np
import torch
from numpy.typing import NDArray

from inference.ml.algorithms.base import FitReport, ProgressCallback
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.algorithms.patchcore_ss import SemiSupervisedParams, SemiSupervisedPatchCore
from inference.ml.algorithms.patchcore_ss.labels import valid_cells
from inference.ml.preprocessing import ImageInput


class GrowingBankModel(SemiSupervisedPatchCore):
    """Semi-supervised PatchCore whose memory bank only grows, remembering every search per bank part.

    The bank is the coreset of the training images followed by one part per batch of hard normals; a
    query's nearest entry is the nearest of each part's, and each part is searched once per query
    batch. :meth:`restart` goes back to the training images' bank for the next simulated run.
    """

    def __init__(self, params: SemiSupervisedParams, device: str) -> None:
        super().__init__(params, device)
        self._ends: list[int] = []
        self._searches: dict[tuple[str, int, int, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def fit(
        self,
        images: Sequence[ImageInput],
        *,
        labeled: Sequence[LabeledImage] = (),
        progress: ProgressCallback | None = None,
    ) -> FitReport:
        """Fit as semi-supervised PatchCore does; the bank built is the part :meth:`restart` keeps."""
        report = super().fit(images, labeled=labeled, progress=progress)
        assert self.memory_bank is not None
        self._ends = [len(self.memory_bank)]
        self._searches = {}
        return report

    def restart(self) -> None:
        """Back to the fitted bank without head or hard normals: unsupervised PatchCore."""
        assert self.memory_bank is not None and self.bank_sources is not None
        base = self._ends[0]
        self.memory_bank, self.bank_sources = self.memory_bank[:base], self.bank_sources[:base]
        self._ends = [base]
        # The next run appends other hard normals at the same bank positions.
        self._searches = {key: value for key, value in self._searches.items() if key[1] == 0}
        self.head = None
        self.fusion = None

    def add_hard_normals(
        self, images: Sequence[ImageInput], sources: NDArray[np.int64], progress: ProgressCallback | None
    ) -> None:
        """Append every patch of ``images`` to the bank as a new part, ``sources[i]`` naming image ``i``."""
        assert self.memory_bank is not None
        self._add_to_bank(images, sources, progress)
        self._ends.append(len(self.memory_bank))

    def embeddings(
        self, images: Sequence[ImageInput], progress: ProgressCallback | None
    ) -> NDArray[np.float32]:
        """``(N, D)`` mean patch feature of each image over the cells that show it."""
        total = np.zeros((len(images), self.extractor.dim), np.float64)
        counts = np.zeros(len(images))
        for batch, views in self.extractor.iter_batches(images, "embeddings", progress):
            valid = valid_cells(views, (batch.shape[-2], batch.shape[-1]), self.params.image_size)
            for features, view, cells in zip(batch.cpu().numpy(), views, valid, strict=True):
                total[view.image_index] += features[:, cells].sum(axis=1)
                counts[view.image_index] += cells.sum()
        return (total / counts[:, None]).astype(np.float32)

    def _search(
        self, queries: torch.Tensor, start: int, end: int, skip: torch.Tensor | None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """PatchCore's search over bank entries ``start:end`` (indices relative to ``start``)."""
        whole = self.memory_bank
        assert whole is not None
        # PatchCore searches `memory_bank`; pointing it at one part reuses that search as it is.
        self.memory_bank = whole[start:end]
        try:
            return super()._nearest(queries, skip)
        finally:
            self.memory_bank = whole

    def _nearest(
        self, queries: torch.Tensor, skip: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The nearest of each bank part's nearest entries, each part searched once per query batch."""
        key = hashlib.blake2b(queries.cpu().numpy().tobytes(), digest_size=20).hexdigest()
        distances: torch.Tensor | None = None
        indices: torch.Tensor | None = None
        start = 0
        for end in self._ends:
            part = None if skip is None or not skip[start:end].any() else skip[start:end]
            skipped = "" if part is None else hashlib.blake2b(part.cpu().numpy().tobytes()).hexdigest()
            name = (key, start, end, skipped)
            if name not in self._searches:
                self._searches[name] = self._search(queries, start, end, part)
            found, index = self._searches[name]
            if distances is None or indices is None:
                distances, indices = found, index + start
            else:
                closer = found < distances
                distances = torch.where(closer, found, distances)
                indices = torch.where(closer, index + start, indices)
            start = end
        assert distances is not None and indices is not None
        return distances, indices
