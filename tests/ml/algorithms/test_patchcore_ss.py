import json

import numpy as np
import pytest
from django.core.management import call_command

from inference.ml.algorithms import LabeledImage, Scribble, get_algorithm, load_algorithm
from inference.ml.algorithms.labels import cell_coverage
from inference.ml.algorithms.patchcore_ss.labels import patch_targets, valid_cells
from inference.ml.experiments.fewshot import few_label_benchmark, mask_to_label
from inference.ml.metrics import evaluate
from inference.ml.preprocessing import PreprocessConfig
from inference.ml.synthetic import DEFECT_KINDS, add_defect, normal_texture

# A small head, trained briefly, keeps these tests fast.
HEAD = {"normal_images": 8, "stats_images": 4, "synthetic_images": 6, "head_hidden": 64, "head_steps": 100}
# 64 px canvases of 8 px cells: an 8 x 8 grid whose cell (r, c) covers rows 8r..8r+7, columns 8c..8c+7.
CONFIG = PreprocessConfig(image_size=64)
IMAGE = np.full((64, 64), 128, np.uint8)


def targets_of(label, unsupervised=None, **options):
    coverage, views = cell_coverage(label, CONFIG, 8)
    assert len(views) == 1 and coverage.shape == (1, 8, 8)
    valid = np.ones((1, 8, 8), bool)
    targets, weights = patch_targets(label, coverage, valid, unsupervised, **options)
    return targets[0], weights[0]


def cells(*positions):
    grid = np.zeros((8, 8), bool)
    for row, col in positions:
        grid[row, col] = True
    return grid


def test_mask_cells_are_defects_ringed_by_ignored_cells_in_a_normal_image():
    mask = np.zeros((64, 64), bool)
    mask[8:16, 9:12] = True  # inside cell (1, 1)
    targets, weights = targets_of(LabeledImage(IMAGE, "mask", mask=mask))
    np.testing.assert_array_equal(targets, cells((1, 1)))
    ring = np.zeros((8, 8), bool)
    ring[0:3, 0:3] = True
    np.testing.assert_array_equal(weights, np.where(ring & ~cells((1, 1)), 0.0, 1.0))


def test_box_cells_are_less_confident_defects():
    label = LabeledImage(IMAGE, "box", boxes=((16, 8, 16, 8),))  # x 16..31, y 8..15: cells (1, 2), (1, 3)
    targets, weights = targets_of(label, box_weight=0.5)
    np.testing.assert_array_equal(targets, cells((1, 2), (1, 3)))
    assert weights[1, 2] == weights[1, 3] == 0.5
    assert (weights[0:3, 1:5][~cells((1, 2), (1, 3))[0:3, 1:5]] == 0).all()  # the ring
    assert weights[4:, :].min() == 1 and weights[:, 6:].min() == 1 and targets.sum() == 2


def test_scribbles_and_points_mark_only_the_cells_they_touch():
    stroke = Scribble(points=((4.0, 36.0), (59.0, 36.0)), width=2.0)  # rows 35..37: grid row 4
    targets, weights = targets_of(LabeledImage(IMAGE, "scribble", scribbles=(stroke,)))
    row_four = np.zeros((8, 8), bool)
    row_four[4] = True
    np.testing.assert_array_equal(targets, row_four)
    np.testing.assert_array_equal(weights, row_four.astype(np.float32))

    targets, weights = targets_of(LabeledImage(IMAGE, "point", points=((20.0, 44.0),)))
    np.testing.assert_array_equal(targets, cells((5, 2)))
    np.testing.assert_array_equal(weights, cells((5, 2)).astype(np.float32))


def test_image_label_takes_the_most_anomalous_cells_and_normal_hard_says_all_are_normal():
    scores = np.zeros((1, 8, 8), np.float32)
    scores[0, 6, 1], scores[0, 2, 7], scores[0, 0, 0] = 5.0, 4.0, 3.0
    targets, weights = targets_of(LabeledImage(IMAGE, "image"), scores, mil_fraction=2 / 64)
    np.testing.assert_array_equal(targets, cells((6, 1), (2, 7)))
    np.testing.assert_array_equal(weights, cells((6, 1), (2, 7)).astype(np.float32))
    with pytest.raises(ValueError, match="unsupervised scores"):
        targets_of(LabeledImage(IMAGE, "image"))

    targets, weights = targets_of(LabeledImage(IMAGE, "normal_hard"))
    assert targets.sum() == 0 and weights.min() == 1


