"""How fast the inspection service answers: ``manage.py benchmark_inspection``.

A collection is filled from a real dataset's images (or an existing one with a promoted model is
used), a PatchCore is trained and promoted, and ``manage.py serve_inspection`` is started on loopback.
Clients then send one image or a batch of 16 per request, 1, 4 and 20 at once. Each answer's
``Server-Timing`` says how long it waited for the model (busy with other clients' images) and how long
the model itself took, so the service's own overhead (HTTP, parsing, checks, recording, keeping
images) is reported apart from both. The service and the model timed in this process (the same
model, bare, for comparison) run on one device, the CPU unless told otherwise.
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
from django.test.utils import override_settings
from PIL import Image as PILImage

from annotations.models import Collection, Split
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import collection_delete, project_create
from inference.load import free_port, percentiles, server_stop
from inference.ml.data.mvtec import Category
from inference.ml.device import resolve_device
from inference.models import JobStatus
from inference.selectors import production_version
from inference.services.jobs import job_run
from inference.services.scoring import model_load
from inference.services.training import train_execute
from inference.services.versions import model_version_promote, training_start
from line.services.stations import station_create

CLIENTS = (1, 4, 20)
BATCHES = (1, 16)
REQUESTS = 40
"""Requests of one image per run, shared among its clients (at least two each)."""
BATCH_REQUESTS = 40
"""Requests of a batch of 16 per run, likewise: enough that a p99 is more than the slowest one."""
DEVICE = "cpu"
OVERHEAD_AIM_MS = 15.0
"""What the service may add to one image's inspection on top of the model's time, at p95."""
IN_PROCESS_REPEATS = {1: 20, 16: 5}
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


def service_start(log_path: Path, *, threads: int, device: str = DEVICE) -> tuple[subprocess.Popen, str]:
    """``manage.py serve_inspection`` on a free loopback port with its models on ``device``, once it
    holds the promoted models."""
    port = free_port()
    manage = str(settings.BASE_DIR / "manage.py")
    log = log_path.open("wb")
    server = subprocess.Popen(
        [sys.executable, manage, "serve_inspection", f"127.0.0.1:{port}", "--threads", str(threads)],
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
        env={**os.environ, "LOUPE_ML_DEVICE": device},
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


def model_timing(collection: Collection, images: Sequence[Path], *, device: str) -> dict[str, Any]:
    """The promoted model loaded in this process on ``device`` and timed alone, per batch size (ms):
    what the service's ``model`` time should be when nothing else runs."""
    pictures = []
    for path in images:
        with PILImage.open(path) as picture:
            picture.load()
            pictures.append(picture.copy())
    with override_settings(LOUPE_ML_DEVICE=device):
        detector = model_load(production_version(collection_id=collection.pk))
    timed = {}
    for batch in BATCHES:
        chosen = [pictures[i % len(pictures)] for i in range(batch)]
        detector.predict(chosen)  # warm-up
        seconds = []
        for _ in range(IN_PROCESS_REPEATS.get(batch, 5)):
            started = time.perf_counter()
            detector.predict(chosen)
            seconds.append(1000 * (time.perf_counter() - started))
        timed[str(batch)] = percentiles(seconds)
    return timed


def overhead_aim(runs: Sequence[dict[str, Any]], aim_ms: float = OVERHEAD_AIM_MS) -> dict[str, Any]:
    """Whether one image's overhead p95 is under ``aim_ms``: with one client (``p95_ms``, ``met``) and
    at every client count (``worst_p95_ms``, ``met_at_every_client_count``)."""
    single = [run for run in runs if run["batch"] == 1 and run["overhead_ms"]]
    if not single:
        return {"aim_ms": aim_ms, "p95_ms": None, "met": False, "by_clients": {}}
    by_clients = {str(run["clients"]): run["overhead_ms"]["p95"] for run in single}
    first = min(single, key=lambda run: run["clients"])["overhead_ms"]["p95"]
    worst = max(by_clients.values())
    return {
        "aim_ms": aim_ms,
        "clients": min(run["clients"] for run in single),
        "p95_ms": first,
        "met": first < aim_ms,
        "worst_p95_ms": worst,
        "met_at_every_client_count": worst < aim_ms,
        "by_clients": by_clients,
    }


def inspection_benchmark(
    collection: Collection,
    images: Sequence[Path],
    *,
    log_dir: Path,
    log: Log,
    clients: Sequence[int] = CLIENTS,
    requests: int = REQUESTS,
    batch_requests: int = BATCH_REQUESTS,
    device: str = DEVICE,
) -> dict[str, Any]:
    """Every (batch, clients) run against a fresh service for ``collection`` (which must have a
    promoted model), with ``images`` as the line's parts, the service's models and the in-process
    timing on ``device``.

    Raises:
        ValueError: ``device`` is not one this machine has.
    """
    resolved = str(resolve_device(device))
    log(f"timing the model alone on {resolved}")
    in_process = model_timing(collection, images, device=device)
    _station, key = station_create(collection=collection, name="benchmark", created_by=None)
    parts = [(path.name, path.read_bytes()) for path in images]
    server, base = service_start(log_dir / "serve_inspection.log", threads=max(clients), device=device)
    url = f"{base}/api/v1/collections/{collection.pk}/inspect/"
    runs = []
    try:
        drive(url, key, parts[:1], clients=1, requests=2)  # warm-up
        for batch in BATCHES:
            for count in clients:
                log(f"batch {batch}, {count} client(s)")
                chosen = [parts[i % len(parts)] for i in range(batch)]
                sent = requests if batch == 1 else batch_requests
                runs.append(drive(url, key, chosen, clients=count, requests=sent))
    finally:
        server_stop(server)
    for run in runs:
        if run["batch"] == 1 and run["overhead_ms"]:
            run["overhead_under_aim"] = run["overhead_ms"]["p95"] < OVERHEAD_AIM_MS
    return {
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "device": resolved},
        "device": resolved,
        "collection": collection.pk,
        "model_in_process_ms": in_process,
        "overhead_aim": overhead_aim(runs),
        "runs": runs,
    }


def benchmark_table(result: dict[str, Any]) -> str:
    """The runs as a Markdown table, and whether one image's overhead meets its aim."""
    lines = [
        f"device: {result['device']}",
        "",
        "| batch | clients | p50 ms | p95 ms | p99 ms | model p50 ms | overhead p50 ms | overhead p95 ms "
        "| img/s |",
        "|---|---|---|---|---|---|---|---|---|",
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
            f"{latency['p99']:.0f} | {model['p50']:.0f} | {overhead['p50']:.1f} | {overhead['p95']:.1f} | "
            f"{speed:.1f} |"
        )
    aim = result["overhead_aim"]
    if aim["p95_ms"] is not None:
        lines.append(
            f"\none image's overhead p95 with {aim['clients']} client(s): {aim['p95_ms']:.1f} ms, "
            f"{'under' if aim['met'] else 'not under'} the {aim['aim_ms']:g} ms aim "
            f"(worst over client counts {aim['worst_p95_ms']:.1f} ms)"
        )
    return "\n".join(lines)


def benchmark_cleanup(collection: Collection) -> None:
    """Delete the benchmark's project and everything in it."""
    project = collection.project
    collection_delete(collection=collection)
    project.delete()
