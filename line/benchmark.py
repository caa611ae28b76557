"""How fast the inspection service answers: ``manage.py benchmark_inspection``.

A collection is filled from a real dataset's images (or an existing one with a promoted model is
used), a PatchCore is trained and promoted, and ``manage.py serve_inspection`` is started on loopback.
Clients then send one image or a batch of 16 per request, 1, 4 and 20 at once. Each answer's
``Server-Timing`` says how long it waited for the model (busy with other clients' images) and how long
the model itself took, so the service's own overhead (HTTP, parsing, checks, recording, keeping
images) is reported apart from both.
"""

import json
import os
import platform
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model

from annotations.models import Collection, Split
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import collection_delete, project_create
from inference.load import free_port, percentiles, server_stop
from inference.ml.data.mvtec import Category
from inference.models import JobStatus
from inference.services.jobs import job_run
from inference.services.training import train_execute
from inference.services.versions import model_version_promote, training_start
from line.services.stations import station_create

CLIENTS = (1, 4, 20)
BATCHES = (1, 16)
REQUESTS = 40
"""Requests of one image per run, shared among its clients (at least two each); runs of a batch send
an eighth as many."""
Log = Callable[[str], None]


def benchmark_collection(category: Category, *, train_limit: int, log: Log) -> Collection:
    """A new project and collection holding the category's images, with a promoted PatchCore."""
    user, _ = get_user_model().objects.get_or_create(username="benchmark-inspection")
    project = project_create(name=f"benchmark inspection {uuid.uuid4().hex[:8]}", created_by=user)
    collection = Collection.objects.create(project=project, name=category.name)
    for paths, split in ((category.train[:train_limit], Split.TRAIN), (category.test, Split.TEST)):
        for path in paths:
            image_store(
                collection=collection,
                inspected=image_inspect(content=path.read_bytes()),
                original_name=path.name,
                split=split,
                source="benchmark",
            )
    log(f"training PatchCore on {min(train_limit, len(category.train))} images of {category.name}")
    job = training_start(collection=collection, algorithm="patchcore", parameters={}, score_after=False)
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise RuntimeError(f"training failed: {job.failure_reason}")
    model_version_promote(version=job.model_version, by=user)
    return collection


def _multipart(parts: Sequence[tuple[str, bytes]]) -> tuple[bytes, str]:
    boundary = uuid.uuid4().hex
    body = b"".join(
        f'--{boundary}\r\nContent-Disposition: form-data; name="images"; filename="{name}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
        for name, content in parts
    )
    return body + f"--{boundary}--\r\n".encode(), f"multipart/form-data; boundary={boundary}"


def drive(
    url: str, key: str, parts: Sequence[tuple[str, bytes]], *, clients: int, requests: int
) -> dict[str, Any]:
    """Send ``requests`` requests of ``parts`` from ``clients`` threads at once; latency, model time
    and overhead per request (ms) and images per second overall."""
    body, content_type = _multipart(parts)
    headers = {"Authorization": f"Token {key}", "Content-Type": content_type}
    latency: list[float] = []
    wait: list[float] = []
    model: list[float] = []
    failures: list[str] = []
    each = max(2, -(-requests // clients))

    def client() -> None:
        for _ in range(each):
            started = time.perf_counter()
            try:
                request = urllib.request.Request(url, data=body, method="POST", headers=headers)
                with urllib.request.urlopen(request, timeout=300) as answer:
                    answer.read()
                    timing = dict(
                        part.strip().split(";dur=") for part in answer.headers["Server-Timing"].split(",")
                    )
            except urllib.error.HTTPError as error:
                failures.append(f"{error.code}: {error.read()[:300].decode(errors='replace')}")
                continue
            except OSError as error:  # URLError included: refused, reset, timed out
                failures.append(str(error))
                continue
            latency.append(1000 * (time.perf_counter() - started))
            wait.append(float(timing["wait"]))
            model.append(float(timing["model"]))

    threads = [threading.Thread(target=client) for _ in range(clients)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    seconds = time.perf_counter() - started
    overhead = [total - w - m for total, w, m in zip(latency, wait, model, strict=True)]
    return {
        "batch": len(parts),
        "clients": clients,
        "requests": len(latency),
        "failed": len(failures),
        "failures": sorted(set(failures))[:5],
        "latency_ms": percentiles(latency) if latency else {},
        "wait_ms": percentiles(wait) if wait else {},
        "model_ms": percentiles(model) if model else {},
        "overhead_ms": percentiles(overhead) if overhead else {},
        "images_per_second": len(latency) * len(parts) / seconds,
    }


def service_start(log_path: Path, *, threads: int) -> tuple[subprocess.Popen, str]:
    """``manage.py serve_inspection`` on a free loopback port, once it holds the promoted models."""
    port = free_port()
    manage = str(settings.BASE_DIR / "manage.py")
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, manage, "serve_inspection", f"127.0.0.1:{port}", "--threads", str(threads)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and server.poll() is None:
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5) as answer:
                if json.loads(answer.read())["models_loaded"]:
                    return server, base
        except OSError:
            pass
        time.sleep(0.5)
    server_stop(server)
    raise RuntimeError(f"the inspection service did not start; see {log_path}")


def inspection_benchmark(
    collection: Collection,
    images: Sequence[Path],
    *,
    log_dir: Path,
    log: Log,
    clients: Sequence[int] = CLIENTS,
    requests: int = REQUESTS,
) -> dict[str, Any]:
    """Every (batch, clients) run against a fresh service for ``collection`` (which must have a
    promoted model), with ``images`` as the line's parts."""
    _station, key = station_create(collection=collection, name="benchmark", created_by=None)
    parts = [(path.name, path.read_bytes()) for path in images]
    server, base = service_start(log_dir / "serve_inspection.log", threads=max(clients))
    url = f"{base}/api/v1/collections/{collection.pk}/inspect/"
    runs = []
    try:
        drive(url, key, parts[:1], clients=1, requests=2)  # warm-up
        for batch in BATCHES:
            for count in clients:
                log(f"batch {batch}, {count} client(s)")
                chosen = [parts[i % len(parts)] for i in range(batch)]
                sent = requests if batch == 1 else requests // 8
                runs.append(drive(url, key, chosen, clients=count, requests=sent))
    finally:
        server_stop(server)
    return {
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "device": settings.LOUPE_ML_DEVICE,
        },
        "collection": collection.pk,
        "runs": runs,
    }


def benchmark_table(result: dict[str, Any]) -> str:
    """The runs as a Markdown table."""
    lines = [
        "| batch | clients | p50 ms | p95 ms | p99 ms | model p50 ms | overhead p95 ms | img/s |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for run in result["runs"]:
        latency, model, overhead = run["latency_ms"], run["model_ms"], run["overhead_ms"]
        speed = run["images_per_second"]
        if not latency:
            failed = run["failures"][0]
            lines.append(f"| {run['batch']} | {run['clients']} | every request failed: {failed} |")
            continue
        lines.append(
            f"| {run['batch']} | {run['clients']} | {latency['p50']:.0f} | {latency['p95']:.0f} | "
            f"{latency['p99']:.0f} | {model['p50']:.0f} | {overhead['p95']:.1f} | {speed:.1f} |"
        )
    return "\n".join(lines)


def benchmark_cleanup(collection: Collection) -> None:
    """Delete the benchmark's project and everything in it."""
    project = collection.project
    collection_delete(collection=collection)
    project.delete()
