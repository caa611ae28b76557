"""Every parameter has a type and a range at the edge: a value outside them is a 400 that names it,
never a 500 or a coerced value."""

import re

import pytest
from django.test import Client
from rest_framework.test import APIClient

from annotations.geometry import MAX_POINTS

API = "/api/v1"


@pytest.fixture
def manager(team) -> APIClient:
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(team.manager)
    return client


def _train(manager: APIClient, team, parameters) -> object:
    body = {"kind": "train", "collection": team.collection.pk, "parameters": parameters}
    return manager.post(f"{API}/jobs/", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "parameters",
    [
        {"image_size": 10**400},
        {"image_size": True},
        {"image_size": "320"},
        {"blur_sigma": 10**400},
        {"layers": ["layer"] * 10_000},
        {"layers": ["x" * 100_000]},
        {"backbone": {"nested": 1}},
        {"no_such_parameter": 1},
    ],
    ids=[
        "int past a float",
        "bool for int",
        "string for int",
        "huge float",
        "long list",
        "long string",
        "object for string",
        "unknown",
    ],
)
def test_training_parameters_of_the_wrong_type_or_size_are_a_400(team, manager, parameters, sent):
    response = _train(manager, team, parameters)

    assert response.status_code == 400, response.content
    message = response.json()["parameters"][0]
    assert len(message) < 1000  # the value is not echoed whole
    assert sent == []


@pytest.mark.django_db
def test_a_1e400_literal_is_a_400_not_infinity(team, manager, sent):
    body = '{"kind": "train", "collection": COLLECTION, "parameters": {"blur_sigma": 1e400}}'
    body = body.replace("COLLECTION", str(team.collection.pk))
    response = manager.post(f"{API}/jobs/", body, content_type="application/json")
    assert response.status_code == 400 and "blur_sigma" in response.json()["parameters"][0]


@pytest.mark.django_db
@pytest.mark.parametrize("collection", ["9" * 20, 2**64, 1.5, True, "٣", -1])
def test_a_related_id_that_is_not_a_64_bit_whole_number_is_a_400(team, manager, collection, sent):
    body = {"kind": "train", "collection": collection}
    response = manager.post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 400 and "collection" in response.json(), response.content
    assert sent == []


def _annotate(manager: APIClient, team, geometry: dict, kind: str = "scribble") -> object:
    region = {"kind": kind, "geometry": geometry, "precision": "rough", "defect_type": team.defect_type.pk}
    body = {"verdict": "defective", "regions": [region], "version": 0}
    return manager.put(f"{API}/images/{team.image.pk}/annotation/", body, format="json")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "geometry",
    [
        {"points": [[1, 1], [5, 5]], "width": 1e9},
        {"points": [[1, 1], [5, 5]], "width": 10**400},
        {"points": [[10**400, 1], [5, 5]], "width": 2},
        {"points": [[1, 1]] * (MAX_POINTS + 1), "width": 2},
    ],
    ids=["width 1e9", "width past a float", "coordinate past a float", "too many points"],
)
def test_a_scribble_too_wide_or_too_long_is_a_400(team, manager, geometry):
    response = _annotate(manager, team, geometry)
    assert response.status_code == 400, response.content
    assert "geometry" in str(response.json())


@pytest.mark.django_db
def test_a_scribble_as_wide_as_the_image_is_kept(team, manager):
    width = max(team.image.width, team.image.height)
    response = _annotate(manager, team, {"points": [[1, 1], [5, 5]], "width": width})
    assert response.status_code == 200, response.content


@pytest.mark.django_db
@pytest.mark.parametrize("version", [2**63, "9" * 20])
def test_a_label_version_past_64_bits_is_a_400(team, manager, version):
    body = {"verdict": "normal", "regions": [], "version": version}
    response = manager.put(f"{API}/images/{team.image.pk}/annotation/", body, format="json")
    assert response.status_code == 400 and "version" in response.json()


@pytest.mark.django_db
@pytest.mark.parametrize("version", ["²", "٣", "9" * 20])
def test_the_review_page_reads_only_ascii_digits_as_a_version(team, version):
    client = Client(raise_request_exception=False)
    client.force_login(team.manager)
    response = client.get(f"/collections/{team.collection.pk}/review/", {"version": version})
    assert response.status_code in (200, 404)


@pytest.mark.django_db
def test_an_id_past_64_bits_in_a_path_is_a_404(team, manager):
    big = "9" * 20
    for url in (
        f"{API}/images/{big}/",
        f"{API}/projects/{big}/",
        f"{API}/model-versions/{big}/",
        f"{API}/collections/{big}/label-exports/",
        f"{API}/collections/{big}/drift/",
    ):
        assert manager.get(url).status_code == 404, url
    assert Client().get(f"/collections/{big}/review/").status_code in (302, 404)


@pytest.mark.django_db
def test_format_suffixes_are_not_routes(team, manager):
    for url in (f"{API}/images/next.json", f"{API}/images/{team.image.pk}.json", f"{API}/reviews/next.json"):
        assert manager.get(url).status_code in (404, 405), url


@pytest.mark.django_db
def test_every_page_route_takes_an_id_past_64_bits_as_a_404(team):
    """Each `<int:...>` page route, its ids replaced by 20 digits, read by a signed-in manager."""
    from django.urls import URLPattern, get_resolver

    client = Client(raise_request_exception=False)
    client.force_login(team.manager)
    big = "9" * 20
    checked = 0
    for pattern in get_resolver("frontend.urls").url_patterns:
        route = str(pattern.pattern) if isinstance(pattern, URLPattern) else ""
        if "<int:" not in route:
            continue
        url = "/" + re.sub(r"<int:\w+>", big, route)
        response = client.get(url)
        assert response.status_code in (404, 405), (url, response.status_code)
        checked += 1
    assert checked >= 20
