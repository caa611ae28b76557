import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from inference.ml.algorithms import get_algorithm, load_algorithm
from inference.ml.defect_types import DefectTypeClassifier, type_confusion
from inference.ml.synthetic import add_defect, normal_texture


def test_the_confusion_matrix_counts_true_types_by_predicted_ones():
    result = type_confusion(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert result["types"] == ["a", "b", "c"]
    assert result["matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert result["accuracy_by_type"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert result["accuracy"] == 0.5 and result["balanced_accuracy"] == pytest.approx(0.5)


def _typed_plates(count: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    images, masks, types = [], [], []
    for index in range(count):
        kind = ("stain", "scratch")[index % 2]
        image, mask, _ = add_defect(normal_texture(rng, 96), rng, kind=kind)
        images.append(image)
        masks.append(mask)
        types.append(kind)
    return images, masks, types


def test_defect_types_are_told_apart_from_the_features_under_their_regions():
    images, masks, types = _typed_plates(24)
    detector = get_algorithm("patchcore", device="cpu", image_size=96, batch_size=8)
    detector.choose_canvas(images)
    descriptors = np.concatenate(detector.region_descriptors(images, [[mask] for mask in masks]))
    assert descriptors.shape == (24, detector.extractor.dim)
    classifier = DefectTypeClassifier.fit(descriptors[:12], types[:12])
    result = type_confusion(types[12:], classifier.predict(descriptors[12:]))
    assert result["balanced_accuracy"] >= 0.8
    again = DefectTypeClassifier.from_dict(classifier.to_dict())
    np.testing.assert_allclose(again.probabilities(descriptors), classifier.probabilities(descriptors))
    with pytest.raises(ValueError, match="at least two types"):
        DefectTypeClassifier.fit(descriptors[:4], ["stain"] * 4)
    with pytest.raises(ValueError, match="marks at least one pixel"):
        detector.region_descriptors(images[:1], [[np.zeros((96, 96), bool)]])


def test_several_regions_of_one_image_get_their_own_descriptors_in_one_pass():
    images, masks, _ = _typed_plates(2)
    detector = get_algorithm("patchcore", device="cpu", image_size=96, batch_size=8)
    detector.choose_canvas(images)
    [alone] = detector.region_descriptors(images[:1], [[masks[0]]])
    [both, none] = detector.region_descriptors(images, [[masks[0], ~masks[0]], []])
    np.testing.assert_allclose(both[0], alone[0], atol=1e-4)  # batch numerics
    assert both.shape == (2, detector.extractor.dim) and none.shape == (0, detector.extractor.dim)
    assert not np.allclose(both[0], both[1])


def test_a_fitted_detector_names_the_type_of_regions_and_keeps_its_head_when_saved(tmp_path):
    images, masks, types = _typed_plates(28, seed=3)
    detector = get_algorithm("patchcore", device="cpu", image_size=96, batch_size=8)
    with pytest.raises(RuntimeError, match="no defect types"):
        detector.region_types(images[:1], [[masks[0]]])
    detector.fit(images[:4])
    with pytest.raises(ValueError, match="at least two types"):
        detector.fit_defect_types(images[:2], [[masks[0]], [masks[2]]], [["stain"], ["stain"]])
    with pytest.raises(ValueError, match="exactly one type"):
        detector.fit_defect_types(images[:2], [[masks[0]], [masks[1]]], [["stain"], []])
    learned = detector.fit_defect_types(images[:16], [[m] for m in masks[:16]], [[t] for t in types[:16]])
    assert learned == 16
    named = detector.region_types(images[16:], [[m] for m in masks[16:]])
    predicted = [kinds[0][0] for kinds in named]
    assert type_confusion(types[16:], predicted)["balanced_accuracy"] >= 0.8
    assert all(0.5 <= kinds[0][1] <= 1.0 for kinds in named)  # the winner of two types

    detector.save(tmp_path)
    loaded = load_algorithm(tmp_path, device="cpu")
    again = loaded.region_types(images[16:], [[m] for m in masks[16:]])
    assert [kinds[0][0] for kinds in again] == predicted
    np.testing.assert_allclose([kinds[0][1] for kinds in again], [kinds[0][1] for kinds in named], atol=1e-6)
    plain = get_algorithm("patchcore", device="cpu", image_size=96, batch_size=8)
    plain.fit(images[:4])
    plain.save(tmp_path / "plain")
    assert load_algorithm(tmp_path / "plain", device="cpu").defect_types is None


def test_the_benchmark_reports_per_type_accuracy_on_a_dataset_with_several_types(tmp_path, capsys):
    rng = np.random.default_rng(1)
    root = tmp_path / "plates" / "plate"
    (root / "train" / "good").mkdir(parents=True)
    for index in range(4):
        Image.fromarray(normal_texture(rng, 96)).save(root / "train" / "good" / f"{index}.png")
    for kind in ("stain", "scratch"):
        (root / "test" / kind).mkdir(parents=True)
        (root / "ground_truth" / kind).mkdir(parents=True)
        for index in range(8):
            image, mask, _ = add_defect(normal_texture(rng, 96), rng, kind=kind)
            Image.fromarray(image).save(root / "test" / kind / f"{index}.png")
            Image.fromarray((mask * 255).astype(np.uint8)).save(
                root / "ground_truth" / kind / f"{index}_mask.png"
            )
    out = tmp_path / "types.json"

    call_command(
        "benchmark",
        "--data",
        str(tmp_path / "plates"),
        "--defect-types",
        "--image-size",
        "96",
        "--device",
        "cpu",
        "--json",
        str(out),
        "--no-progress",
    )

    [category] = json.loads(out.read_text())["datasets"][0]["categories"]
    assert category["n_train"] == 8 and category["n_test"] == 8 and category["types"] == ["scratch", "stain"]
    assert sum(map(sum, category["matrix"])) == 8
    assert "plates/plate: balanced accuracy" in capsys.readouterr().out
