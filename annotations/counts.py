"""Counts over a collection's images, kept for a while when the collection is large.

A count costs time in proportion to the collection it looks through, however few it finds: at a
million images, more than a whole page should. In a collection of fewer than
`LOUPE_EXACT_COUNT_LIMIT` images a count is taken afresh on every request; in a larger one it is
reused for `LOUPE_COUNT_FRESH_SECONDS` from the cache, and says when it was taken so the page can
tell the reader that it is not of this moment.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone

from annotations.models import Image


@dataclass(frozen=True)
class Counts:
    """Named counts; `counted_at` is set when they were taken before this request (None: now)."""

    values: dict[str, int] = field(default_factory=dict)
    counted_at: datetime | None = None

    def __getitem__(self, name: str) -> int:
        return self.values[name]


def _kept(key: str, count: Callable[[], dict[str, int]], large: Callable[[dict[str, int]], bool]) -> Counts:
    kept = cache.get(f"loupe-counts:{key}")
    if kept is not None:
        return Counts(kept["values"], kept["counted_at"])
    values = count()
    if large(values):
        counted = {"values": values, "counted_at": timezone.now()}
        cache.set(f"loupe-counts:{key}", counted, settings.LOUPE_COUNT_FRESH_SECONDS)
    return Counts(values)


def collection_size(*, collection_id: int) -> Counts:
    """How many images the collection held a moment ago (`total`): what tells a large collection
    from a small one, kept whatever its size (a collection grows past the limit a minute late)."""
    return _kept(
        f"size:{collection_id}",
        lambda: {"total": Image.objects.filter(collection_id=collection_id).count()},
        lambda values: True,
    )


def counts_kept(key: str, count: Callable[[], dict[str, int]], *, collection_id: int) -> Counts:
    """`count()` over the collection's images, or what it gave under `key` a moment ago when the
    collection is large (a small one is always counted afresh: it is cheap, and people watch it
    change)."""
    large = collection_size(collection_id=collection_id)["total"] >= settings.LOUPE_EXACT_COUNT_LIMIT
    return _kept(f"{collection_id}:{key}", count, lambda values: large)
