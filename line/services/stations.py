"""Station keys: made for one collection, shown once, stored as their SHA-256, revoked for good."""

import hashlib
import secrets

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from annotations.models import Collection
from line.models import Station

KEY_PREFIX = "loupe_st_"
"""Every station key starts so: the fence tells station keys from people's API tokens by it."""

LAST_USED_EVERY_SECONDS = 60
"""How stale a station's `last_used_at` may get: not one write per inspection."""


def key_hash(key: str) -> str:
    """The stored form of a key."""
    return hashlib.sha256(key.encode()).hexdigest()


def station_create(
    *, collection: Collection, name: str, created_by: AbstractBaseUser | None
) -> tuple[Station, str]:
    """A new station of the collection and its key, which is not stored and cannot be shown again."""
    key = KEY_PREFIX + secrets.token_urlsafe(32)
    station = Station.objects.create(
        collection=collection,
        name=name.strip()[:100] or "station",
        key_prefix=key[: len(KEY_PREFIX) + 6],
        key_hash=key_hash(key),
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    return station, key


def station_revoke(*, station: Station) -> Station:
    """Revoke the key for good (revoking twice keeps the first time)."""
    if station.revoked_at is None:
        station.revoked_at = timezone.now()
        station.save(update_fields=["revoked_at"])
    return station


def station_for_key(*, key: str) -> Station | None:
    """The station a key belongs to, revoked or not; None for a key nobody made."""
    return Station.objects.select_related("collection").filter(key_hash=key_hash(key)).first()


def station_touch(*, station: Station) -> None:
    """Record that the station called, at most once a minute."""
    now = timezone.now()
    if station.last_used_at is None or (now - station.last_used_at).total_seconds() > LAST_USED_EVERY_SECONDS:
        Station.objects.filter(pk=station.pk).update(last_used_at=now)
