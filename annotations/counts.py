"""Counts that grow with a collection, kept for a while once they are large.

Counting a collection's images costs time in proportion to them: at a million, more than a whole
page should. Below `LOUPE_EXACT_COUNT_LIMIT` a count is taken afresh on every request; at or above
it, a count is reused for `LOUPE_COUNT_FRESH_SECONDS` from the cache, and says when it was taken so
the page can tell the reader that it is not of this moment.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.conf import settings
from django.core.cache import cache
from django.utils import timezone


@dataclass(frozen=True)
class Counts:
    """Named counts; `counted_at` is set when they were taken before this request (None: now)."""

    values: dict[str, int] = field(default_factory=dict)
    counted_at: datetime | None = None

    def __getitem__(self, name: str) -> int:
        return self.values[name]


def counts_kept(key: str, count: Callable[[], dict[str, int]], *, size: str = "total") -> Counts:
    """`count()`, or what it gave under `key` a moment ago when its `size` count was at least the
    limit (a small collection is always counted afresh: it is cheap, and people watch it change)."""
    kept = cache.get(f"loupe-counts:{key}")
    if kept is not None:
        return Counts(kept["values"], kept["counted_at"])
    values = count()
    if values[size] >= settings.LOUPE_EXACT_COUNT_LIMIT:
        counted = {"values": values, "counted_at": timezone.now()}
        cache.set(f"loupe-counts:{key}", counted, settings.LOUPE_COUNT_FRESH_SECONDS)
    return Counts(values)