def test_letterboxed_labels_follow_the_image_geometry():
    # A 32 x 64 image (scale 1) fills the canvas's top half; the mirrored bottom half is ignored.
    wide = np.full((32, 64), 128, np.uint8)
    label = LabeledImage(wide, "point", points=((60.0, 20.0),))
    coverage, views = cell_coverage(label, CONFIG, 8)
    valid = valid_cells(views, (8, 8), 64)
    assert valid[0, :4].all() and not valid[0, 4:].any()
    targets, _ = patch_targets(label, coverage, valid)
    np.testing.assert_array_equal(targets[0], cells((2, 7)))
    _, weights = patch_targets(LabeledImage(wide, "normal_hard"), coverage, valid)
    np.testing.assert_array_equal(weights > 0, valid)


def test_labels_are_checked():
    with pytest.raises(ValueError, match="unknown label kind"):
        LabeledImage(IMAGE, "polygon")
    with pytest.raises(ValueError, match="mask of the image's shape"):
        LabeledImage(IMAGE, "mask", mask=np.zeros((8, 8), bool))
    with pytest.raises(ValueError, match="at least one box"):
        LabeledImage(IMAGE, "box")
    with pytest.raises(ValueError, match="image_score"):
        get_algorithm("patchcore_ss", image_score="reweighted")


@pytest.fixture(scope="module")
def labeled_defects():
    """Defective images with masks, apart from the test set."""
    rng = np.random.default_rng(11)
    out = []
    for i in range(5):
        image, mask, _ = add_defect(normal_texture(rng, 96), rng, DEFECT_KINDS[i])
        out.append((image, mask))
    return out


def quality(model, category):
    predictions = model.predict(category["test"])
    return evaluate(
        predictions.scores, np.array(category["labels"]), predictions.anomaly_maps, category["masks"]
    )


def test_without_defect_labels_the_model_is_patchcore(synthetic_category, small_params):
    params = small_params(coreset_ratio=0.1, image_score="map_top")
    patchcore = get_algorithm("patchcore", device="cpu", **params)
    patchcore.fit(synthetic_category["train"][:8])
    expected = patchcore.predict(synthetic_category["test"][:6])
    for labeled in ((), []):
        model = get_algorithm("patchcore_ss", device="cpu", **params)
        model.fit(synthetic_category["train"][:8], labeled=labeled)
        got = model.predict(synthetic_category["test"][:6])
        np.testing.assert_array_equal(got.scores, expected.scores)
        np.testing.assert_array_equal(got.nearest_normal, expected.nearest_normal)
        for a, b in zip(got.anomaly_maps, expected.anomaly_maps, strict=True):
            np.testing.assert_array_equal(a, b)


def test_labels_improve_on_patchcore_and_survive_save_and_load(
    tmp_path, synthetic_category, small_params, labeled_defects
):
    params = small_params(coreset_ratio=0.1, **HEAD)
    unsupervised = get_algorithm("patchcore_ss", device="cpu", **params)
    unsupervised.fit(synthetic_category["train"])
    baseline = quality(unsupervised, synthetic_category)

    model = get_algorithm("patchcore_ss", device="cpu", **params)
    calls = []
    labels = [LabeledImage(image, "mask", mask=mask) for image, mask in labeled_defects]
    report = model.fit(synthetic_category["train"], labeled=labels, progress=lambda *a: calls.append(a))
    assert report.details["head_positive_patches"] > 0
    assert {"features", "coreset", "labels", "head"} <= {stage for stage, _, _ in calls}
    assert calls[-1][0] == "head" and calls[-1][1] == calls[-1][2]
    learned = quality(model, synthetic_category)
    assert learned["image_auroc"] >= baseline["image_auroc"]
    assert learned["aupro"] > baseline["aupro"] and learned["pixel_auroc"] > baseline["pixel_auroc"]

    before = model.predict(synthetic_category["test"][:4])
    model.save(tmp_path / "model")
    assert json.loads((tmp_path / "model" / "model.json").read_text())["algorithm"] == "patchcore_ss"
    loaded = load_algorithm(tmp_path / "model", device="cpu")
    after = loaded.predict(synthetic_category["test"][:4])
    np.testing.assert_array_equal(before.scores, after.scores)
    for a, b in zip(before.anomaly_maps, after.anomaly_maps, strict=True):
        np.testing.assert_array_equal(a, b)


