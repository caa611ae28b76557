"""The C++ line-side runner (deploy/cpp, ``loupe-inspect``) against the detector it was exported from.

The program is built with CMake against the OpenVINO runtime inside the ``openvino`` wheel. Without
cmake or a C++ compiler these tests skip, unless ``LOUPE_REQUIRE_CPP=1`` (as in CI), where they fail.
``LOUPE_CPP_BUILD_DIR`` names a build folder to reuse; by default each session builds afresh.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

MIN_AREA = 16


def _tail(completed: subprocess.CompletedProcess) -> str:
    return (completed.stdout + completed.stderr)[-4000:]


def _save(directory: Path, name: str, pixels: np.ndarray) -> Path:
    path = directory / name
    Image.fromarray(pixels).save(path)
    return path


@pytest.fixture(scope="module")
def images(tmp_path_factory):
    """Test PNGs (normal and defective, 8-bit grey, a 16-bit grey, a colour and a non-square one), their
    labels, and training images."""
    from inference.ml.synthetic import add_defect, normal_texture

    rng = np.random.default_rng(12)
    directory = tmp_path_factory.mktemp("cpp-images")
    train = [normal_texture(rng, (72, 96)) for _ in range(4)]
    defective = [add_defect(normal_texture(rng, (72, 96)), rng)[0] for _ in range(3)]
    cases = [
        ("normal0.png", normal_texture(rng, (72, 96)), 0),
        ("normal1.png", normal_texture(rng, (72, 96)), 0),
        ("defect0.png", defective[0], 1),
        ("defect1.png", defective[1], 1),
        ("wide.png", normal_texture(rng, (40, 150)), 0),
        ("colour.png", normal_texture(rng, (60, 80), color=True), 0),
        ("defect16.png", defective[2].astype(np.uint16) * 257, 1),
    ]
    paths = [_save(directory, name, pixels) for name, pixels, _ in cases]
    assert Image.open(paths[-1]).mode.startswith("I"), "the 16-bit image must stay 16-bit"
    return train, paths, [label for _, _, label in cases]


def _gap_threshold(maps: list[np.ndarray], percentile: float = 97.0) -> float:
    """A pixel threshold near the percentile, halfway across the widest gap between map values there, so a
    runtime's rounding cannot move a pixel across it."""
    values = np.unique(np.concatenate([m.ravel() for m in maps]).astype(np.float64))
    rank = int(np.searchsorted(values, np.percentile(values, percentile)))
    low, high = max(1, rank - len(values) // 50), min(len(values) - 1, rank + len(values) // 50)
    gaps = values[low : high + 1] - values[low - 1 : high]
    best = low + int(np.argmax(gaps))
    return float((values[best - 1] + values[best]) / 2)


def _export(directory: Path, images, **params):
    """Fit a small PatchCore, export it; the detector's own verdicts on the test images with it."""
    from inference.ml.algorithms import get_algorithm
    from inference.ml.export import DecisionRule, export_model
    from inference.ml.thresholds import ScoreNormalizer, f1_optimal_threshold

    train, paths, labels = images
    detector = get_algorithm("patchcore", device="cpu", image_size=96, **params)
    detector.fit(train)
    opened = [Image.open(path) for path in paths]
    prediction = detector.predict(opened)
    threshold = f1_optimal_threshold(prediction.scores, labels)
    rule = DecisionRule(
        threshold=threshold,
        normalizer=ScoreNormalizer.fit(prediction.scores, threshold),
        pixel_threshold=_gap_threshold(list(prediction.anomaly_maps)),
        min_region_area=MIN_AREA,
    )
    result = export_model(
        detector, directory, rule=rule, provenance={"version_id": 1}, parity_images=opened[:1]
    )
    assert result.passed, result.failures
    return rule, prediction


@pytest.fixture(scope="module", params=["letterbox", "tile"])
def exported(request, images, tmp_path_factory):
    params = {"preprocess_mode": "tile", "tile_scale": 1.0} if request.param == "tile" else {}
    directory = tmp_path_factory.mktemp(f"cpp-export-{request.param}")
    rule, prediction = _export(directory, images, **params)
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["canvas"]["mode"] == request.param
    return directory, rule, prediction


def _inspect(program: Path, *args: object) -> subprocess.CompletedProcess:
    return subprocess.run([str(program), *map(str, args)], capture_output=True, text=True, timeout=120)


def test_the_program_gives_the_detectors_verdicts(loupe_inspect, exported, images):
    from inference.ml.postprocess import extract_regions

    directory, rule, prediction = exported
    _, paths, _ = images
    completed = _inspect(loupe_inspect, directory, *paths)
    assert completed.returncode == 0, _tail(completed)
    lines = [json.loads(line) for line in completed.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(path) for path in paths]
    flagged = 0
    for line, score, anomaly_map in zip(lines, prediction.scores, prediction.anomaly_maps, strict=True):
        assert line["decision"] == ("defective" if score >= rule.threshold else "normal"), line["image"]
        assert line["normalized_score"] == pytest.approx(rule.normalizer(float(score)), abs=1e-4), line[
            "image"
        ]
        expected = [
            region.to_dict() for region in extract_regions(anomaly_map, rule.pixel_threshold, MIN_AREA)
        ]
        assert [{k: v for k, v in r.items() if k != "peak"} for r in line["regions"]] == [
            {k: v for k, v in r.items() if k != "peak"} for r in expected
        ], line["image"]
        for got, want in zip(line["regions"], expected, strict=True):
            assert got["peak"] == pytest.approx(want["peak"], rel=1e-4, abs=1e-4)
        flagged += bool(expected)
    assert flagged, "no image has a flagged region: the region check would prove nothing"
    assert {line["decision"] for line in lines} == {"normal", "defective"}


def test_the_batch_size_and_fp16_change_nothing_that_matters(loupe_inspect, exported, images):
    directory, _, _ = exported
    _, paths, _ = images
    runs = [
        _inspect(loupe_inspect, directory, *paths, *options)
        for options in ([], ["--batch-size", "1"], ["--fp16"])
    ]
    assert all(run.returncode == 0 for run in runs), [_tail(run) for run in runs]
    default, single, fp16 = ([json.loads(line) for line in run.stdout.splitlines()] for run in runs)
    for a, b, c in zip(default, single, fp16, strict=True):
        assert a["decision"] == b["decision"] and a["normalized_score"] == pytest.approx(
            b["normalized_score"], abs=1e-5
        )
        assert a["normalized_score"] == pytest.approx(c["normalized_score"], abs=1e-2)


def test_a_missing_image_is_an_error_with_a_message(loupe_inspect, exported, tmp_path):
    directory, _, _ = exported
    missing = tmp_path / "no-such-image.png"
    completed = _inspect(loupe_inspect, directory, missing)
    assert completed.returncode != 0
    assert str(missing) in completed.stderr and "cannot read image" in completed.stderr


def test_a_folder_that_is_no_export_is_an_error_with_a_message(loupe_inspect, tmp_path):
    (tmp_path / "manifest.json").write_text(json.dumps({"format": "something-else", "format_version": 1}))
    image = _save(tmp_path, "image.png", np.zeros((8, 8), np.uint8))
    completed = _inspect(loupe_inspect, tmp_path, image)
    assert completed.returncode != 0
    assert "not a Loupe export" in completed.stderr
