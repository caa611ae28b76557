import json

import pytest
from django.core.management import CommandError, call_command

from inference.ml.data import discover_categories
from inference.ml.experiments.benchmark import results_table, run_benchmark


def test_discover_categories(mvtec_folder):
    [category] = discover_categories(mvtec_folder)
    assert category.name == "texture" and len(category.train) == 8 and len(category.test) == 24
    assert category.test_labels.sum() == 12 and all(m is not None for m in category.masks[:12])
    assert discover_categories(mvtec_folder / "texture")[0].name == "texture"
    with pytest.raises(FileNotFoundError, match="train/good"):
        discover_categories(mvtec_folder / "texture" / "test")


def test_run_benchmark_reports_quality_and_cost(mvtec_folder, small_params):
    results = run_benchmark(
        mvtec_folder, "patchcore", small_params(coreset_ratio=0.1), device="cpu", show_progress=False
    )
    [category] = results["categories"]
    assert set(category["quality"]) >= {"image_auroc", "pixel_auroc", "aupro", "f1_max", "f1_max_threshold"}
    assert category["quality"]["image_auroc"] > 0.9
    cost = category["cost"]
    assert cost["fit_seconds"] > 0 and cost["images_per_second"] > 0
    assert cost["peak_memory_mb"] > 10 and cost["model_size_mb"] > 0


def test_management_command_writes_json(mvtec_folder, tmp_path):
    out = tmp_path / "out" / "bench.json"
    call_command(
        "benchmark",
        "--data",
        str(mvtec_folder),
        "--algorithm",
        "padim",
        "--image-size",
        "64",
        "--param",
        "n_features=16",
        "--device",
        "cpu",
        "--json",
        str(out),
        "--no-progress",
    )
    results = json.loads(out.read_text())
    assert results["algorithm"] == "padim" and results["params"]["n_features"] == 16
    [dataset] = results["datasets"]
    assert dataset["name"] == mvtec_folder.name and 0 <= results["mean"]["aupro"] <= 1
    with pytest.raises(CommandError, match="no MVTec-layout category"):
        call_command("benchmark", "--data", str(tmp_path), "--no-progress")


def test_without_data_every_shared_dataset_is_run_and_tabled(shared_mvtec_folder, tmp_path, settings, capsys):
    datasets = tmp_path / "datasets"
    for name in ("tiles", "screws"):
        (datasets / name).mkdir(parents=True)
        (datasets / name / "texture").symlink_to(shared_mvtec_folder / "texture", target_is_directory=True)
    settings.LOUPE_DATASETS_DIR = datasets
    out = tmp_path / "bench.json"

    call_command(
        "benchmark",
        "--image-size",
        "64",
        "--coreset-ratio",
        "0.1",
        "--device",
        "cpu",
        "--json",
        str(out),
        "--no-progress",
    )

    results = json.loads(out.read_text())
    assert [d["name"] for d in results["datasets"]] == ["screws", "tiles"]
    tiles, screws = results["datasets"][1]["mean"], results["datasets"][0]["mean"]
    assert results["mean"]["aupro"] == pytest.approx((tiles["aupro"] + screws["aupro"]) / 2)
    printed = capsys.readouterr().out
    assert "| tiles | texture |" in printed and "| screws | texture |" in printed and "| mean |" in printed
    settings.LOUPE_DATASETS_DIR = tmp_path / "nothing"
    with pytest.raises(CommandError, match="no --data given and no datasets"):
        call_command("benchmark", "--no-progress")


def test_the_table_lists_every_category_and_the_mean():
    category = {
        "category": "c",
        "quality": {"image_auroc": 0.9, "aupro": 0.5},
        "cost": {"fit_seconds": 1.0, "images_per_second": 2.0, "peak_memory_mb": 300.0},
    }
    table = results_table(
        {"datasets": [{"name": "d", "categories": [category]}], "mean": {"image_auroc": 0.9}}
    )

    assert table.splitlines()[2] == "| d | c | 0.900 | – | 0.500 | – | 1.0 | 2.0 | 300 |"
    assert table.splitlines()[3].startswith("| mean | | 0.900 | – |")
