"""The torch-free catalogue: it agrees with the algorithms' own parameter classes, refuses bad values
with a message that says what is allowed, and imports neither torch nor NumPy."""

import dataclasses
import subprocess
import sys
from typing import get_args

import pytest

from inference.ml.algorithms import ALGORITHMS as REGISTRY
from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.base import PreprocessMode
from inference.ml.algorithms.patchcore.model import IMAGE_SCORES
from inference.ml.backbones import BACKBONES
from inference.ml.catalogue import ALGORITHMS, parameters_check


def test_the_catalogue_lists_every_algorithm_with_its_parameters_and_defaults():
    assert set(ALGORITHMS) == set(REGISTRY)
    for name, algorithm in ALGORITHMS.items():
        detector = get_algorithm(name, device="cpu")
        fields = {f.name: f.default for f in dataclasses.fields(detector.params_type)}
        described = {p.name: p.default for p in algorithm.parameters}
        assert described == fields, name
        assert algorithm.uses_labels == type(detector).uses_labels


def test_the_choices_are_the_libraries_own():
    for algorithm in ALGORITHMS.values():
        assert algorithm.parameter("backbone").choices == BACKBONES
        assert algorithm.parameter("preprocess_mode").choices == get_args(PreprocessMode)
    assert ALGORITHMS["patchcore"].parameter("image_score").choices == IMAGE_SCORES


def test_every_default_passes_its_own_check():
    for name, algorithm in ALGORITHMS.items():
        values = {p.name: p.default for p in algorithm.parameters if p.web and p.default is not None}
        checked = parameters_check(
            name, {k: list(v) if isinstance(v, tuple) else v for k, v in values.items()}
        )
        get_algorithm(name, device="cpu", **checked)  # and the algorithm takes them


@pytest.mark.parametrize(
    "values, message",
    [
        ({"image_size": "big"}, "image_size must be a multiple of 32 from 32 to 2048, got 'big'"),
        ({"image_size": True}, "image_size must be a multiple of 32"),
        ({"image_size": 10**30}, "image_size must be a multiple of 32 from 32 to 2048"),
        ({"image_size": 256.5}, "image_size must be a multiple of 32"),
        ({"image_size": 100}, "image_size must be a multiple of 32"),
        ({"coreset_ratio": 0}, "coreset_ratio must be a number above 0 to 1"),
        ({"coreset_ratio": float("nan")}, "coreset_ratio must be a number"),
        ({"blur_sigma": 1e308}, "blur_sigma must be a number from 0 to 64"),
        (
            {"image_score": "best"},
            "image_score must be one of 'peak_or_mean', 'reweighted', 'map_max', 'map_top'",
        ),
        ({"normalize_intensity": 1}, "normalize_intensity must be true or false"),
        ({"layers": "stage2"}, "layers must be a list of strings"),
        ({"head_steps": 10}, "unknown parameters ['head_steps'] for patchcore"),
        ({"weights_path": "/etc/passwd"}, "weights_path is set on the worker's command line"),
    ],
)
def test_a_bad_value_is_refused_saying_what_is_allowed(values, message):
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace("[", r"\[")):
        parameters_check("patchcore", values)


def test_good_values_come_back_typed():
    checked = parameters_check("patchcore_ss", {"image_size": 256.0, "head_lr": 1, "layers": ["stage2"]})

    assert checked == {"image_size": 256, "head_lr": 1.0, "layers": ["stage2"]}
    assert type(checked["image_size"]) is int and type(checked["head_lr"]) is float
    assert parameters_check("patchcore", {"weights_path": "/w.pt"}, web=False) == {"weights_path": "/w.pt"}
    with pytest.raises(ValueError, match="unknown algorithm 'knn'"):
        parameters_check("knn", {})


def test_the_catalogue_imports_neither_torch_nor_numpy():
    code = "import sys, inference.ml.catalogue; print(sorted({'torch', 'numpy'} & set(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
