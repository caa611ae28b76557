"""`manage.py serve_inspection`: a process of its own that loads the promoted models at start, answers
inspections and nothing else."""

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from inference.load import database_url
from line.services.stations import station_create
from tests.line.conftest import line_images

REPO = Path(__file__).resolve().parents[2]
pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as answer:
            return answer.status, answer.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def test_the_service_loads_the_promoted_model_at_start_and_serves_inspections_only(
    transactional_db, line_version, team, media_root, tmp_path
):
    _station, key = station_create(collection=team.collection, name="line", created_by=None)
    port = _free_port()
    env = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MEDIA_ROOT": str(media_root),
        "LOUPE_ML_DEVICE": "cpu",
    }
    log = (tmp_path / "serve.log").open("wb")
    server = subprocess.Popen(
        [sys.executable, "manage.py", "serve_inspection", f"127.0.0.1:{port}", "--threads", "2"],
        cwd=REPO,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline, health = time.monotonic() + 90, {}
        while time.monotonic() < deadline and server.poll() is None:
            try:
                health = json.loads(_get(f"{base}/healthz")[1])
            except OSError:
                health = {}
            if health.get("models_loaded"):
                break
            time.sleep(0.3)
        # Anyone may ask, so it says how many models are held, never whose.
        assert health == {"status": "ok", "models_loaded": 1}, (tmp_path / "serve.log").read_text()[-3000:]

        request = urllib.request.Request(
            f"{base}/api/v1/collections/{team.collection.pk}/inspect/?name=part.png",
            data=line_images(1, seed=9)[0][1],
            method="POST",
            headers={"Authorization": f"Token {key}", "Content-Type": "image/png"},
        )
        with urllib.request.urlopen(request, timeout=60) as answer:
            body = json.loads(answer.read())
            timing = answer.headers["Server-Timing"]
        assert body["model_version"] == line_version.pk and body["results"][0]["name"] == "part.png"
        parts = dict(part.strip().split(";dur=") for part in timing.split(","))
        assert float(parts["wait"]) >= 0 and float(parts["model"]) > 0
        # The platform's other routes are not served here.
        assert _get(f"{base}/api/v1/collections/")[0] == 404
        assert _get(f"{base}/")[0] == 404
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
        log.close()
