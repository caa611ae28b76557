import io
import json

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotations.models import Image, Project

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_every_case_runs_under_concurrent_clients_and_nothing_is_left(tmp_path, media_root):
    out = tmp_path / "web.json"
    log = io.StringIO()
    call_command(
        "benchmark_web", images=300, clients=3, requests=2, workers=1, threads=4, json=out, stdout=log
    )

    report = json.loads(out.read_text())
    assert (report["images"], report["clients"], report["requests_per_client"]) == (300, 3, 2)
    cases = report["cases"]
    assert {
        "gallery: first page",
        "gallery: last rows",
        "annotation save",
        "review: decision",
        "overlay",
    } <= set(cases)
    for name, case in cases.items():
        assert (case["requests"], case["failed"]) == (6, 0), (name, case["failures"])
        latency = case["latency_ms"]
        assert 0 < latency["p50"] <= latency["p95"] <= latency["p99"], name
        assert case["requests_per_second"] > 0 and 0 < case["queries"] <= 25, (name, case["queries"])
    assert "gallery: highest score, last rows" in log.getvalue()
    # The generated collection, its project and the benchmark's users are gone again.
    assert not Project.objects.exists() and not Image.objects.exists()
    assert not get_user_model().objects.filter(username__startswith="bench-").exists()
