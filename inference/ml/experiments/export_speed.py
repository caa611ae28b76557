"""Speed and size of an exported model on every runtime: ``manage.py benchmark_export``.

One PatchCore is fitted on a category's training images and exported; the same test images are then
scored by PyTorch (``predict``), by the Python runner on onnxruntime and on OpenVINO FP32 and FP16, and
by the C++ program when it is built, at batch 1 and 16 (a batch holds consecutive images of one
shape). The graph's own cost is set against the bare backbone's on the same batch of canvases, so the
search, stitching, upsampling, smoothing and verdict show what they add.
"""

from __future__ import annotations

import resource
import subprocess
import tempfile
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from inference.ml.algorithms import get_algorithm
from inference.ml.algorithms.features import FeatureDetector, aggregate_features
from inference.ml.data.mvtec import Category, ImageFiles
from inference.ml.export import DecisionRule, export_model
from inference.ml.export.graph import CanvasGraph, InspectionGraph
from inference.ml.export.manifest import GRAPH_INPUTS
from inference.ml.export.parity import runner
from inference.ml.thresholds import ScoreNormalizer, f1_optimal_threshold

BATCHES = (1, 16)
Log = Callable[[str], None]


class _Backbone(nn.Module):
    """The bare backbone and aggregation of a graph: what scoring cannot do without."""

    def __init__(self, graph: CanvasGraph) -> None:
        super().__init__()
        self.graph = graph

    def forward(self, canvases: torch.Tensor) -> torch.Tensor:
        graph = self.graph
        return aggregate_features(graph.backbone(canvases), graph.aggregate, graph.aggregate_include_pad)


def _timed(work: Callable[[], object], repeats: int = 3) -> float:
    """The fastest of ``repeats`` runs, s (after one warm-up)."""
    work()
    best = float("inf")
    for _ in range(repeats):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _graph_over_backbone(
    graph: InspectionGraph, layout: dict[str, np.ndarray], batch: int, folder: Path
) -> dict[str, float]:
    """Seconds of the whole graph and of the bare backbone on one batch of images laid out as
    ``layout`` (one image's graph inputs), in PyTorch and in onnxruntime, and their ratio."""
    import onnxruntime

    inputs = {**layout, "canvases": np.repeat(layout["canvases"], batch, axis=0)}
    tensors = {name: torch.from_numpy(value) for name, value in inputs.items()}
    canvases = tensors["canvases"].flatten(0, 1)
    backbone = _Backbone(graph.canvas_maps).eval()
    out: dict[str, float] = {}
    with torch.no_grad():
        out["torch_graph_s"] = _timed(lambda: graph(*(tensors[name] for name in GRAPH_INPUTS)))
        out["torch_backbone_s"] = _timed(lambda: backbone(canvases))
    path = folder / "backbone.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            backbone, (canvases,), str(path), input_names=["canvases"], dynamo=False, opset_version=17
        )
    bare = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    whole = onnxruntime.InferenceSession(str(folder / "model.onnx"), providers=["CPUExecutionProvider"])
    out["onnxruntime_backbone_s"] = _timed(lambda: bare.run(None, {"canvases": canvases.numpy()}))
    out["onnxruntime_graph_s"] = _timed(lambda: whole.run(None, inputs))
    out["torch_ratio"] = out["torch_graph_s"] / out["torch_backbone_s"]
    out["onnxruntime_ratio"] = out["onnxruntime_graph_s"] / out["onnxruntime_backbone_s"]
    return out


def _runtime_speed(score: Callable[[], object], count: int) -> dict[str, float]:
    seconds = _timed(score, repeats=2)
    return {"images_per_second": count / seconds, "latency_ms": 1000 * seconds / count}


def _cpp_speed(program: Path, folder: Path, paths: Sequence[Path], batch: int) -> dict[str, float]:
    """The C++ program's throughput without its start-up (the difference of a run over every image and
    one over the first), and its start-up and peak memory."""

    def run(images: Sequence[Path]) -> float:
        started = time.perf_counter()
        subprocess.run(
            [str(program), str(folder), *map(str, images), "--batch-size", str(batch)],
            check=True,
            capture_output=True,
        )
        return time.perf_counter() - started

    one = min(run(paths[:1]) for _ in range(2))
    every = min(run(paths) for _ in range(2))
    per_image = max(every - one, 1e-9) / max(len(paths) - 1, 1)
    return {
        "images_per_second": 1 / per_image,
        "latency_ms": 1000 * per_image,
        "startup_s": one - per_image,
        "peak_memory_mb": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024,
    }


