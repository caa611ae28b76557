#!/usr/bin/env python3
"""Inspect images with a model exported from Loupe, without Loupe: only onnxruntime, numpy and Pillow
(OpenVINO instead of onnxruntime with ``--runtime openvino``).

    python loupe_inspect.py EXPORT_DIR IMAGE [IMAGE ...]

prints one JSON object per image: ``image`` (the path given), ``score``, ``normalized_score``,
``decision`` (``"defective"`` or ``"normal"``) and ``regions`` (bounding box, area and peak of each
flagged region, image px).

The folder is what ``manage.py export`` writes: ``model.onnx`` (an image's canvases to its anomaly map,
score, normalised score and decision), ``manifest.json`` (how an image becomes canvases, and how the
map's flagged regions are found) and ``openvino/``. This file follows the manifest's rule step by step;
it is standalone on purpose, so the folder and this file are all a line computer needs, and Loupe runs
this very file in every export's parity check.
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import math
import sys
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

SUPPORTED_FORMAT = ("loupe-export", 2)
INPUTS = ("canvases", "places", "scaled_shape", "image_shape")
OUTPUTS = ("anomaly_map", "score", "normalized_score", "decision")
Forward = Callable[[dict[str, np.ndarray]], Sequence[np.ndarray]]
"""The graph: its inputs by name to its outputs in the order of :data:`OUTPUTS`."""


# --- image to canvases -------------------------------------------------------------------------------


def to_float_rgb(image: Image.Image | np.ndarray) -> np.ndarray:
    """``(H, W, 3)`` float32 in [0, 1] by the manifest's colour and bit-depth rule."""
    if isinstance(image, Image.Image):
        if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            array = np.asarray(image).astype(np.float32) / 65535.0
        elif image.mode == "F":
            array = np.asarray(image, dtype=np.float32)
        elif image.mode in ("L", "RGB"):
            array = np.asarray(image)
        else:
            array = np.asarray(image.convert("RGB"))
    else:
        array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        array = array[..., :3] if array.shape[2] != 1 else array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an image of shape (H, W) or (H, W, 1|3|4), got {array.shape}")
    if array.dtype == np.uint8:
        out = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        out = array.astype(np.float32) / 65535.0
    elif array.dtype == np.bool_:
        out = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        out = np.clip(array.astype(np.float32), 0.0, 1.0)
    elif np.issubdtype(array.dtype, np.integer):
        out = np.clip(array.astype(np.float32) / 65535.0, 0.0, 1.0)
    else:
        raise ValueError(f"unsupported image dtype {array.dtype}")
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    return np.ascontiguousarray(out)


def standardize(chw: np.ndarray, mean: float, std: float) -> np.ndarray:
    """The manifest's intensity rule."""
    spread = float(chw.std(ddof=1)) if chw.size > 1 else 0.0
    scale = std / spread if spread > 1e-6 else 1.0
    return np.clip((chw - np.float32(chw.mean())) * np.float32(scale) + np.float32(mean), 0, 1).astype(
        np.float32
    )


@functools.lru_cache(maxsize=64)
def antialias_weights(source: int, target: int) -> np.ndarray:
    """``(target, source)`` weights of a bilinear resize with antialiasing (half-pixel centres); kept for
    the next image of the same size (read-only)."""
    scale = source / target
    support = scale if scale >= 1.0 else 1.0
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    weights = np.zeros((target, source), np.float64)
    for i in range(target):
        centre = scale * (i + 0.5)
        start = max(int(centre - support + 0.5), 0)
        stop = min(int(centre + support + 0.5), source)
        taps = np.maximum(0.0, 1.0 - np.abs((np.arange(start, stop) - centre + 0.5) * inverse))
        total = taps.sum()
        weights[i, start:stop] = taps / total if total > 0 else taps
    weights = weights.astype(np.float32)
    weights.flags.writeable = False
    return weights


