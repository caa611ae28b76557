from tests.annotations.api.conftest import as_user

__all__ = ["as_user"]
