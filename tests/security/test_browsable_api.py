"""The API answers JSON (or a file), never DRF's browsable HTML: its forms listed every team's projects,
usernames, collections and models in their dropdowns, whatever the user's membership.

Every GET route of the OpenAPI schema is asked for HTML by another team's manager and by a user in no
project, with the first team's ids in the path: the answer is not HTML and names nothing of the first
team. A route added later is walked too.
"""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator
from rest_framework.test import APIClient

from tests import factories

pytestmark = pytest.mark.django_db

SECRET = "Secretline Alpha"  # the first team's project; its usernames and collection carry it too
BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def _get_paths() -> list[str]:
    paths = SchemaGenerator().get_schema(request=None, public=True)["paths"]
    return ["/api/v1/", *(path for path, operations in paths.items() if "get" in operations)]


def _filled(path: str, team: factories.Team) -> str:
    """The path with the first team's ids: the object the route names by its prefix, else the image."""
    ids = {
        "projects": team.project.pk,
        "memberships": team.project.memberships.first().pk,
        "collections": team.collection.pk,
        "defect-types": team.defect_type.pk,
        "images": team.image.pk,
    }
    resource = path.split("/")[3]
    path = path.replace("{collection_id}", str(team.collection.pk)).replace("{image_id}", str(team.image.pk))
    path = path.replace("{id}", str(ids.get(resource, team.image.pk)))
    return re.sub(r"\{[a-z_]+\}", "1", path)


@pytest.fixture
def secret_team(db) -> factories.Team:
    return factories.team(name=SECRET)


@pytest.fixture(params=["other team's manager", "no project"])
def outsider(request, other_team) -> APIClient:
    client = APIClient()
    client.force_authenticate(
        other_team.manager if request.param.startswith("other") else factories.UserFactory()
    )
    return client


def test_the_schema_has_the_routes_this_test_walks():
    paths = _get_paths()
    assert len(paths) > 30 and "/api/v1/projects/" in paths and "/api/v1/memberships/{id}/" in paths


@pytest.mark.parametrize("accept", ["text/html", BROWSER_ACCEPT])
def test_no_route_answers_html_or_names_another_teams_objects(secret_team, outsider, accept):
    secret = re.compile(re.escape(SECRET.split()[0]), re.IGNORECASE)
    answers = {}
    for path in _get_paths():
        url = _filled(path, secret_team)
        response = outsider.get(url, HTTP_ACCEPT=accept)
        body = b"".join(response.streaming_content) if response.streaming else response.content
        answers[url] = (response.status_code, response.get("Content-Type", ""))
        assert not response.get("Content-Type", "").startswith("text/html"), (url, response.status_code)
        assert b"<form" not in body, url
        assert not secret.search(body.decode("utf-8", "replace")), url
        assert response.status_code < 500, (url, response.status_code)

    # Strictly HTML is refused as not acceptable; a browser's Accept gets JSON (its own team's lists).
    if accept == "text/html":
        assert answers["/api/v1/projects/"][0] == 406
    else:
        assert answers["/api/v1/projects/"] == (200, "application/json")
    assert answers[f"/api/v1/projects/{secret_team.project.pk}/"][0] in (404, 406)


def test_the_first_teams_own_members_get_json_too(secret_team):
    client = APIClient()
    client.force_authenticate(secret_team.manager)

    response = client.get("/api/v1/memberships/", HTTP_ACCEPT=BROWSER_ACCEPT)

    assert response.status_code == 200 and response["Content-Type"] == "application/json"
    assert {m["username"] for m in response.json()["results"]} >= {secret_team.manager.username}
