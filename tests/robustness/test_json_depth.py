"""Bodies nested past the API's cap are a 400 on every route, anonymous ones included."""

import pytest
from rest_framework.test import APIClient

from config.parsers import MAX_JSON_DEPTH, json_depth


def test_depth_counts_brackets_outside_strings():
    assert json_depth('{"a": [1, [2, {"b": "[[[[{{"}]]}') == 4
    assert json_depth('"no brackets \\" [ here"') == 0


@pytest.mark.django_db
@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 100_000])
def test_a_deeply_nested_body_is_a_400_even_anonymously(depth):
    client = APIClient(raise_request_exception=False)
    body = "[" * depth + "]" * depth

    response = client.post("/api/v1/auth/token/", body, content_type="application/json")

    assert response.status_code == 400
    assert "deeper than" in response.json()["detail"]


@pytest.mark.django_db
def test_a_deeply_nested_body_is_a_400_on_an_authenticated_write(team):
    client = APIClient(raise_request_exception=False)
    client.force_authenticate(team.manager)
    nested = "[" * 5000 + "]" * 5000

    response = client.post(
        "/api/v1/projects/", '{"name": "x", "extra": ' + nested + "}", content_type="application/json"
    )

    assert response.status_code == 400


@pytest.mark.django_db
def test_a_body_within_the_cap_still_parses(team):
    client = APIClient()
    response = client.post(
        "/api/v1/auth/token/",
        {"username": team.manager.username, "password": "correct horse battery staple"},
        format="json",
    )
    assert response.status_code == 200 and response.json()["token"]
