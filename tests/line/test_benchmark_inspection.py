"""`manage.py benchmark_inspection` on a small generated dataset: every run answered, figures that
add up, the device it was told (not LOUPE_ML_DEVICE), and the collection it made is gone afterwards."""

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
    # A device no machine here has: training, the model timed alone and the service must all take
    # --device's instead, or they fail.
    settings.LOUPE_ML_DEVICE = "cuda:7"
    monkeypatch.setenv("DATABASE_URL", database_url())  # the service it starts reads this database
    monkeypatch.setenv("MEDIA_ROOT", str(media_root))
    monkeypatch.setenv("LOUPE_ML_DEVICE", "cuda:7")
    category = demo_dataset_write(root=tmp_path / "data", train=6, test_normal=3, test_per_defect=1)
    out = tmp_path / "inspection.json"
    call_command(
        "benchmark_inspection",
        "--data", str(category), "--train-limit", "6", "--clients", "1,2", "--requests", "16",
        "--batch-requests", "6", "--device", "cpu", "--json", str(out),
        stdout=io.StringIO(),
    )  # fmt: skip
    result = json.loads(out.read_text())
    assert result["device"] == result["machine"]["device"] == "cpu"
    assert settings.LOUPE_ML_DEVICE == "cuda:7"  # --device held for the command only
    assert [(run["batch"], run["clients"]) for run in result["runs"]] == [(1, 1), (1, 2), (16, 1), (16, 2)]
    assert [run["requests"] for run in result["runs"]] == [16, 16, 6, 6]
    for run in result["runs"]:
        assert run["failed"] == 0, run["failures"]
        assert run["images_per_second"] > 0
        assert run["latency_ms"]["p50"] >= run["model_ms"]["p50"] > 0
        assert run["latency_ms"]["p50"] <= run["latency_ms"]["p95"] <= run["latency_ms"]["p99"]
        assert 0 < run["overhead_ms"]["p50"] <= run["overhead_ms"]["p95"]
    single = [run for run in result["runs"] if run["batch"] == 1]
    assert all(run["overhead_under_aim"] == (run["overhead_ms"]["p95"] < 15) for run in single)
    aim = result["overhead_aim"]
    assert aim["aim_ms"] == 15 and aim["clients"] == 1
    assert aim["p95_ms"] == single[0]["overhead_ms"]["p95"] and aim["met"] == (aim["p95_ms"] < 15)
    assert aim["worst_p95_ms"] == max(run["overhead_ms"]["p95"] for run in single)
    assert set(result["model_in_process_ms"]) == {"1", "16"}
    assert all(timed["p50"] > 0 for timed in result["model_in_process_ms"].values())
    assert not Collection.objects.filter(pk=result["collection"]).exists()
