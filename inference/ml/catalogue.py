"""The algorithms and their parameters, described without importing them (no torch, no NumPy): what
the API, the forms and the commands read to offer choices and refuse bad input before a job exists.

Every parameter has a type and a range or a set of choices; :func:`parameters_check` applies them.
The parameter classes of the algorithms (``inference.ml.algorithms``) are the truth; a test keeps
this catalogue equal to them.
"""

from __future__ import annotations

import math
import reprlib
from dataclasses import dataclass
from typing import Any

Value = bool | int | float | str


# The longest string and list a parameter takes (a path, a backbone's layer names).
MAX_STRING = 500
MAX_LIST_ITEMS = 32


@dataclass(frozen=True)
class Parameter:
    """One algorithm parameter.

    Attributes:
        name: as the algorithm's parameter class spells it.
        type: ``bool``, ``int``, ``float``, ``str`` or ``list`` (a list of strings).
        default: its value when not given (None: nothing).
        help: what it does, one line.
        minimum, maximum: inclusive bounds of a number (None: unbounded that side).
        above: the minimum is exclusive (the value must be greater).
        below: the maximum is exclusive.
        choices: the allowed values of a string.
        multiple_of: an integer must be a multiple of this.
        web: whether a user may set it through the API and the pages (False: only on the command
            line, e.g. a path on the worker's disk).
    """

    name: str
    type: type
    default: Value | tuple[str, ...] | None
    help: str
    minimum: float | None = None
    maximum: float | None = None
    above: bool = False
    below: bool = False
    choices: tuple[str, ...] = ()
    multiple_of: int | None = None
    web: bool = True

    def describe(self) -> str:
        """The allowed values in words, e.g. ``an integer from 32 to 2048``."""
        if self.choices:
            return "one of " + ", ".join(repr(c) for c in self.choices)
        noun = {bool: "true or false", int: "an integer", float: "a number", str: "a string"}
        text = noun.get(self.type, "a list of strings")
        if self.multiple_of:
            text = f"a multiple of {self.multiple_of}"
        if self.minimum is not None and self.maximum is not None:
            low = f"above {self.minimum:g}" if self.above else f"from {self.minimum:g}"
            high = f"below {self.maximum:g}" if self.below else f"to {self.maximum:g}"
            return f"{text} {low} {high}"
        if self.minimum is not None:
            return f"{text} {'above' if self.above else 'of at least'} {self.minimum:g}"
        return text

    def check(self, value: Any) -> Value | list[str] | None:
        """The value if it is allowed.

        Raises:
            ValueError: naming the parameter and what it takes.
        """
        # reprlib: a value of a megabyte is not echoed back whole.
        problem = f"{self.name} must be {self.describe()}, got {reprlib.repr(value)}"
        if value is None and self.default is None:
            return None
        if self.type is bool:
            if not isinstance(value, bool):
                raise ValueError(problem)
            return value
        if self.type is list:
            if (
                not isinstance(value, list | tuple)
                or len(value) > MAX_LIST_ITEMS
                or not all(isinstance(v, str) and len(v) <= MAX_STRING for v in value)
            ):
                raise ValueError(problem)
            return list(value)
        if self.type is str:
            chosen = not self.choices or value in self.choices
            if not isinstance(value, str) or not chosen or len(value) > MAX_STRING:
                raise ValueError(problem)
            return value
        # Numbers: bool is an int in Python, not here; an integral float is fine for an int. An int
        # too large for a float (10**400) is refused, not an OverflowError.
        try:
            if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
                raise ValueError(problem)
        except OverflowError:
            raise ValueError(problem) from None
        if self.type is int:
            if value != int(value) or (self.multiple_of and int(value) % self.multiple_of):
                raise ValueError(problem)
            value = int(value)
        else:
            value = float(value)
        low_ok = self.minimum is None or (value > self.minimum if self.above else value >= self.minimum)
        high_ok = self.maximum is None or (value < self.maximum if self.below else value <= self.maximum)
        if not (low_ok and high_ok):
            raise ValueError(problem)
        return value


@dataclass(frozen=True)
class Algorithm:
    """An algorithm as the platform offers it.

    Attributes:
        name: its registry name (= its folder in ``inference/ml/algorithms``).
        title: for people.
        uses_labels: it learns from labeled defects too (else only from normal images).
        parameters: every parameter it takes.
    """

    name: str
    title: str
    uses_labels: bool
    parameters: tuple[Parameter, ...]

    def parameter(self, name: str) -> Parameter:
        """The parameter called ``name``.

        Raises:
            KeyError: it takes none of that name.
        """
        return next(p for p in self.parameters if p.name == name)


