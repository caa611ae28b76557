"""The hot queries are served by an index on PostgreSQL: with sequential scans and sorts priced out,
each query's plan must still need neither (when no index can serve a query, the planner has to fall
back to them, and the plan says so). The queries are the selectors' own, as the pages make them."""

from collections.abc import Iterator

import pytest
from django.db import connection, transaction
from django.db.models import QuerySet

from annotations.models import Collection, Split, Verdict
from annotations.selectors import image_list, keyset_order
from frontend.views.collection import GRID_PAGE_SIZE
from inference.selectors import scored_image_list
from inference.services.generated_collections import GeneratedCollection, collection_generate
from inference.services.reviews import review_pending

pytestmark = pytest.mark.django_db

COUNT = 300  # the collection's images; the tables hold four times as many of other collections


@pytest.fixture
def generated(team, other_team) -> Iterator[tuple[Collection, GeneratedCollection]]:
    if connection.vendor != "postgresql":
        pytest.skip("query plans are PostgreSQL's (the production database): set DATABASE_URL")
    collection_generate(collection=other_team.collection, count=4 * COUNT, user=other_team.manager, seed=1)
    collection = Collection.objects.create(project=team.project, name="indexed")
    made = collection_generate(collection=collection, count=COUNT, user=team.manager)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    yield collection, made


def _plan(queryset: QuerySet) -> str:
    """The plan of `queryset` where nothing but an index can keep it from a full scan or a sort."""
    with transaction.atomic(), connection.cursor() as cursor:
        for setting in ("enable_seqscan", "enable_sort", "enable_incremental_sort", "enable_bitmapscan"):
            cursor.execute(f"SET LOCAL {setting} = off")
        return queryset.explain()


def _assert_indexed(queryset: QuerySet, *indexes: str) -> None:
    """Neither a full scan nor a sort, and one of `indexes` in the plan."""
    plan = _plan(queryset)
    assert "Seq Scan" not in plan and "Sort" not in plan, plan
    assert any(f"using {index} " in plan for index in indexes), plan


def _grid(team, made, **filters) -> QuerySet:
    """The grid's images as `frontend.selectors.grid_images` asks for them."""
    return scored_image_list(
        user=team.viewer, collection_id=made[0].pk, model_version_id=made[1].versions[1].pk, **filters
    )


@pytest.mark.parametrize(
    ("filters", "indexes"),
    [
        # Ids rise with time, so the planner may walk the primary key and skip other collections' rows.
        ({}, ("image_collection_order", "annotations_image_pkey")),
        ({"split": Split.TEST}, ("image_collection_split_order",)),
        ({"order": "-score"}, ("prediction_score_order",)),
        ({"order": "score"}, ("prediction_score_order",)),
        ({"order": "-score", "score_min": 0.5}, ("prediction_score_order",)),
        ({"order": "-score", "verdict": Verdict.UNLABELED}, ("prediction_score_order",)),
        ({"score_min": 0.4, "score_max": 0.6}, ("prediction_unique_image",)),
    ],
    ids=lambda value: repr(value) if isinstance(value, dict) else "_",
)
def test_a_grid_page_walks_an_index(team, generated, filters, indexes):
    _assert_indexed(_grid(team, generated, **filters)[: GRID_PAGE_SIZE + 1], *indexes)


def test_a_deep_grid_page_starts_in_the_index_at_its_cursor(team, generated):
    collection, _ = generated
    middle = collection.images.order_by("pk").values_list("pk", flat=True)[COUNT // 2]
    images = image_list(user=team.viewer, collection_id=collection.pk).filter(pk__gt=middle)
    _assert_indexed(images.order_by(*keyset_order("id"))[: GRID_PAGE_SIZE + 1], "image_collection_order")


def test_the_review_queue_hands_out_its_next_item_from_an_index(generated):
    _, made = generated
    _assert_indexed(review_pending(version=made.versions[1])[:20], "prediction_queue_order")


def test_the_grid_asks_for_no_parallel_plan(team, generated):
    """A Gather's start-up is paid even under the page's LIMIT: "not reviewed" took 212 ms with a
    parallel anti-join and 17 ms without, at 100,000 images (config.settings)."""
    page = _grid(team, generated, reviewed=False).order_by("pk")[:GRID_PAGE_SIZE]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SHOW max_parallel_workers_per_gather")
        assert cursor.fetchone()[0] == "0"
        # Parallel plans made free, so only the setting keeps the planner from one at this size.
        for setting in ("parallel_setup_cost", "parallel_tuple_cost"):
            cursor.execute(f"SET LOCAL {setting} = 0")
        for setting in ("min_parallel_table_scan_size", "min_parallel_index_scan_size"):
            cursor.execute(f"SET LOCAL {setting} = 0")
        assert "Gather" not in page.explain()
        cursor.execute("SET LOCAL max_parallel_workers_per_gather = 2")
        assert "Gather" in page.explain()  # what the setting keeps away
