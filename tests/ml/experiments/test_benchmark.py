import json
import sys

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
    assert "| tiles | texture | loupe |" in printed and "| screws | texture | loupe |" in printed
    assert "| mean | | loupe |" in printed
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

    assert table.splitlines()[2] == "| d | c | loupe | 0.900 | – | 0.500 | – | 1.0 | 2.0 | 300 |"
    assert table.splitlines()[3].startswith("| mean | | loupe | 0.900 | – |")


# A stand-in for ../shared/peers/anomalib_patchcore.py (anomalib is no dependency of Loupe): the same
# arguments and the same JSON, with figures it derives from the files it was given.
STAND_IN_PEER = """
import json, pathlib, sys
args = sys.argv[1:]
folder = pathlib.Path(args[0])
names = pathlib.Path(args[args.index("--train-list") + 1]).read_text().split()
assert all((folder / "train" / "good" / name).is_file() for name in names)
report = {"n_train": len(names), "image_auroc": len(names) / 100, "pixel_auroc": 0.5, "aupro": 0.25,
          "fit_seconds": 3.0, "images_per_second": 4.0, "peak_rss_mb_self": 500.0}
pathlib.Path(args[args.index("--json") + 1]).write_text(json.dumps(report))
"""


def test_a_peer_runs_on_the_same_training_images_and_is_tabled_beside_loupe(mvtec_folder, tmp_path, capsys):
    script = tmp_path / "peer.py"
    script.write_text(STAND_IN_PEER)
    out = tmp_path / "bench.json"
    options = ["--data", str(mvtec_folder), "--image-size", "64", "--train-limit", "5", "--device", "cpu"]
    options += [
        "--peer-python",
        sys.executable,
        "--peer-script",
        str(script),
        "--json",
        str(out),
        "--no-progress",
    ]

    call_command("benchmark", *options)

    results = json.loads(out.read_text())
    [category] = results["datasets"][0]["categories"]
    assert category["n_train"] == 5 and category["peer"]["n_train"] == 5
    assert category["peer"]["quality"]["image_auroc"] == 0.05 and results["peer_mean"]["aupro"] == 0.25
    printed = capsys.readouterr().out
    assert "| texture | anomalib | 0.050 | 0.500 | 0.250 | – | 3.0 | 4.0 | 500 |" in printed
    assert "| mean | | anomalib | 0.050 |" in printed
    with pytest.raises(CommandError, match="--peer-python .* does not exist"):
        call_command("benchmark", "--data", str(mvtec_folder), "--peer-python", str(tmp_path / "nope"))
    script.write_text("import sys; sys.exit('anomalib is not installed')")
    with pytest.raises(CommandError, match="anomalib failed on texture: anomalib is not installed"):
        call_command("benchmark", *options)


def test_the_image_score_is_cross_validated_over_the_categories(mvtec_folder, tmp_path, capsys):
    out = tmp_path / "bench.json"
    options = ["--data", str(mvtec_folder), "--image-size", "64", "--device", "cpu", "--no-progress"]

    call_command("benchmark", *options, "--select-image-score", "--json", str(out))

    results = json.loads(out.read_text())
    [category] = results["datasets"][0]["categories"]
    assert len(category["score_candidates"]["1.0"]) == len(category["test_labels"]) == 24
    selection = results["image_score_selection"]
    assert len(selection["chosen"]) == 2 and set(selection["cross_validated"]) == {
        f"{mvtec_folder.name}/texture"
    }
    assert 0 <= selection["cross_validated"][f"{mvtec_folder.name}/texture"] <= 1
    printed = capsys.readouterr().out
    assert "| map_top_fraction |" in printed and "| cross-validated (chose " in printed
