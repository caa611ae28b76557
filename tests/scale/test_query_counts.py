"""What a request costs in queries does not grow with the collection or the page: each hot request
is made on a small and a large generated collection (and at two page sizes), and must ask the
database the same number of times, and not many."""

from collections.abc import Callable

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from annotations.models import Collection, Image, Split, Verdict
from frontend.views.collection import GRID_PAGE_SIZE
from inference.models import Prediction
from inference.services.generated_collections import GeneratedCollection, collection_generate
from tests.annotations.api.helpers import API

pytestmark = pytest.mark.django_db

SIZES = {"small": 40, "large": 4 * GRID_PAGE_SIZE}
MOST = 25  # queries of any one request (a review decision, the most, writes labels and a revision)


@pytest.fixture
def generated(team) -> dict[str, tuple[Collection, GeneratedCollection]]:
    """Two generated collections of the team's project, one within a grid page, one of four."""
    made = {}
    for seed, (name, count) in enumerate(SIZES.items()):
        collection = Collection.objects.create(project=team.project, name=name)
        made[name] = (
            collection,
            collection_generate(collection=collection, count=count, user=team.manager, seed=seed),
        )
    return made


def _queries(request: Callable[[], object]) -> int:
    with CaptureQueriesContext(connection) as captured:
        response = request()
    assert response.status_code in (200, 201, 204), (response.status_code, response.content[:300])
    return len(captured)


def _same_everywhere(counts: dict[str, int]) -> None:
    assert len(set(counts.values())) == 1 and max(counts.values()) <= MOST, counts


def _deep(collection: Collection) -> int:
    """An image id a page into the collection (its last page on the small one)."""
    ids = list(collection.images.order_by("pk").values_list("pk", flat=True))
    return ids[min(GRID_PAGE_SIZE, len(ids) // 2)]


GRID_CASES = {
    "first page": lambda c: {},
    "deep page": lambda c: {"after": _deep(c)},
    "backwards": lambda c: {"before": _deep(c)},
    "split": lambda c: {"split": Split.TEST},
    "verdict": lambda c: {"verdict": Verdict.DEFECTIVE},
    "defect type": lambda c: {"defect_type": c.defect_types.first().pk},
    "reviewed": lambda c: {"reviewed": "yes"},
    "not reviewed": lambda c: {"reviewed": "no"},
    "score range": lambda c: {"score_min": 0.4, "score_max": 0.6},
    "unlabeled, high score": lambda c: {"verdict": Verdict.UNLABELED, "score_min": 0.5},
    "highest score first": lambda c: {"order": "-score"},
}


@pytest.mark.parametrize("case", GRID_CASES)
def test_a_gallery_page_asks_the_same_at_any_size_and_depth(case, team, generated, client):
    client.force_login(team.viewer)
    counts = {
        name: _queries(
            lambda c=collection: client.get(reverse("collection-detail", args=[c.pk]), GRID_CASES[case](c))
        )
        for name, (collection, _) in generated.items()
    }
    _same_everywhere(counts)


def test_the_images_api_asks_the_same_at_any_size_and_page_size(team, generated, as_user):
    client = as_user(team.viewer)
    counts = {
        f"{name}, {size} a page": _queries(
            lambda c=collection, s=size: client.get(f"{API}/images/", {"collection": c.pk, "page_size": s})
        )
        for name, (collection, _) in generated.items()
        for size in (10, 50)
    }
    _same_everywhere(counts)


def test_saving_labels_asks_the_same_whatever_the_collection_and_the_regions(team, generated, as_user):
    client = as_user(team.annotator)
    counts = {}
    for name, (collection, _) in generated.items():
        image = collection.images.filter(annotation__verdict=Verdict.UNLABELED).first()
        types = list(collection.defect_types.values_list("pk", flat=True))
        for regions in (1, 6):
            version = image.annotation.version
            box = {"x": 1, "y": 1, "width": 5, "height": 5}
            body = {
                "verdict": "defective",
                "regions": [{"kind": "box", "geometry": box, "defect_type": types[0]}] * regions,
                "version": version,
            }
            url = f"{API}/images/{image.pk}/annotation/"
            counts[f"{name}, {regions} regions"] = _queries(
                lambda u=url, b=body: client.put(u, b, format="json")
            )
            image.annotation.refresh_from_db()
    _same_everywhere(counts)


def test_the_review_queue_and_a_decision_ask_the_same_at_any_size(team, generated, as_user):
    client = as_user(team.reviewer)
    nexts, decisions = {}, {}
    for name, (_, made) in generated.items():
        version = made.versions[1]
        body = {"model_version": version.pk}
        nexts[name] = _queries(lambda b=body: client.post(f"{API}/reviews/next/", b, format="json"))
        item = client.post(f"{API}/reviews/next/", body, format="json").json()  # the one now held
        decision = {
            "prediction": item["prediction"]["id"],
            "decision": "true_defect",
            "version": item["annotation"]["version"],
        }
        decisions[name] = _queries(lambda d=decision: client.post(f"{API}/reviews/", d, format="json"))
    _same_everywhere(nexts)
    _same_everywhere(decisions)


def test_a_heatmap_overlay_asks_the_same_at_any_size(team, generated, as_user):
    client = as_user(team.viewer)
    counts = {}
    for name, (collection, _) in generated.items():
        prediction = Prediction.objects.filter(image__collection=collection).order_by("-pk").first()
        counts[name] = _queries(lambda p=prediction: client.get(f"{API}/predictions/{p.pk}/overlay/"))
    _same_everywhere(counts)
    assert Image.objects.count() == sum(SIZES.values()) + 1