def export_benchmark(
    category: Category,
    *,
    train_limit: int = 100,
    test_limit: int = 32,
    cpp_program: Path | None = None,
    device: str = "cpu",
    log: Log = print,
) -> dict[str, Any]:
    """Fit, export and time one category (see the module docstring).

    Returns:
        ``category``, ``canvas``, ``parity`` (per runtime), ``sizes_bytes``, ``runtimes`` (per runtime
        and batch: ``images_per_second``, ``latency_ms``), ``graph_over_backbone`` (per batch) and
        ``peak_memory_mb`` of this process.
    """
    detector = get_algorithm("patchcore", device=device)
    assert isinstance(detector, FeatureDetector)
    log(f"{category.name}: fitting on {min(train_limit, len(category.train))} training images")
    detector.fit(ImageFiles(category.train[:train_limit]))
    paths = category.test[:test_limit]
    images = [ImageFiles(paths)[i] for i in range(len(paths))]
    labels = category.test_labels[: len(paths)]
    predicted = detector.predict(images)
    threshold = (
        f1_optimal_threshold(predicted.scores, labels) if labels.any() else float(predicted.scores.max())
    )
    rule = DecisionRule(
        threshold=threshold,
        normalizer=ScoreNormalizer.fit(predicted.scores, threshold),
        pixel_threshold=threshold,
    )
    out: dict[str, Any] = {"category": category.name, "images": len(images), "device": str(detector.device)}
    with tempfile.TemporaryDirectory() as folder:
        log("exporting and checking parity")
        result = export_model(detector, folder, rule=rule, provenance={}, parity_images=images)
        out["canvas"] = result.manifest["canvas"]
        out["parity"] = [f.to_dict() for f in result.parity]
        out["sizes_bytes"] = result.sizes
        module = runner()
        out["runtimes"] = {}
        for batch in BATCHES:
            log(f"timing batch {batch}")
            timings: dict[str, dict[str, float]] = {}
            batched = replace(detector.params, batch_size=batch)
            detector.params = batched
            timings["pytorch"] = _runtime_speed(lambda: detector.predict(images), len(images))
            for name in ("onnxruntime", "openvino", "openvino_fp16"):
                inspector = module.Inspector(folder, name, batch_size=batch)
                timings[name] = _runtime_speed(lambda i=inspector: list(i.inspect(images)), len(images))
            if cpp_program is not None:
                timings["cpp_openvino"] = _cpp_speed(cpp_program, Path(folder), paths, batch)
            out["runtimes"][str(batch)] = timings
        graph = InspectionGraph(detector, rule).eval()
        rgb = module.to_float_rgb(images[0])
        canvases, places, scaled = module.canvases_of(rgb, result.manifest)
        layout = {
            "canvases": canvases[None],
            "places": places,
            "scaled_shape": np.array(scaled, np.int64),
            "image_shape": np.array(rgb.shape[:2], np.int64),
        }
        out["graph_over_backbone"] = {
            str(batch): _graph_over_backbone(graph, layout, batch, Path(folder)) for batch in BATCHES
        }
    out["peak_memory_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return out


def export_table(rows: Sequence[dict[str, Any]]) -> str:
    """A Markdown table of images/s and latency per runtime and batch, and the graph/backbone ratios."""
    lines = ["| category | runtime | batch | img/s | latency ms |", "|---|---|---|---|---|"]
    for row in rows:
        for batch, timings in row["runtimes"].items():
            for name, figures in timings.items():
                lines.append(
                    f"| {row['category']} | {name} | {batch} | {figures['images_per_second']:.2f} | "
                    f"{figures['latency_ms']:.0f} |"
                )
    lines += [
        "",
        "| category | batch | torch graph/backbone | onnxruntime graph/backbone |",
        "|---|---|---|---|",
    ]
    for row in rows:
        for batch, ratio in row["graph_over_backbone"].items():
            torch_ratio, onnx_ratio = ratio["torch_ratio"], ratio["onnxruntime_ratio"]
            lines.append(f"| {row['category']} | {batch} | {torch_ratio:.2f} | {onnx_ratio:.2f} |")
    return "\n".join(lines)
