"""The active-learning simulation on a small generated MVTec-layout category."""

import json
import re

import numpy as np
import pytest
from django.core.management import CommandError, call_command

from inference.ml.algorithms.patchcore.bank import GrowingBank
from inference.ml.algorithms.patchcore_ss import SemiSupervisedParams, SemiSupervisedPatchCore
from inference.ml.data import ImageFiles, discover_categories
from inference.ml.experiments.simulation import (
    plot_simulation,
    reviews_to_reach,
    simulate_active_learning,
    split_pool,
)

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def fast_params():
    """The smallest model that still trains a head: a 64 px canvas and a few head steps."""
    return {
        "image_size": 64,
        "batch_size": 8,
        "coreset_ratio": 0.2,
        "head_steps": 10,
        "head_batch": 32,
        "head_hidden": 16,
        "normal_images": 2,
        "stats_images": 2,
        "synthetic_images": 1,
    }


@pytest.fixture(scope="module")
def simulated(shared_mvtec_folder, fast_params):
    """Two seeds of active and random order, two rounds of two reviews."""
    return simulate_active_learning(
        shared_mvtec_folder,
        rounds=2,
        per_round=2,
        strategies=("active", "random"),
        seeds=(0, 1),
        params=fast_params,
        device="cpu",
    )


def test_the_pool_and_eval_split_each_class_without_overlap():
    labels = np.array([True] * 10 + [False] * 6)

    pool, held = split_pool(labels, 0.5, seed=3)

    assert not set(pool) & set(held) and sorted([*pool, *held]) == list(range(16))
    assert labels[held].sum() == 5 and (~labels[held]).sum() == 3
    assert split_pool(labels, 0.5, seed=3)[0].tolist() == pool.tolist()
    with pytest.raises(ValueError, match="eval_fraction"):
        split_pool(labels, 1.0, seed=0)


def test_each_round_labels_k_pool_images_and_never_an_eval_one(simulated, shared_mvtec_folder):
    [category] = discover_categories(shared_mvtec_folder)
    assert len(simulated["runs"]) == 4
    for run in simulated["runs"]:
        pool, held = split_pool(category.test_labels, 0.5, run["seed"])
        pool_names = {category.test[i].name for i in pool}
        assert [point["reviews"] for point in run["curve"]] == [0, 2, 4]
        assert len(set(run["labeled"])) == 4 and set(run["labeled"]) <= pool_names
        assert not set(run["labeled"]) & {category.test[i].name for i in held}
    assert simulated["n_pool"] + simulated["n_eval"] == len(category.test)


def test_round_zero_is_the_same_unsupervised_model_for_every_strategy(simulated):
    by_seed = {}
    for run in simulated["runs"]:
        by_seed.setdefault(run["seed"], []).append(run["curve"][0]["aupro"])
    assert all(values == pytest.approx([values[0]] * len(values)) for values in by_seed.values())


def test_curves_summarise_the_seeds_and_serialise(simulated):
    curve = json.loads(json.dumps(simulated))["curves"]["active"]
    assert curve["reviews"] == [0, 2, 4]
    runs = [run for run in simulated["runs"] if run["strategy"] == "active"]
    assert curve["aupro"]["mean"][-1] == pytest.approx(np.mean([r["curve"][-1]["aupro"] for r in runs]))
    assert set(curve) >= {"image_auroc", "pixel_auroc", "aupro", "defective_labeled"}
    assert simulated["reviews_to_reach"]["active"] == reviews_to_reach(simulated["curves"], "active")
    assert simulated["timing"]["round_train_seconds_mean"] > 0


def test_reviews_to_reach_is_the_first_round_at_random_orders_final_figure():
    curves = {
        "random": {"reviews": [0, 5, 10], "aupro": {"mean": [0.5, 0.6, 0.7]}},
        "active": {"reviews": [0, 5, 10], "aupro": {"mean": [0.5, 0.71, 0.72]}},
        "highest": {"reviews": [0, 5, 10], "aupro": {"mean": [0.5, 0.55, 0.6]}},
    }
    assert reviews_to_reach(curves, "active") == 5
    assert reviews_to_reach(curves, "highest") is None


def test_the_plot_is_a_png(simulated, tmp_path):
    path = plot_simulation(simulated, tmp_path / "plots" / "curve.png")

    assert path.read_bytes().startswith(PNG_SIGNATURE)


def test_remembered_searches_score_as_a_fresh_model(shared_mvtec_folder, fast_params):
    """Hard normals appended part by part, and searched part by part, find the same nearest entries."""
    [category] = discover_categories(shared_mvtec_folder)
    train, test = ImageFiles(category.train), ImageFiles(category.test)
    first, second = np.flatnonzero(~category.test_labels)[:2]
    params = SemiSupervisedParams.from_dict(fast_params)
    growing = SemiSupervisedPatchCore(params, "cpu", bank=GrowingBank())
    growing.fit(train)
    unsupervised = growing.predict(test)  # remembered before the bank grows
    growing.add_normals([test[first]], np.array([100]))
    growing.add_normals([test[second]], np.array([101]))
    fresh = SemiSupervisedPatchCore(growing.params, "cpu")  # with the canvas its fit chose
    fresh.bank.reset(growing.memory_bank.clone(), growing.bank_sources.clone())

    expected, got = fresh.predict(test), growing.predict(test)

    assert np.allclose(got.scores, expected.scores)
    assert got.nearest_normal.tolist() == expected.nearest_normal.tolist()
    assert got.nearest_normal[[first, second]].tolist() == [100, 101]  # each is its own nearest normal
    growing.bank.truncate(1)
    assert np.allclose(growing.predict(test).scores, unsupervised.scores)


def test_the_command_prints_the_table_writes_json_and_plot_and_repeats_random_order(
    simulated, shared_mvtec_folder, fast_params, tmp_path, capsys
):
    out, plot = tmp_path / "out" / "sim.json", tmp_path / "out" / "sim.png"
    params = [f"--param={name}={value}" for name, value in fast_params.items() if name != "image_size"]
    call_command(
        "simulate_active_learning",
        "--data",
        str(shared_mvtec_folder),
        "--rounds",
        "2",
        "--per-round",
        "2",
        "--strategies",
        "active,random",
        "--seeds",
        "1",
        "--image-size",
        "64",
        *params,
        "--device",
        "cpu",
        "--json",
        str(out),
        "--plot",
        str(plot),
        "--no-progress",
    )
    printed = capsys.readouterr().out
    table_rows = re.findall(r"^\s*(\d+)\s+(\d+) active ", printed, re.MULTILINE)
    assert table_rows == [("0", "0"), ("1", "2"), ("2", "4")]
    assert "active reaches random's final AUPRO" in printed
    assert plot.read_bytes().startswith(PNG_SIGNATURE)
    # The same seed picks the same images in random order, and the model learns the same from them.
    [again] = [run for run in json.loads(out.read_text())["runs"] if run["strategy"] == "random"]
    [before] = [run for run in simulated["runs"] if run["strategy"] == "random" and run["seed"] == 1]
    assert again["labeled"] == before["labeled"]
    assert again["curve"][-1]["aupro"] == pytest.approx(before["curve"][-1]["aupro"])


def test_the_command_names_the_problem(shared_mvtec_folder):
    with pytest.raises(CommandError, match="unknown strategy"):
        call_command("simulate_active_learning", "--data", str(shared_mvtec_folder), "--strategies", "smart")
    with pytest.raises(CommandError, match="pool images"):
        call_command(
            "simulate_active_learning",
            "--data",
            str(shared_mvtec_folder),
            "--rounds",
            "20",
            "--image-size",
            "64",
        )
