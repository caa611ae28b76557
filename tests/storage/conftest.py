"""A real S3-compatible server on loopback (moto in server mode, its own process) and Django's default
storage on a fresh bucket of it, configured by the product's own code (`config/storage.py`) from the
`S3_*` variables a deployment sets.

Skipped, with the reason, where moto is not installed; CI sets LOUPE_REQUIRE_S3=1, which turns that
skip into a failure.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import environ
import pytest

from config.storage import media_storage

REGION = "us-east-1"  # moto's default: a bucket there needs no location constraint


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _moto_missing() -> str | None:
    try:
        import boto3  # noqa: F401
        import moto.server  # noqa: F401
    except ImportError as error:
        return f"the S3 tests need moto[server] ({error}); install the dev extra: pip install -e '.[dev]'"
    return None


@pytest.fixture(scope="session")
def s3_endpoint(tmp_path_factory) -> Iterator[str]:
    """`moto_server` on a free 127.0.0.1 port for the whole session; its URL."""
    reason = _moto_missing()
    if reason:
        if os.environ.get("LOUPE_REQUIRE_S3"):
            pytest.fail(f"S3 tests must run here (LOUPE_REQUIRE_S3 is set) but {reason}")
        pytest.skip(reason)
    port = _free_port()
    log = tmp_path_factory.mktemp("moto") / "moto.log"
    with log.open("wb") as output:
        server = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
            stdout=output,
            stderr=subprocess.STDOUT,
        )
    deadline = time.monotonic() + 30
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            break
        except OSError:
            if server.poll() is not None or time.monotonic() > deadline:
                server.kill()
                raise AssertionError(f"moto_server did not start:\n{log.read_text()[-4000:]}") from None
            time.sleep(0.1)
    yield f"http://127.0.0.1:{port}"
    server.terminate()
    server.wait(timeout=10)


@pytest.fixture
def s3_env(s3_endpoint) -> dict[str, str]:
    """The variables that point Loupe at a fresh, empty bucket (one per test, so tests never share keys)."""
    env = {
        "S3_BUCKET": f"loupe-test-{uuid.uuid4().hex[:12]}",
        "S3_ENDPOINT_URL": s3_endpoint,
        "S3_REGION": REGION,
        "S3_ACCESS_KEY_ID": "loupe-test",
        "S3_SECRET_ACCESS_KEY": "loupe-test-secret",
    }
    _client(env).create_bucket(Bucket=env["S3_BUCKET"])
    return env


def _client(env: dict[str, str]):
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=env["S3_ENDPOINT_URL"],
        region_name=env["S3_REGION"],
        aws_access_key_id=env["S3_ACCESS_KEY_ID"],
        aws_secret_access_key=env["S3_SECRET_ACCESS_KEY"],
    )


class Bucket:
    """The test's bucket, read with boto3 directly (not through Django): what is really stored."""

    def __init__(self, env: dict[str, str]) -> None:
        self.name = env["S3_BUCKET"]
        self.client = _client(env)

    def keys(self, prefix: str = "") -> set[str]:
        pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.name, Prefix=prefix)
        return {item["Key"] for page in pages for item in page.get("Contents", [])}

    def read(self, key: str) -> bytes:
        return self.client.get_object(Bucket=self.name, Key=key)["Body"].read()


@pytest.fixture(autouse=True)
def s3_storage(settings, media_root, s3_env, monkeypatch) -> Bucket:
    """Every test here stores its media in the bucket: `STORAGES["default"]` as settings build it from
    the S3 variables (after the suite's local media folder, which must stay empty)."""
    for name, value in s3_env.items():
        monkeypatch.setenv(name, value)
    storage = media_storage(environ.Env(), default_root=media_root)
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    settings.STORAGES = {**settings.STORAGES, "default": storage}
    return Bucket(s3_env)


def local_files(root: Path) -> list[str]:
    """Every file under a local folder (what S3 storage must leave empty)."""
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()) if root.exists() else []


# The real-worker fixtures of the job tests (tests/inference/conftest.py), for test_s3_worker.py.
from tests.inference.conftest import broker_dir, celery_worker_process, job_settings  # noqa: E402

__all__ = ["broker_dir", "celery_worker_process", "job_settings"]