def resize_antialiased(chw: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``(C, h, w)`` to ``(C, *shape)``: width first, then height."""
    if chw.shape[1:] == shape:
        return chw
    across = chw @ antialias_weights(chw.shape[2], shape[1]).T
    return np.matmul(antialias_weights(chw.shape[1], shape[0])[None], across).astype(np.float32)


def mirror_index(length: int, size: int) -> np.ndarray:
    index = np.arange(length)
    if size == 1:
        return np.zeros_like(index)
    folded = index % (2 * size)
    return np.where(folded < size, folded, 2 * size - 1 - folded)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def canvases_of(rgb: np.ndarray, manifest: dict[str, Any]) -> tuple[np.ndarray, np.ndarray, tuple]:
    """The canvases of one image, their places and the scaled shape (the manifest's rule).

    Returns:
        ``(T, 3, S, S)`` canvases, ``(T, 6)`` places (``top, left, bottom, right`` of the valid part,
        ``row, col`` of its offset), and the ``(height, width)`` of the scaled image they tile.
    """
    canvas, settings = manifest["canvas"], manifest["input"]
    chw = np.ascontiguousarray(rgb.transpose(2, 0, 1))
    if settings["normalize_intensity"]:
        chw = standardize(chw, settings["intensity_mean"], settings["intensity_std"])
    height, width = chw.shape[1:]
    size = canvas["size"]
    if canvas["mode"] == "resize":
        whole = np.array([[0, 0, size, size, 0, 0]], np.float32)
        return resize_antialiased(chw, (size, size))[None], whole, (size, size)
    scale = size / max(height, width) if canvas["mode"] == "letterbox" else canvas["tile_scale"]
    scaled_shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    scaled = resize_antialiased(chw, scaled_shape)
    if scaled_shape[0] < size or scaled_shape[1] < size:
        rows = mirror_index(max(size, scaled_shape[0]), scaled_shape[0])
        cols = mirror_index(max(size, scaled_shape[1]), scaled_shape[1])
        scaled = scaled[:, rows][:, :, cols]
    out, places = [], []
    for top in tile_starts(scaled_shape[0], size, canvas["tile_overlap"]):
        for left in tile_starts(scaled_shape[1], size, canvas["tile_overlap"]):
            out.append(np.ascontiguousarray(scaled[:, top : top + size, left : left + size]))
            places.append(
                (0, 0, min(size, scaled_shape[0] - top), min(size, scaled_shape[1] - left), top, left)
            )
    return np.stack(out), np.array(places, np.float32), scaled_shape


# --- the map's regions -----------------------------------------------------------------------------


def regions(anomaly_map: np.ndarray, threshold: float, min_area: int) -> list[dict[str, float | int]]:
    """8-connected regions of ``map >= threshold`` of at least ``min_area`` px, in the order of their
    first pixel; runs of each row are joined with the runs they touch in the row above."""
    above = anomaly_map >= threshold
    runs: list[tuple[int, int, int]] = []  # (row, first column, last column + 1)
    for row in np.flatnonzero(above.any(axis=1)):
        edges = np.flatnonzero(np.diff(np.concatenate([[0], above[row].view(np.int8), [0]])))
        runs += [(int(row), int(a), int(b)) for a, b in zip(edges[::2], edges[1::2], strict=True)]
    parent = list(range(len(runs)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    previous: list[int] = []  # runs of the row above
    current: list[int] = []
    for index, (row, start, stop) in enumerate(runs):
        if current and runs[current[0]][0] != row:
            previous = current if runs[current[0]][0] == row - 1 else []
            current = []
        for other in previous:
            if runs[other][1] <= stop and runs[other][2] >= start:  # touching, diagonals included
                a, b = root(index), root(other)
                parent[max(a, b)] = min(a, b)
        current.append(index)
    found: dict[int, list[int]] = {}
    for index in range(len(runs)):
        found.setdefault(root(index), []).append(index)
    out = []
    for members in sorted(found.values(), key=lambda m: (runs[m[0]][0], runs[m[0]][1])):
        area = sum(runs[i][2] - runs[i][1] for i in members)
        if area < min_area:
            continue
        top, bottom = runs[members[0]][0], max(runs[i][0] for i in members) + 1
        left, right = min(runs[i][1] for i in members), max(runs[i][2] for i in members)
        peak = max(float(anomaly_map[runs[i][0], runs[i][1] : runs[i][2]].max()) for i in members)
        out.append(
            {"x": left, "y": top, "width": right - left, "height": bottom - top, "area": area, "peak": peak}
        )
    return out


# --- the runtime -------------------------------------------------------------------------------------


def read_manifest(directory: Path) -> dict[str, Any]:
    manifest = json.loads((directory / "manifest.json").read_text())
    if (manifest.get("format"), manifest.get("format_version")) != SUPPORTED_FORMAT:
        raise ValueError(
            f"{directory} is not a Loupe export this runner reads ({SUPPORTED_FORMAT}): export the version "
            "again, or use the runner of the Loupe that exported it"
        )
    return manifest


def onnxruntime_forward(directory: Path, manifest: dict[str, Any], check: bool = True) -> Forward:
    import onnxruntime

    path = directory / manifest["model"]["file"]
    if check and hashlib.sha256(path.read_bytes()).hexdigest() != manifest["model"]["sha256"]:
        raise ValueError(f"{path} does not match the manifest's sha256: the export is damaged or altered")
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    return lambda inputs: session.run(list(OUTPUTS), inputs)


def openvino_forward(directory: Path, manifest: dict[str, Any], precision: str = "fp32") -> Forward:
    import openvino

    core = openvino.Core()
    compiled = core.compile_model(
        str(directory / manifest["model"]["openvino"][precision]),
        "CPU",
        {"INFERENCE_PRECISION_HINT": manifest["model"]["openvino_inference_precision"]},
    )
    request = compiled.create_infer_request()

    def forward(inputs: dict[str, np.ndarray]) -> list[np.ndarray]:
        results = request.infer(inputs)
        return [results[compiled.output(name)].copy() for name in OUTPUTS]

    return forward


class Inspector:
    """An exported model, ready to inspect images.

    Args:
        directory: the export folder.
        runtime: ``onnxruntime``, ``openvino`` (FP32) or ``openvino_fp16``, or a ready ``forward``.
        batch_size: canvases per forward pass at most; consecutive images of one shape share a pass.
    """

    def __init__(self, directory: str | Path, runtime: str | Forward = "onnxruntime", batch_size: int = 16):
        self.directory = Path(directory)
        self.manifest = read_manifest(self.directory)
        if callable(runtime):
            self.forward = runtime
        elif runtime == "onnxruntime":
            self.forward = onnxruntime_forward(self.directory, self.manifest)
        elif runtime in ("openvino", "openvino_fp16"):
            self.forward = openvino_forward(
                self.directory, self.manifest, "fp16" if runtime.endswith("fp16") else "fp32"
            )
        else:
            raise ValueError(f"unknown runtime {runtime!r}: use onnxruntime, openvino or openvino_fp16")
        self.batch_size = batch_size

    def inspect(
        self, images: Iterable[Image.Image | np.ndarray]
    ) -> Iterable[tuple[np.ndarray, dict[str, Any]]]:
        """Each image's full-size anomaly map and its verdict (``score``, ``normalized_score``,
        ``decision``, ``regions``), in order."""
        pending: list[np.ndarray] = []  # the canvases of consecutive images of one shape
        layout: tuple[np.ndarray, tuple, tuple] | None = None  # their places, scaled and image shape

        def run() -> Iterable[tuple[np.ndarray, dict[str, Any]]]:
            assert layout is not None
            places, scaled, shape = layout
            inputs = {
                "canvases": np.stack(pending).astype(np.float32, copy=False),
                "places": places,
                "scaled_shape": np.array(scaled, np.int64),
                "image_shape": np.array(shape, np.int64),
            }
            pending.clear()
            maps, scores, normalized, decisions = self.forward(inputs)
            for index, anomaly_map in enumerate(maps):
                yield (
                    anomaly_map,
                    self.verdict(anomaly_map, scores[index], normalized[index], decisions[index]),
                )

        for image in images:
            rgb = to_float_rgb(image)
            canvases, places, scaled = canvases_of(rgb, self.manifest)
            same = layout is not None and layout[2] == rgb.shape[:2]
            if pending and (not same or (len(pending) + 1) * len(canvases) > self.batch_size):
                yield from run()
            layout = (places, scaled, rgb.shape[:2])
            pending.append(canvases)
        if pending:
            yield from run()

    def verdict(self, anomaly_map: np.ndarray, score: Any, normalized: Any, defective: Any) -> dict[str, Any]:
        """The JSON verdict of one image from the graph's outputs, with the map's flagged regions."""
        found = self.manifest["regions"]
        return {
            "score": float(score),
            "normalized_score": float(normalized),
            "decision": "defective" if bool(defective) else "normal",
            "regions": regions(anomaly_map, found["pixel_threshold"], found["min_area"]),
        }


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("export", type=Path, help="the export folder (model.onnx, manifest.json)")
    parser.add_argument("images", nargs="+", type=Path)
    parser.add_argument(
        "--runtime", default="onnxruntime", choices=["onnxruntime", "openvino", "openvino_fp16"]
    )
    parser.add_argument("--batch-size", type=int, default=16, help="canvases per forward pass at most")
    args = parser.parse_args(argv)
    try:
        inspector = Inspector(args.export, args.runtime, args.batch_size)
    except (OSError, ValueError) as error:
        print(f"loupe_inspect: {error}", file=sys.stderr)
        return 2

    def opened() -> Iterable[Image.Image]:
        for path in args.images:
            with Image.open(path) as picture:
                picture.load()
                yield picture

    failed = 0
    try:
        for path, (_map, verdict) in zip(args.images, inspector.inspect(opened()), strict=True):
            print(json.dumps({"image": str(path), **verdict}), flush=True)
    except (OSError, ValueError) as error:
        print(f"loupe_inspect: {error}", file=sys.stderr)
        failed = 1
    return failed


if __name__ == "__main__":
    sys.exit(main())
