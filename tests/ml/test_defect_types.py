import json

import numpy as np
import pytest
from django.core.management import call_command
from PIL import Image

from inference.ml.algorithms import get_algorithm
from inference.ml.defect_types import DefectTypeClassifier, region_descriptors, type_confusion
from inference.ml.synthetic import add_defect, normal_texture


def test_the_confusion_matrix_counts_true_types_by_predicted_ones():
    result = type_confusion(["a", "a", "b", "c"], ["a", "b", "b", "b"])
    assert result["types"] == ["a", "b", "c"]
    assert result["matrix"] == [[1, 1, 0], [0, 1, 0], [0, 1, 0]]
    assert result["accuracy_by_type"] == {"a": 0.5, "b": 1.0, "c": 0.0}
    assert result["accuracy"] == 0.5 and result["balanced_accuracy"] == pytest.approx(0.5)


def test_defect_types_are_told_apart_from_the_features_under_their_regions():
    rng = np.random.default_rng(0)
    images, masks, types = [], [], []
    for index in range(24):
        kind = ("stain", "scratch")[index % 2]
        image, mask, _ = add_defect(normal_texture(rng, 96), rng, kind=kind)
        images.append(image)
        masks.append(mask)
        types.append(kind)
    detector = get_algorithm("patchcore", device="cpu", image_size=96, batch_size=8)
    detector.choose_canvas(images)
    descriptors = region_descriptors(detector, images, masks)
    assert descriptors.shape == (24, detector.extractor.dim)
    classifier = DefectTypeClassifier.fit(descriptors[:12], types[:12])
    result = type_confusion(types[12:], classifier.predict(descriptors[12:]))
    assert result["balanced_accuracy"] >= 0.8
    again = DefectTypeClassifier.from_dict(classifier.to_dict())
    np.testing.assert_allclose(again.probabilities(descriptors), classifier.probabilities(descriptors))
    with pytest.raises(ValueError, match="at least two types"):
        DefectTypeClassifier.fit(descriptors[:4], ["stain"] * 4)
    with pytest.raises(ValueError, match="marks at least one pixel"):
        region_descriptors(detector, images[:1], [np.zeros((96, 96), bool)])


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