def test_weak_labels_also_help_and_training_is_deterministic(
    synthetic_category, small_params, labeled_defects
):
    params = small_params(coreset_ratio=0.1, **HEAD)
    model = get_algorithm("patchcore_ss", device="cpu", **params)
    model.fit(synthetic_category["train"])
    baseline = quality(model, synthetic_category)
    heads = {}
    for kind in ("box", "point", "image"):
        model.fit_head(
            synthetic_category["train"], [mask_to_label(image, mask, kind) for image, mask in labeled_defects]
        )
        heads[kind] = model.state_tensors()
        learned = quality(model, synthetic_category)
        assert learned["image_auroc"] >= baseline["image_auroc"], kind
        assert learned["aupro"] > baseline["aupro"] and learned["pixel_auroc"] > baseline["pixel_auroc"], kind
    model.fit_head(synthetic_category["train"], [mask_to_label(i, m, "box") for i, m in labeled_defects])
    again = model.state_tensors()
    assert again.keys() == heads["box"].keys()
    assert all(again[name].equal(heads["box"][name]) for name in again)


def test_a_reviewed_false_positive_is_not_flagged_again(synthetic_category, small_params):
    rng = np.random.default_rng(5)
    odd = normal_texture(rng, 96, style="woven")  # normal, but unlike the brushed training images
    params = small_params(coreset_ratio=0.1)
    model = get_algorithm("patchcore_ss", device="cpu", **params)
    model.fit(synthetic_category["train"])
    normal_scores = model.predict(synthetic_category["test"][::2]).scores
    flagged = model.predict([odd]).scores[0]
    assert flagged > normal_scores.max()

    model.fit(synthetic_category["train"], labeled=[LabeledImage(odd, "normal_hard")])
    again = model.predict([odd, *synthetic_category["test"][::2]])
    assert again.scores[0] < normal_scores.min()
    assert again.nearest_normal[0] == len(synthetic_category["train"])  # the hard normal itself
    np.testing.assert_allclose(again.scores[1:], normal_scores, rtol=0.2)


def test_few_label_benchmark_and_command(mvtec_folder, tmp_path):
    params = {**HEAD, "image_size": 64, "coreset_ratio": 0.1, "head_steps": 20}
    results = few_label_benchmark(
        mvtec_folder, 3, ("mask", "point"), seed=1, params=params, device="cpu", show_progress=False
    )
    [category] = results["categories"]
    assert category["n_eval"] == 21 and len(category["labeled"]) == 3
    assert list(category["variants"]) == ["patchcore", "mask", "point"]
    assert set(results["mean"]["mask"]) >= {"image_auroc", "pixel_auroc", "aupro"}
    with pytest.raises(ValueError, match="must leave some"):
        few_label_benchmark(mvtec_folder, 12, params=params, device="cpu", show_progress=False)

    out = tmp_path / "few.json"
    call_command(
        "benchmark",
        *("--data", str(mvtec_folder), "--few-labels", "2", "--label-kinds", "image", "--image-size", "64"),
        *("--param", "head_steps=10", "--param", "synthetic_images=2", "--device", "cpu"),
        *("--json", str(out), "--no-progress"),
    )
    written = json.loads(out.read_text())
    assert list(written["mean"]) == ["patchcore", "image"] and written["n_labeled"] == 2
