"""Export: the graph, the manifest, the Python runner, and parity against the detector's own predict."""

import json
import subprocess
import sys

import numpy as np
import onnx
import pytest
import torch
import torch.nn.functional as F
from onnx import numpy_helper
from PIL import Image

from inference.ml.algorithms import LabeledImage, get_algorithm
from inference.ml.export import PARITY_TOLERANCE, DecisionRule, export_model
from inference.ml.export.bundle import sha256_of
from inference.ml.export.parity import RUNNER, measure_parity, runner
from inference.ml.postprocess import extract_regions
from inference.ml.preprocessing import _tile_starts
from inference.ml.synthetic import add_defect, normal_texture
from inference.ml.thresholds import ScoreNormalizer, f1_optimal_threshold


@pytest.fixture(scope="module")
def images():
    """Normal training images, and test images of several shapes and depths, half defective."""
    rng = np.random.default_rng(3)
    train = [normal_texture(rng, (96, 128)) for _ in range(6)]
    test = [normal_texture(rng, (96, 128)) for _ in range(3)]
    test += [add_defect(normal_texture(rng, (96, 128)), rng)[0] for _ in range(3)]
    test += [normal_texture(rng, (60, 200)), normal_texture(rng, (80, 90), color=True)]
    test.append(Image.fromarray(test[0].astype(np.uint16) * 257))  # 16-bit grey
    labels = [0, 0, 0, 1, 1, 1, 0, 0, 0]
    defect, mask, _ = add_defect(normal_texture(rng, (96, 128)), rng)
    return {
        "train": train,
        "test": test,
        "labels": labels,
        "labeled": [LabeledImage(defect, "mask", mask=mask)],
    }


def fitted(images, algorithm: str, **params):
    detector = get_algorithm(algorithm, device="cpu", image_size=96, batch_size=8, **params)
    detector.fit(images["train"], labeled=images["labeled"] if algorithm == "patchcore_ss" else ())
    predicted = detector.predict(images["test"])
    threshold = f1_optimal_threshold(predicted.scores, images["labels"])
    pixels = np.concatenate([m.ravel() for m in predicted.anomaly_maps])
    rule = DecisionRule(
        threshold=threshold,
        normalizer=ScoreNormalizer.fit(predicted.scores, threshold),
        pixel_threshold=float(np.percentile(pixels, 97)),
    )
    return detector, predicted, rule


@pytest.mark.slow
@pytest.mark.parametrize(
    ("algorithm", "params"),
    [
        ("patchcore", {}),
        ("padim", {}),
        ("patchcore_ss", {}),
        ("patchcore", {"preprocess_mode": "tile", "tile_scale": 1.0}),
        ("patchcore", {"preprocess_mode": "resize", "normalize_intensity": True, "image_score": "map_top"}),
    ],
)
def test_export_matches_the_detector_on_every_runtime(tmp_path, images, algorithm, params):
    detector, predicted, rule = fitted(images, algorithm, **params)
    result = export_model(
        detector, tmp_path, rule=rule, provenance={"version_id": 7}, parity_images=images["test"]
    )
    assert result.passed, result.failures
    assert {f.runtime for f in result.parity} == {"onnxruntime", "openvino_fp32", "openvino_fp16"}
    for figures in result.parity:
        assert figures.images == len(images["test"])
        if figures.runtime != "openvino_fp16":
            assert figures.max_score_diff <= PARITY_TOLERANCE and figures.flipped == 0
            assert figures.max_map_diff < 1e-4
    for name in ("model.onnx", "manifest.json", "openvino/model.xml", "openvino/model.bin"):
        assert (tmp_path / name).stat().st_size == result.sizes[name] > 0
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["model"]["sha256"] == sha256_of(tmp_path / "model.onnx")
    assert manifest["algorithm"] == algorithm and manifest["provenance"]["version_id"] == 7
    assert manifest["decision"]["threshold"] == rule.threshold
    assert manifest["canvas"]["mode"] == detector.params.preprocess_mode
    props = {p.key: p.value for p in onnx.load(str(tmp_path / "model.onnx")).metadata_props}
    assert json.loads(props["loupe_manifest"])["canvas"] == manifest["canvas"]
    if algorithm == "patchcore_ss":
        assert detector.head is not None  # the head and fusion are in the graph, not dropped

    # The shipped runner's verdicts are Loupe's: decisions, regions, normalised scores.
    inspector = runner().Inspector(tmp_path)
    for index, anomaly_map in enumerate(inspector.maps(images["test"])):
        verdict = inspector.verdict(anomaly_map)
        score = float(predicted.scores[index])
        assert verdict["decision"] == ("defective" if score >= rule.threshold else "normal")
        assert abs(verdict["normalized_score"] - float(rule.normalizer(score))) <= PARITY_TOLERANCE
        expected = extract_regions(predicted.anomaly_maps[index], rule.pixel_threshold, rule.min_region_area)
        assert [(r["x"], r["y"], r["width"], r["height"], r["area"]) for r in verdict["regions"]] == [
            (r.x, r.y, r.width, r.height, r.area) for r in expected
        ]


