"""Brakes on password guessing (django-axes, config/lockout.py), and who may read the API's map.

After AXES_FAILURE_LIMIT wrong passwords for one username from one address, that pair is refused with
a 429 and `Retry-After`, even with the right password, until the cool-off has passed; another user,
or the same user from another address, logs in meanwhile. After LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT
wrong passwords at any usernames, the whole address is refused the same way (password spraying).
"""

import math
from collections import Counter
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth import get_user_model
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

TOKEN = "/api/v1/auth/token/"
LIMIT = settings.AXES_FAILURE_LIMIT
ADDRESS_LIMIT = settings.LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT


def _token(client: APIClient, username: str, password: str, address: str = "10.0.0.1", **headers):
    body = {"username": username, "password": password}
    return client.post(TOKEN, body, format="json", REMOTE_ADDR=address, **headers)


def _login(client, username: str, password: str, address: str = "10.0.0.1"):
    return client.post("/login/", {"username": username, "password": password}, REMOTE_ADDR=address)


def _cool_off() -> None:
    """Move every recorded failure back past the cool-off, as the clock would."""
    AccessAttempt.objects.update(
        attempt_time=timezone.now() - settings.AXES_COOLOFF_TIME - timedelta(seconds=1)
    )


def test_the_token_endpoint_locks_a_guessed_username_until_it_cools_off(team):
    client = APIClient()
    guessed, other = team.viewer.username, team.annotator.username
    answers = [_token(client, guessed, f"guess {n}").status_code for n in range(LIMIT - 1)]
    assert answers == [400] * (LIMIT - 1)

    last_guess = _token(client, guessed, "guess")
    right_password = _token(client, guessed, PASSWORD)

    assert last_guess.status_code == 429
    assert right_password.status_code == 429
    assert "token" not in right_password.json()
    assert "wait 15 minutes" in right_password.json()["detail"]
    assert int(right_password["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    # Other users, and the same user from elsewhere, are not held up.
    assert _token(client, other, PASSWORD).status_code == 200
    assert _token(client, guessed, PASSWORD, address="10.0.0.2").status_code == 200

    _cool_off()
    assert _token(client, guessed, PASSWORD).status_code == 200


def test_password_spraying_locks_the_whole_address_until_it_cools_off(team):
    client = APIClient()
    per_user = LIMIT - 1  # never enough to lock any one username
    users = [
        get_user_model().objects.create_user(f"sprayed-{n}", password=PASSWORD)
        for n in range(math.ceil(ADDRESS_LIMIT / per_user) + 1)
    ]
    answers = Counter(
        _token(client, user.username, f"guess {n}").status_code for user in users for n in range(per_user)
    )
    assert answers == {400: ADDRESS_LIMIT, 429: len(users) * per_user - ADDRESS_LIMIT}

    # Even the right password of a user nobody guessed at, from that address.
    refused = _token(client, team.viewer.username, PASSWORD)
    assert refused.status_code == 429 and "token" not in refused.json()
    assert "from your address" in refused.json()["detail"] and "axes_reset_ip" in refused.json()["detail"]
    assert int(refused["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    page = _login(Client(), team.viewer.username, PASSWORD)
    assert page.status_code == 429 and b"from your address" in page.content
    assert _token(client, team.viewer.username, PASSWORD, address="10.0.0.2").status_code == 200

    _cool_off()
    assert _token(client, team.viewer.username, PASSWORD).status_code == 200


def test_a_header_the_client_sets_does_not_give_it_fresh_guesses(team):
    client = APIClient()
    for n in range(LIMIT):
        _token(client, team.viewer.username, f"guess {n}", HTTP_X_FORWARDED_FOR=f"192.0.2.{n}")

    assert (
        _token(client, team.viewer.username, PASSWORD, HTTP_X_FORWARDED_FOR="192.0.2.99").status_code == 429
    )


def test_the_login_page_locks_a_guessed_username_and_says_for_how_long(team, client):
    guessed = team.viewer.username
    for n in range(LIMIT - 1):
        assert _login(client, guessed, f"guess {n}").status_code == 200  # the form again, with its error

    _login(client, guessed, "guess")
    refused = _login(client, guessed, PASSWORD)

    assert refused.status_code == 429
    assert int(refused["Retry-After"]) == settings.AXES_COOLOFF_TIME.total_seconds()
    assert b"Too many failed logins" in refused.content and b"<form" in refused.content
    assert "_auth_user_id" not in client.session
    assert _login(client, team.annotator.username, PASSWORD).status_code == 302

    _cool_off()
    client.logout()
    assert _login(client, guessed, PASSWORD).status_code == 302


def test_a_successful_login_forgets_earlier_failures(team, client):
    guessed = team.viewer.username
    for n in range(LIMIT - 1):
        _login(client, guessed, f"guess {n}")
    assert _login(client, guessed, PASSWORD).status_code == 302
    client.logout()

    for n in range(LIMIT - 1):
        _login(client, guessed, f"again {n}")
    assert _login(client, guessed, PASSWORD).status_code == 302


# --- the API's schema and docs: for signed-in users ----------------------------------------------


def test_anonymous_users_get_neither_the_schema_nor_the_docs(client):
    assert client.get("/api/schema/?format=json").status_code in (401, 403)
    docs = client.get("/api/docs/")
    assert docs.status_code == 302 and docs["Location"].startswith("/login/?next=/api/docs/")


def test_signed_in_users_get_the_schema_and_the_docs(team, client):
    client.force_login(team.viewer)

    assert "/api/v1/auth/token/" in client.get("/api/schema/?format=json").json()["paths"]
    docs = client.get("/api/docs/")
    assert docs.status_code == 200 and b"swagger-ui" in docs.content
    script = client.get("/api/docs/?script=")
    assert script.status_code == 200 and script["Content-Type"].startswith("application/javascript")
    assert b"/api/schema/" in script.content
