import pytest


@pytest.fixture
def as_user(api_client):
    """Authenticate the API client as a user; returns the client."""

    def login(user):
        api_client.force_authenticate(user=user)
        return api_client

    return login
