"""Load on a running web server, for the benchmarks: concurrent clients on kept connections, their
latency percentiles and the requests per second, and a gunicorn started on loopback to take it."""

import http.client
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import connection


def percentiles(values: list[float]) -> dict[str, float]:
    """p50, p95 and p99 of `values` (milliseconds, say)."""
    return {f"p{q}": float(np.percentile(values, q)) for q in (50, 95, 99)}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def database_url() -> str:
    """The database this process is connected to (a test database included), as `DATABASE_URL`."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    user = db.get("USER") or ""
    password = f":{db['PASSWORD']}" if db.get("PASSWORD") else ""
    host = db.get("HOST") or "localhost"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{user}{password}@{host}{port}/{db['NAME']}"


def same_data_env() -> dict[str, str]:
    """The environment a server process needs to see this process's database and stored files."""
    env = {"DATABASE_URL": database_url()}
    if hasattr(default_storage, "location"):  # a folder; S3 comes from the same variables anyway
        env["MEDIA_ROOT"] = str(default_storage.location)
    return env


@dataclass(frozen=True)
class Call:
    """One request: `method` on `path` (with its query), a body and its headers."""

    method: str
    path: str
    body: bytes | None = None
    headers: Mapping[str, str] = field(default_factory=dict)
    ok: tuple[int, ...] = (200,)


# What a client sends next: its number and how many it has sent, to the call (a client may need its
# own image, say, so that clients do not fight over one).
Calls = Callable[[int, int], Call]


def drive(base: str, calls: Calls, *, clients: int, each: int, headers: Mapping[str, str]) -> dict[str, Any]:
    """`clients` threads at once, each on its own kept connection, each sending `each` requests;
    latency percentiles (ms), requests per second, and the failures (an unexpected status or a
    dropped connection)."""
    host, port = base.removeprefix("http://").split(":")
    latency: list[float] = []
    failures: list[str] = []

    def client(number: int) -> None:
        connection = http.client.HTTPConnection(host, int(port), timeout=120)
        for sent in range(each):
            call = calls(number, sent)
            started = time.perf_counter()
            try:
                connection.request(
                    call.method, call.path, body=call.body, headers={**headers, **call.headers}
                )
                answer = connection.getresponse()
                content = answer.read()
            except (OSError, http.client.HTTPException) as error:
                failures.append(f"{call.method} {call.path}: {error!r}")
                connection.close()
                connection = http.client.HTTPConnection(host, int(port), timeout=120)
                continue
            latency.append(1000 * (time.perf_counter() - started))
            if answer.status not in call.ok:
                failures.append(f"{call.method} {call.path}: {answer.status} {content[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    return {
        "clients": clients,
        "requests": len(latency),
        "failed": len(failures),
        "failures": sorted(set(failures))[:5],
        "latency_ms": percentiles(latency) if latency else {},
        "requests_per_second": len(latency) / seconds,
    }


def gunicorn_start(
    log_path: Path, *, workers: int, threads: int, env: Mapping[str, str]
) -> tuple[subprocess.Popen, str]:
    """The platform's web server (gunicorn, as `platform/Procfile` runs it) on a free loopback port,
    on this process's database and files, once it answers."""
    port = free_port()
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "config.wsgi", "--bind", f"127.0.0.1:{port}"]
        + ["--workers", str(workers), "--threads", str(threads), "--timeout", "120"],
        cwd=settings.BASE_DIR,
        env={**os.environ, **same_data_env(), **env},
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/api/v1/", timeout=10):
                return server, base
        except urllib.error.HTTPError:  # answered (401 without a token)
            return server, base
        except OSError:
            time.sleep(0.3)
    server_stop(server)
    raise RuntimeError(f"gunicorn did not start; see {log_path}")


def server_stop(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=60)
