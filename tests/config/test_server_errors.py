"""A request that fails because the database cannot be reached answers 503 with `Retry-After` (JSON
under /api/, a page elsewhere that itself needs no database); any other failure is a 500; and the
next request after the database is back succeeds on its own.

The database is made unreachable for real: the connection is closed and pointed at a place where no
database is (a port nothing listens on; for SQLite, a file in a folder that does not exist)."""

import socket

import pytest
from django.db import connection
from django.test import Client
from rest_framework.authtoken.models import Token

pytestmark = pytest.mark.django_db(transaction=True)


def _unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def unreachable_database(monkeypatch, tmp_path):
    """While the test runs, every new connection fails; the old one is closed."""

    def cut() -> None:
        connection.close()
        if connection.vendor == "sqlite":
            monkeypatch.setitem(connection.settings_dict, "NAME", str(tmp_path / "missing" / "db.sqlite3"))
        else:
            monkeypatch.setitem(connection.settings_dict, "PORT", str(_unused_port()))

    def restore() -> None:
        connection.close()
        monkeypatch.undo()

    yield cut, restore
    restore()


def test_the_database_unreachable_answers_503_then_recovers(team, unreachable_database):
    cut, restore = unreachable_database
    client = Client(raise_request_exception=False)
    client.force_login(team.viewer)
    token = Token.objects.create(user=team.viewer).key
    api = Client(raise_request_exception=False, HTTP_AUTHORIZATION=f"Token {token}")

    cut()
    answer = api.get("/api/v1/projects/")
    page = client.get("/")

    assert answer.status_code == 503 and answer["Retry-After"] == "5"
    assert "not answering" in answer.json()["detail"]
    assert page.status_code == 503 and page["Retry-After"] == "5"
    assert b"Unavailable for a moment" in page.content and b"try again in a few seconds" in page.content

    restore()
    assert api.get("/api/v1/projects/").status_code == 200
    assert client.get("/").status_code == 200


def test_any_other_failure_is_a_500_without_retry_after(team, monkeypatch):
    def broken(**_kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr("annotations.api.views.selectors.project_list", broken)
    client = Client(raise_request_exception=False)
    client.force_login(team.viewer)

    answer = client.get("/api/v1/projects/")

    assert answer.status_code == 500 and "Retry-After" not in answer
    assert "It has been logged" in answer.json()["detail"] and "a bug" not in answer.json()["detail"]
