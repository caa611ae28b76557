"""A large collection's counts are taken once a minute, not on every page, and the page says so; a
small one's are always of this moment."""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from inference.services.reviews import review_pending_count, review_submit
from inference.services.scoring_jobs import unscored_image_count
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db


def _page(client, collection, **params) -> tuple[str, int]:
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse("collection-detail", args=[collection.pk]), params)
    assert response.status_code == 200
    return response.content.decode(), len(captured)


def _total(html: str) -> int:
    return int(re.search(r'data-count="total">(\d+)<', html).group(1))


def _matching(html: str) -> int:
    return int(re.search(r'data-count="matching">(\d+) image', html).group(1))


def test_a_large_collections_counts_are_kept_for_a_minute_and_the_page_says_so(team, client, settings):
    settings.LOUPE_EXACT_COUNT_LIMIT = 3
    for seed in range(3):
        add_image(team.collection, f"more-{seed}.png", seed=seed + 1, split="test")
    client.force_login(team.viewer)
    first, counting = _page(client, team.collection)
    assert _total(first) == 4 and "Counts as of" not in first

    add_image(team.collection, "late.png", seed=9, split="test")
    kept, fewer = _page(client, team.collection)
    assert _total(kept) == 4 and "Counts as of" in kept  # not counted again, and said so
    assert fewer < counting

    cache.clear()  # the minute is over
    again, _ = _page(client, team.collection)
    assert _total(again) == 5 and "Counts as of" not in again


def test_a_filtered_count_is_kept_by_its_filters_however_few_it_finds(team, client, settings):
    settings.LOUPE_EXACT_COUNT_LIMIT = 4  # the collection's size decides: a count looks through it all
    for seed in range(3):
        add_image(team.collection, f"test-{seed}.png", seed=seed + 1, split="test")
    client.force_login(team.viewer)
    assert _matching(_page(client, team.collection, split="test")[0]) == 3
    assert _matching(_page(client, team.collection, split="unassigned")[0]) == 1
    add_image(team.collection, "late-test.png", seed=9, split="test")
    add_image(team.collection, "late-other.png", seed=10)
    assert _matching(_page(client, team.collection, split="test")[0]) == 3  # each kept by its filters
    assert _matching(_page(client, team.collection, split="unassigned")[0]) == 1
    cache.clear()
    assert _matching(_page(client, team.collection, split="unassigned")[0]) == 2


def test_a_small_collection_is_counted_afresh_on_every_page(team, client):
    client.force_login(team.viewer)
    assert _total(_page(client, team.collection)[0]) == 1
    add_image(team.collection, "second.png", seed=2)
    html, _ = _page(client, team.collection)
    assert _total(html) == 2 and "Counts as of" not in html


def test_the_unscored_count_of_a_large_collection_is_kept_too(team, settings):
    settings.LOUPE_EXACT_COUNT_LIMIT = 2
    version = scored_version(team.collection, {team.image: 0.5})
    for seed in range(2):
        add_image(team.collection, f"new-{seed}.png", seed=seed + 1)
    counted = unscored_image_count(version=version)
    assert (counted["total"], counted.counted_at) == (2, None)
    add_image(team.collection, "late.png", seed=9)
    kept = unscored_image_count(version=version)
    assert kept["total"] == 2 and kept.counted_at is not None


def test_a_long_review_queue_is_counted_once_a_minute(team, settings):
    settings.LOUPE_EXACT_COUNT_LIMIT = 2
    images = [
        add_image(team.collection, f"queued-{seed}.png", seed=seed + 1, split="test") for seed in range(2)
    ]
    version = scored_version(team.collection, {image: 0.5 for image in images})
    assert review_pending_count(version=version)["total"] == 2
    review_submit(
        prediction=version.predictions.first(), reviewer=team.reviewer, decision="unsure", expected_version=0
    )
    kept = review_pending_count(version=version)
    assert kept["total"] == 2 and kept.counted_at is not None  # one fewer, an instant later
    cache.clear()
    assert review_pending_count(version=version)["total"] == 1
