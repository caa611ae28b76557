from rest_framework.authtoken.models import Token

from tests.annotations.api.helpers import API, results


def test_a_token_is_obtained_with_a_password_and_then_authenticates(team, api_client):
    response = api_client.post(
        f"{API}/auth/token/",
        {"username": team.viewer.username, "password": "correct horse battery staple"},
        format="json",
    )

    assert response.status_code == 200, response.content
    token = response.json()["token"]
    assert Token.objects.get(user=team.viewer).key == token
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert [project["id"] for project in results(api_client.get(f"{API}/projects/"))] == [team.project.pk]


def test_a_wrong_password_gets_no_token(team, api_client):
    response = api_client.post(
        f"{API}/auth/token/", {"username": team.viewer.username, "password": "wrong"}, format="json"
    )

    assert response.status_code == 400
    assert not Token.objects.filter(user=team.viewer).exists()


def test_a_bad_token_is_a_401(db, api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Token not-a-token")

    assert api_client.get(f"{API}/projects/").status_code == 401


def test_a_session_authenticates_too(team, client):
    client.force_login(team.viewer)

    response = client.get(f"{API}/images/{team.image.pk}/")

    assert response.status_code == 200
    assert response.json()["id"] == team.image.pk


def test_the_schema_describes_the_api(team, client):
    client.force_login(team.viewer)  # anonymous users get neither (tests/security/test_brakes.py)
    response = client.get("/api/schema/?format=json")

    assert response.status_code == 200
    paths = response.json()["paths"]
    assert "/api/v1/images/{id}/annotation/" in paths
    assert {"get", "put", "patch"} <= set(paths["/api/v1/images/{id}/annotation/"])
    assert "/api/v1/auth/token/" in paths


def test_the_docs_page_renders(team, client):
    client.force_login(team.viewer)
    response = client.get("/api/docs/")
    # Swagger UI's start-up script is a file of its own (the Content-Security-Policy runs no inline one).
    script = client.get("/api/docs/?script=")

    assert response.status_code == 200
    assert b"swagger-ui" in response.content
    assert b"/api/schema/" in script.content
