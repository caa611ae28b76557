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
from inference.ml.export.assembly import ImageVerdict, resize, stitch
from inference.ml.export.bundle import sha256_of
from inference.ml.export.manifest import image_score_rule
from inference.ml.export.parity import RUNNER, measure_parity, runner
from inference.ml.postprocess import extract_regions
from inference.ml.preprocessing import PreprocessConfig, _tile_starts, image_views
from inference.ml.preprocessing import stitch as preprocessing_stitch
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
    graph = onnx.load(str(tmp_path / "model.onnx"))
    # The graph itself gives the verdict, not only maps for a runner to score.
    assert [o.name for o in graph.graph.output] == ["anomaly_map", "score", "normalized_score", "decision"]
    props = {p.key: p.value for p in graph.metadata_props}
    assert json.loads(props["loupe_manifest"])["canvas"] == manifest["canvas"]
    if algorithm == "patchcore_ss":
        assert detector.head is not None  # the head and fusion are in the graph, not dropped

    # The shipped runner's verdicts are Loupe's: decisions, regions, normalised scores.
    inspector = runner().Inspector(tmp_path)
    for index, (_map, verdict) in enumerate(inspector.inspect(images["test"])):
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


@pytest.mark.slow
def test_the_python_runner_batches_consecutive_images_of_one_shape(tmp_path, images):
    detector, _predicted, rule = fitted(images, "patchcore", preprocess_mode="tile", tile_scale=1.0)
    export_model(detector, tmp_path, rule=rule, provenance={}, parity_images=images["test"][:1])
    batched = runner().Inspector(tmp_path, batch_size=16)
    forward, shapes = batched.forward, []
    batched.forward = lambda inputs: shapes.append(inputs["canvases"].shape[:2]) or forward(inputs)
    together = list(batched.inspect(images["test"]))
    # Six 96 x 128 images of two tiles each, then three of other shapes or (16-bit) not consecutive.
    assert shapes == [(6, 2), (1, 3), (1, 1), (1, 2)]
    alone = list(runner().Inspector(tmp_path, batch_size=1).inspect(images["test"]))
    for (map_a, verdict_a), (map_b, verdict_b) in zip(together, alone, strict=True):
        np.testing.assert_allclose(map_a, map_b, atol=1e-6)
        assert verdict_a["decision"] == verdict_b["decision"]
        assert verdict_a["normalized_score"] == pytest.approx(verdict_b["normalized_score"], abs=1e-6)


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


@pytest.mark.parametrize(
    ("source", "target"), [((40, 60), (100, 130)), ((96, 96), (60, 200)), ((50, 70), (50, 70))]
)
def test_the_graphs_map_resize_is_torchs_bilinear(source, target):
    maps = torch.from_numpy(np.random.default_rng(1).random((2, *source), dtype=np.float32))
    expected = F.interpolate(maps[:, None], size=target, mode="bilinear", align_corners=False)[:, 0]
    resized = resize(maps, torch.tensor(source), torch.tensor(target))
    torch.testing.assert_close(resized, expected, atol=1e-5, rtol=0)


@pytest.mark.parametrize(("shape", "scale"), [((200, 130), 1.0), ((300, 500), 0.5), ((60, 200), 1.0)])
def test_the_graph_stitches_tiles_as_the_platform_does(shape, scale):
    config = PreprocessConfig(image_size=96, mode="tile", tile_scale=scale, tile_overlap=16)
    views = [view for _canvas, view in image_views(np.zeros((*shape, 3), np.float32), 0, config)]
    rng = np.random.default_rng(2)
    maps = [rng.random((96, 96), dtype=np.float32) for _ in views]
    places = torch.tensor([[*v.valid, *v.offset] for v in views], dtype=torch.float32)
    scaled = torch.tensor(views[0].scaled_shape)
    stitched = resize(
        stitch(torch.from_numpy(np.stack(maps))[None], places, scaled), scaled, torch.tensor(shape)
    )
    np.testing.assert_allclose(stitched[0].numpy(), preprocessing_stitch(maps, views), atol=1e-6)


@pytest.mark.parametrize(
    "params",
    [
        {"image_score": "peak_or_mean"},
        {"image_score": "map_max"},
        {"image_score": "map_top", "map_top_fraction": 0.03},
    ],
)
def test_the_graphs_verdict_is_the_platforms(images, params):
    detector, predicted, rule = fitted(images, "patchcore", **params)
    verdict = ImageVerdict(image_score_rule(detector), rule)
    for anomaly_map, score in zip(predicted.anomaly_maps, predicted.scores, strict=True):
        got, normalized, defective = verdict(
            torch.from_numpy(anomaly_map)[None], torch.tensor(anomaly_map.shape)
        )
        assert float(got[0]) == pytest.approx(float(score), abs=1e-5)
        assert float(normalized[0]) == pytest.approx(float(rule.normalizer(float(score))), abs=1e-6)
        assert bool(defective[0]) == (float(score) >= rule.threshold)


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
