import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from rest_framework.test import APIClient

from tests import factories

SHARED_DATASETS = Path(__file__).resolve().parents[2] / "shared" / "datasets"


@pytest.fixture(autouse=True)
def media_root(settings, tmp_path):
    """Every test stores its files in a folder of its own."""
    root = tmp_path / "media"
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {"BACKEND": "django.core.files.storage.FileSystemStorage", "OPTIONS": {"location": root}},
    }
    return root


@pytest.fixture(autouse=True)
def no_kept_counts():
    """Counts kept in the cache (annotations/counts.py) never outlive a test: ids are used again."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def fast_password_hashing(settings):
    """Factories set real passwords; the default hasher would spend most of each test on them."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def mtd_path() -> Path:
    path = SHARED_DATASETS / "mtd"
    if not path.is_dir():
        pytest.skip(f"the MTD dataset is not at {path} (it lives in the shared folder beside the repo)")
    return path


def png_bytes(width: int = 32, height: int = 24, *, seed: int = 0, mode: str = "L") -> bytes:
    """A small random image encoded as PNG."""
    rng = np.random.default_rng(seed)
    channels = {"L": (height, width), "RGB": (height, width, 3)}[mode]
    pixels = rng.integers(0, 256, size=channels, dtype=np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels, mode=mode).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def team(db):
    """A project with one member of each role and a collection holding one image."""
    return factories.team()


@pytest.fixture
def other_team(db):
    return factories.team(name="Other team")


@pytest.fixture(scope="session")
def django_db_modify_db_settings(django_db_modify_db_settings_parallel_suffix, tmp_path_factory) -> None:
    """SQLite tests use a file, not memory, so a Celery worker subprocess can open the same test database
    (tests/inference/conftest.py); one file per test session, so parallel sessions never share one."""
    from django.conf import settings

    database = settings.DATABASES["default"]
    if database["ENGINE"] == "django.db.backends.sqlite3":
        database.setdefault("TEST", {})["NAME"] = str(tmp_path_factory.mktemp("db") / "test.sqlite3")


@pytest.fixture
def sent(monkeypatch) -> list[tuple[int, str]]:
    """Jobs are not sent to Celery; the messages that would have been, as (job id, kind), and a
    helper's as (job id, its task's name)."""
    from inference.services import job_shares, jobs

    messages: list[tuple[int, str]] = []
    monkeypatch.setattr(jobs, "_send", lambda job_id, kind: messages.append((job_id, kind)))
    monkeypatch.setattr(job_shares, "_send", lambda task, job_id, queue: messages.append((job_id, task)))
    return messages