@pytest.mark.slow
def test_a_perturbed_graph_fails_parity_with_its_figures(tmp_path, images):
    detector, _predicted, rule = fitted(images, "patchcore")
    export_model(detector, tmp_path, rule=rule, provenance={}, parity_images=images["test"][:2])
    model = onnx.load(str(tmp_path / "model.onnx"))
    bank = next(t for t in model.graph.initializer if t.name.endswith("nearest.bank_0"))
    noisy = numpy_helper.to_array(bank) + np.float32(0.5)
    bank.CopyFrom(numpy_helper.from_array(noisy, bank.name))
    onnx.save(model, str(tmp_path / "model.onnx"))

    # The runner refuses a file that is not the one the manifest describes...
    with pytest.raises(ValueError, match="sha256"):
        runner().Inspector(tmp_path)
    # ...and parity, measured on the altered file, fails with its figures.
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    manifest["model"]["sha256"] = sha256_of(tmp_path / "model.onnx")
    (tmp_path / "manifest.json").write_text(json.dumps(manifest))
    [onnxruntime, *_] = measure_parity(detector, tmp_path, images["test"][:6], rule)
    assert onnxruntime.runtime == "onnxruntime" and not onnxruntime.passed
    assert onnxruntime.max_score_diff > PARITY_TOLERANCE
    assert "onnxruntime: normalised score differs by up to" in onnxruntime.sentence()


def test_a_model_whose_score_needs_the_bank_is_refused(tmp_path, images):
    detector = get_algorithm("patchcore", device="cpu", image_size=96, image_score="reweighted")
    detector.fit(images["train"][:2])
    rule = DecisionRule(threshold=1.0, normalizer=ScoreNormalizer(0.0, 1.0, 2.0), pixel_threshold=1.0)
    with pytest.raises(ValueError, match="reweighted"):
        export_model(detector, tmp_path, rule=rule, provenance={}, parity_images=images["test"][:1])
    assert not (tmp_path / "model.onnx").exists()


@pytest.mark.slow
def test_the_python_runner_needs_neither_django_nor_loupe_nor_torch(tmp_path, images):
    detector, predicted, rule = fitted(images, "patchcore")
    export_model(detector, tmp_path / "export", rule=rule, provenance={}, parity_images=images["test"][:1])
    paths = []
    for index in (0, 3):
        paths.append(tmp_path / f"{index}.png")
        Image.fromarray(images["test"][index]).save(paths[-1])
    blocker = (
        "import sys, runpy\n"
        "for name in ('django', 'inference', 'torch', 'scipy'): sys.modules[name] = None\n"
        f"sys.argv = ['loupe_inspect', {str(tmp_path / 'export')!r}, *{[str(p) for p in paths]!r}]\n"
        f"runpy.run_path({str(RUNNER)!r}, run_name='__main__')\n"
    )
    done = subprocess.run([sys.executable, "-c", blocker], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(p) for p in paths]
    for line, index in zip(lines, (0, 3), strict=True):
        score = float(predicted.scores[index])
        assert line["decision"] == ("defective" if score >= rule.threshold else "normal")
        assert abs(line["normalized_score"] - float(rule.normalizer(score))) <= PARITY_TOLERANCE
        assert set(line) == {"image", "score", "normalized_score", "decision", "regions"}

    missing = subprocess.run(
        [sys.executable, str(RUNNER), str(tmp_path / "export"), str(tmp_path / "missing.png")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert missing.returncode != 0 and "missing.png" in missing.stderr


@pytest.mark.parametrize(("source", "target"), [(460, 96), (96, 96), (60, 96), (1130, 320), (7, 3)])
def test_the_runners_resize_is_torchs_antialiased_bilinear(source, target):
    rng = np.random.default_rng(source)
    chw = rng.random((3, source, source + 5), dtype=np.float32)
    expected = F.interpolate(
        torch.from_numpy(chw)[None],
        size=(target, target + 1),
        mode="bilinear",
        align_corners=False,
        antialias=True,
    )[0].numpy()
    np.testing.assert_allclose(runner().resize_antialiased(chw, (target, target + 1)), expected, atol=1e-5)


@pytest.mark.parametrize(("source", "target"), [((40, 60), (100, 130)), ((96, 96), (60, 200))])
def test_the_runners_map_resize_is_torchs_bilinear(source, target):
    plane = np.random.default_rng(1).random(source, dtype=np.float32)
    expected = F.interpolate(
        torch.from_numpy(plane)[None, None], size=target, mode="bilinear", align_corners=False
    )
    np.testing.assert_allclose(runner().resize_bilinear(plane, target), expected[0, 0].numpy(), atol=1e-5)


def test_the_runners_regions_and_tiles_are_loupes():
    rng = np.random.default_rng(5)
    for _ in range(20):
        anomaly_map = rng.random((40, 50)).astype(np.float32)
        anomaly_map[rng.random((40, 50)) < 0.3] += 1.0  # speckle: many regions, diagonal contacts
        found = runner().regions(anomaly_map, 1.0, 3)
        expected = [r.to_dict() for r in extract_regions(anomaly_map, 1.0, 3)]
        assert found == expected
    for length, tile, overlap in [(1130, 320, 32), (320, 320, 32), (700, 256, 0), (257, 256, 128)]:
        assert runner().tile_starts(length, tile, overlap) == _tile_starts(length, tile, overlap)
