"""Fault tests: services stopped, connections cut and workers killed under real jobs. They use their
own Redis server (never the machine's shared one) and the job tests' real worker fixture."""

import os
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from config.celery_app import app
from tests.inference.conftest import broker_dir, celery_worker_process, job_settings  # noqa: F401

# How long the broker stays down: a minute, or `LOUPE_FAULT_OUTAGE_SECONDS`.
OUTAGE_SECONDS = float(os.environ.get("LOUPE_FAULT_OUTAGE_SECONDS", "60"))


def fault_tool_require(command: str) -> str:
    """The path of `command`; skip without it, or fail where CI says the fault tests must run."""
    path = shutil.which(command)
    if path is None:
        reason = f"{command} is not installed, so this fault cannot be injected"
        if os.environ.get("LOUPE_REQUIRE_FAULTS") == "1":
            pytest.fail(f"{reason} (LOUPE_REQUIRE_FAULTS=1)")
        pytest.skip(reason)
    return path


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnRedis:
    """A throwaway `redis-server` on a free port, without persistence: stopped, it comes back empty."""

    def __init__(self, executable: str, log: Path) -> None:
        self.executable, self.log = executable, log
        self.port = _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [self.executable, "--port", str(self.port), "--bind", "127.0.0.1"]
                + ["--save", "", "--appendonly", "no"],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", self.port)) == 0:
                    return
            time.sleep(0.05)
        raise AssertionError(f"redis-server did not start:\n{self.log.read_text()[-2000:]}")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


def _broker_use(url: str, options: dict) -> None:
    """Point this process's Celery app (the web side) at another broker (Celery reads the variable
    before its setting)."""
    os.environ["CELERY_BROKER_URL"] = url
    app.conf.broker_url = url
    app.conf.broker_transport_options = options
    if app._pool is not None:
        app._pool.force_close_all()
        app._pool = None
    app.amqp._producer_pool = None


@pytest.fixture
def own_redis(tmp_path, broker_dir) -> Iterator[OwnRedis]:  # noqa: F811
    """A Redis of this test's own, started; the web side of the test sends to it, and the workers
    get it as `CELERY_BROKER_URL=own_redis.url`."""
    redis = OwnRedis(fault_tool_require("redis-server"), tmp_path / "redis.log")
    redis.start()
    variable = os.environ.get("CELERY_BROKER_URL")
    before = (app.conf.broker_url, dict(app.conf.broker_transport_options or {}))
    _broker_use(redis.url, {})
    yield redis
    _broker_use(*before)
    if variable is None:
        del os.environ["CELERY_BROKER_URL"]
    else:
        os.environ["CELERY_BROKER_URL"] = variable
    redis.stop()