_FEATURES = (
    Parameter(
        "backbone",
        str,
        "efficientnet_lite0",
        "pretrained feature extractor",
        choices=(
            "efficientnet_lite0",
            "efficientnet_lite1",
            "efficientnet_lite2",
            "resnet18",
            "wide_resnet50_2",
        ),
    ),
    Parameter("layers", list, (), "backbone layers to use (empty: the backbone's default pair)"),
    Parameter("weights_path", str, None, "local weights file of a backbone that ships none", web=False),
    # The backbone's feature grid needs a multiple of 32.
    Parameter("image_size", int, 320, "canvas side, px", minimum=32, maximum=2048, multiple_of=32),
    Parameter(
        "preprocess_mode",
        str,
        "auto",
        "how an image becomes canvases (auto: tiles for images larger than the canvas)",
        choices=("auto", "letterbox", "resize", "tile"),
    ),
    Parameter("tile_scale", float, 1.0, "scale before tiling (tile mode)", minimum=0, maximum=8, above=True),
    Parameter(
        "tile_overlap", int, 32, "least overlap of tiles, canvas px (tile mode)", minimum=0, maximum=1024
    ),
    Parameter("normalize_intensity", bool, False, "stretch each image to a fixed mean and contrast"),
    Parameter(
        "aggregate", int, 3, "side of the neighbourhood averaged into a patch feature", minimum=1, maximum=9
    ),
    Parameter(
        "aggregate_include_pad",
        bool,
        True,
        "count the padding past the canvas edge in that average (as PatchCore's reference code does)",
    ),
    Parameter("blur_sigma", float, 4.0, "smoothing of the anomaly map, canvas px", minimum=0, maximum=64),
    Parameter("batch_size", int, 16, "canvases per forward pass", minimum=1, maximum=256),
    Parameter("seed", int, 0, "seed of every random choice", minimum=0, maximum=2**31 - 1),
)
_PATCHCORE = _FEATURES + (
    Parameter(
        "coreset_ratio",
        float,
        0.05,
        "share of patch features kept in the memory bank",
        minimum=0,
        maximum=1,
        above=True,
    ),
    Parameter(
        "memory_bank_size",
        int,
        20_000,
        "most entries in the memory bank, whatever the number of training images",
        minimum=1,
        maximum=10_000_000,
    ),
    Parameter(
        "projection_dim", int, 64, "dimensions of the coreset search's projection", minimum=1, maximum=4096
    ),
    Parameter(
        "coreset_chunk",
        int,
        32_768,
        "patch features the coreset reduces together as they stream in",
        minimum=1,
        maximum=10_000_000,
    ),
    Parameter(
        "num_neighbors", int, 9, "bank neighbours re-weighting a reweighted score", minimum=1, maximum=1000
    ),
    Parameter(
        "image_score",
        str,
        "peak_or_mean",
        "how an image's score is derived (peak_or_mean: the map's peak, or its mean when more unusual)",
        choices=("peak_or_mean", "reweighted", "map_max", "map_top"),
    ),
    Parameter(
        "map_top_fraction",
        float,
        0.01,
        "share of the map's highest pixels averaged by map_top",
        minimum=0,
        maximum=1,
        above=True,
    ),
)
_SEMI_SUPERVISED = tuple(p for p in _PATCHCORE if p.name != "image_score") + (
    Parameter(
        "image_score", str, "map_top", "how an image's score is derived", choices=("map_max", "map_top")
    ),
    Parameter(
        "head_weight", float, 1.0, "weight of the learned evidence in the fused score", minimum=0, maximum=100
    ),
    Parameter("head_hidden", int, 256, "hidden units of the patch head", minimum=1, maximum=4096),
    Parameter("head_steps", int, 300, "training steps of the head", minimum=1, maximum=100_000),
    Parameter("head_batch", int, 512, "patches per head training step", minimum=1, maximum=65_536),
    Parameter("head_lr", float, 1e-3, "learning rate of the head", minimum=0, maximum=1, above=True),
    Parameter("normal_images", int, 32, "normal images the head sees", minimum=1, maximum=10_000),
    Parameter("stats_images", int, 16, "images the fusion statistics come from", minimum=0, maximum=10_000),
    Parameter("synthetic_images", int, 32, "images given synthetic defects", minimum=0, maximum=10_000),
    Parameter(
        "synthetic_share",
        float,
        0.5,
        "share of synthetic among the defect examples",
        minimum=0,
        maximum=1,
        below=True,
    ),
    Parameter("box_weight", float, 0.5, "confidence of a box's cells", minimum=0, maximum=1, above=True),
    Parameter(
        "mil_fraction",
        float,
        0.01,
        "share of a verdict-only image's cells taken as defect",
        minimum=0,
        maximum=1,
        above=True,
    ),
)

ALGORITHMS: dict[str, Algorithm] = {
    algorithm.name: algorithm
    for algorithm in (
        Algorithm("patchcore", "PatchCore", False, _PATCHCORE),
        Algorithm(
            "padim",
            "PaDiM",
            False,
            _FEATURES
            + (
                Parameter("n_features", int, 0, "feature channels kept (0: all)", minimum=0, maximum=4096),
                Parameter(
                    "covariance_eps",
                    float,
                    0.01,
                    "regularisation of each covariance",
                    minimum=0,
                    maximum=10,
                    above=True,
                ),
            ),
        ),
        Algorithm("patchcore_ss", "PatchCore + labels (semi-supervised)", True, _SEMI_SUPERVISED),
    )
}
"""Every algorithm, by registry name."""


def parameters_check(algorithm: str, values: dict[str, Any], *, web: bool = True) -> dict[str, Any]:
    """The values, checked against the algorithm's parameters (ints as ints, floats as floats).

    Args:
        algorithm: a name of :data:`ALGORITHMS`.
        values: parameter names to values, as JSON gives them.
        web: the values come from the API or a page (parameters not settable there are refused).

    Raises:
        ValueError: an unknown algorithm or parameter, or a value of the wrong type or out of range;
            the message names it and says what is allowed.
    """
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    known = {p.name: p for p in ALGORITHMS[algorithm].parameters}
    unknown = sorted(str(name) for name in values if name not in known)
    if unknown:
        raise ValueError(f"unknown parameters {unknown} for {algorithm}; known: {sorted(known)}")
    checked = {}
    for name, value in values.items():
        parameter = known[name]
        if web and not parameter.web:
            raise ValueError(f"{name} is set on the worker's command line, not through the platform")
        checked[name] = parameter.check(value)
    return checked
