"""`manage.py benchmark_inspection` on a small generated dataset: every run answered, figures that
add up, and the collection it made is gone afterwards."""

import io
import json

import pytest
from django.core.management import call_command

from annotations.models import Collection
from inference.load import database_url
from inference.services.demo import demo_dataset_write

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def test_the_benchmark_times_every_run_and_cleans_up(
    transactional_db, media_root, tmp_path, monkeypatch, settings
):
    settings.LOUPE_ML_DEVICE = "cpu"
    monkeypatch.setenv("DATABASE_URL", database_url())  # the service it starts reads this database
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("LOUPE_ML_DEVICE", "cpu")
    category = demo_dataset_write(root=tmp_path / "data", train=6, test_normal=3, test_per_defect=1)
    out = tmp_path / "inspection.json"
    call_command(
        "benchmark_inspection",
        "--data", str(category), "--train-limit", "6", "--clients", "1,2", "--requests", "16",
        "--json", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert [(run["batch"], run["clients"]) for run in result["runs"]] == [(1, 1), (1, 2), (16, 1), (16, 2)]
    for run in result["runs"]:
        assert run["failed"] == 0, run["failures"]
        assert run["requests"] >= 2 and run["images_per_second"] > 0
        assert run["latency_ms"]["p50"] >= run["model_ms"]["p50"] > 0
        assert run["latency_ms"]["p50"] <= run["latency_ms"]["p95"] <= run["latency_ms"]["p99"]
        assert run["overhead_ms"]["p50"] > 0
    assert not Collection.objects.filter(pk=result["collection"]).exists()
