"""The scale tests use the API tests' client fixture."""

from tests.annotations.api.conftest import as_user  # noqa: F401
