"""PatchCore's memory bank: the normal patch features, each with the training image it came from, and
the exact nearest-neighbour search over them.

:class:`MemoryBank` searches afresh every time; :class:`CachedBank` remembers each search while its
contents stay the same (a benchmark scoring the same images with several heads); :class:`GrowingBank`
grows by parts and searches each part once per query (a simulation appending hard normals every
round). PatchCore takes any of them at construction; the results are the same.
"""

from __future__ import annotations

import hashlib

import torch

_DISTANCE_BLOCK = 1 << 24
"""Most query-to-entry distances computed at once (64 MB of float32), whatever the bank's size."""


def _exact_nearest(
    bank: torch.Tensor, queries: torch.Tensor, skip: torch.Tensor | None
) -> tuple[torch.Tensor, torch.Tensor]:
    """Euclidean distance to, and index of, each query's nearest row of ``bank`` (``skip`` rows left out)."""
    bank_norms = (bank * bank).sum(dim=1)
    if skip is not None:
        bank_norms = bank_norms.masked_fill(skip.to(bank.device), float("inf"))
    distances, indices = [], []
    for chunk in queries.split(max(64, _DISTANCE_BLOCK // max(1, len(bank)))):
        squared = torch.addmm(bank_norms[None], chunk, bank.T, alpha=-2.0)
        squared += (chunk * chunk).sum(dim=1, keepdim=True)
        best, index = squared.min(dim=1)
        distances.append(best.clamp_min_(0).sqrt_())
        indices.append(index)
    return torch.cat(distances), torch.cat(indices)


def _digest(*tensors: torch.Tensor | None) -> str:
    digest = hashlib.blake2b(digest_size=20)
    for tensor in tensors:
        digest.update(b"-" if tensor is None else tensor.detach().cpu().numpy().tobytes())
    return digest.hexdigest()


class MemoryBank:
    """Patch features and their sources, searched exactly.

    Attributes:
        features: ``(M, D)`` float32 on the search device, or None before fitting.
        sources: ``(M,)`` int64 index of the image each entry comes from (CPU), or None.
    """

    def __init__(self) -> None:
        self.features: torch.Tensor | None = None
        self.sources: torch.Tensor | None = None

    def __len__(self) -> int:
        return 0 if self.features is None else len(self.features)

    def reset(self, features: torch.Tensor, sources: torch.Tensor) -> None:
        """Hold exactly these entries."""
        self.features, self.sources = features, sources

    def extend(self, features: torch.Tensor, sources: torch.Tensor) -> None:
        """Append entries after those held."""
        if self.features is None or self.sources is None:
            self.reset(features, sources)
        else:
            self.reset(torch.cat([self.features, features]), torch.cat([self.sources, sources]))

    def nearest(
        self, queries: torch.Tensor, skip: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Distance to, and index of, each query's nearest entry.

        Args:
            queries: ``(Q, D)`` float32 on the bank's device.
            skip: ``(M,)`` bool, entries to leave out (e.g. those of the queries' own training image,
                to see how it would score had it not been fitted on).

        Returns:
            ``(Q,)`` float32 Euclidean distances and ``(Q,)`` int64 entry indices.

        Raises:
            RuntimeError: the bank is empty.
        """
        if self.features is None:
            raise RuntimeError("the memory bank is empty: fit PatchCore first")
        return _exact_nearest(self.features, queries, skip)


class CachedBank(MemoryBank):
    """A bank that remembers every search until its contents change."""

    def __init__(self) -> None:
        super().__init__()
        self._searches: dict[str, tuple[torch.Tensor, torch.Tensor]] = {}

    def reset(self, features: torch.Tensor, sources: torch.Tensor) -> None:
        super().reset(features, sources)
        self._searches = {}

    def nearest(
        self, queries: torch.Tensor, skip: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        key = _digest(queries, skip)
        if key not in self._searches:
            self._searches[key] = super().nearest(queries, skip)
        return self._searches[key]


class GrowingBank(MemoryBank):
    """A bank made of parts, each appended by :meth:`extend`; a query's nearest entry is the nearest of
    each part's, and each part is searched once per distinct query (and skip). :meth:`truncate` goes
    back to the first parts, keeping what their searches found."""

    def __init__(self) -> None:
        super().__init__()
        self._ends: list[int] = []
        self._searches: dict[tuple[str, int, int, str], tuple[torch.Tensor, torch.Tensor]] = {}

    def reset(self, features: torch.Tensor, sources: torch.Tensor) -> None:
        super().reset(features, sources)
        self._ends = [len(features)]
        self._searches = {}

    def extend(self, features: torch.Tensor, sources: torch.Tensor) -> None:
        if self.features is None:
            self.reset(features, sources)
            return
        assert self.sources is not None
        self.features, self.sources = torch.cat([self.features, features]), torch.cat([self.sources, sources])
        self._ends.append(len(self))

    def truncate(self, parts: int = 1) -> None:
        """Keep only the first ``parts`` parts (the next parts appended land at the same positions, so
        the searches of the parts kept stay valid)."""
        assert self.features is not None and self.sources is not None
        end = self._ends[parts - 1]
        self.features, self.sources = self.features[:end], self.sources[:end]
        self._ends = self._ends[:parts]
        kept = set(zip([0, *self._ends[:-1]], self._ends, strict=True))
        self._searches = {key: value for key, value in self._searches.items() if (key[1], key[2]) in kept}

    def nearest(
        self, queries: torch.Tensor, skip: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        if self.features is None:
            raise RuntimeError("the memory bank is empty: fit PatchCore first")
        key = _digest(queries)
        distances: torch.Tensor | None = None
        indices: torch.Tensor | None = None
        start = 0
        for end in self._ends:
            part = None if skip is None or not skip[start:end].any() else skip[start:end]
            name = (key, start, end, "" if part is None else _digest(part))
            if name not in self._searches:
                self._searches[name] = _exact_nearest(self.features[start:end], queries, part)
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
