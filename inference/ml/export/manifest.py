"""The manifest beside an exported graph: everything a runner needs to turn an image into the graph's
inputs and the graph's anomaly map into flagged regions, and what the graph computes in between.

The rule it states is Loupe's own (:mod:`~inference.ml.preprocessing`, :mod:`~inference.ml.postprocess`,
the algorithms' image scores, :class:`~inference.ml.thresholds.ScoreNormalizer`), written out so that a
runner in any language can follow it; ``deploy/python/loupe_inspect.py`` is its reference runner.
"""

from __future__ import annotations

from typing import Any

from inference.ml.algorithms.features import FeatureDetector
from inference.ml.algorithms.patchcore import PatchCore
from inference.ml.export.decision import DecisionRule
from inference.ml.preprocessing import MIN_DEFECT_PX

FORMAT_NAME = "loupe-export"
FORMAT_VERSION = 2
"""1: the graph gave canvas maps and runners stitched and scored them; 2: the graph gives the verdict."""
GRAPH_INPUTS = ("canvases", "places", "scaled_shape", "image_shape")
GRAPH_OUTPUTS = ("anomaly_map", "score", "normalized_score", "decision")
ONNX_FILE = "model.onnx"
MANIFEST_FILE = "manifest.json"
OPENVINO_FILES = (
    "openvino/model.xml",
    "openvino/model.bin",
    "openvino/model_fp16.xml",
    "openvino/model_fp16.bin",
)
INTENSITY_MEAN, INTENSITY_STD = 0.5, 0.18
"""What :func:`~inference.ml.preprocessing.standardize_intensity` stretches an image to."""


def image_score_rule(detector: FeatureDetector) -> dict[str, Any]:
    """How the detector scores an image from its full-size map, as the manifest states it.

    Raises:
        ValueError: the score needs more than the map (``reweighted``: the memory bank's neighbours).
    """
    if not isinstance(detector, PatchCore):
        return {"rule": "map_max"}
    params = detector.params
    if params.image_score == "map_max":
        return {"rule": "map_max"}
    if params.image_score == "map_top":
        return {"rule": "map_top", "top_fraction": params.map_top_fraction}
    if params.image_score == "peak_or_mean":
        if detector.score_statistics is None:
            raise ValueError("this model has no normal score statistics: fit it again before exporting")
        peak_mean, peak_std, level_mean, level_std = (float(v) for v in detector.score_statistics)
        return {
            "rule": "peak_or_mean",
            "peak_mean": peak_mean,
            "peak_std": peak_std,
            "level_mean": level_mean,
            "level_std": level_std,
        }
    raise ValueError(
        f"image_score {params.image_score!r} needs the memory bank's neighbours of each image, which the "
        "export does not carry: retrain the version (new models score images from their map)"
    )


def build_manifest(
    detector: FeatureDetector, rule: DecisionRule, provenance: dict[str, Any]
) -> dict[str, Any]:
    """The manifest of a fitted detector under a version's decision rule (``model.sha256`` is filled in
    once the graph is written).

    Raises:
        ValueError: the model cannot be exported (see :func:`image_score_rule`).
    """
    params = detector.params
    preprocess = params.preprocess
    size = params.image_size
    return {
        "format": FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "algorithm": detector.name,
        "backbone": params.backbone,
        "provenance": dict(provenance),
        "model": {
            "file": ONNX_FILE,
            "sha256": None,
            "inputs": {
                "canvases": ["batch", "canvases", 3, size, size],
                "places": ["canvases", 6],
                "scaled_shape": [2],
                "image_shape": [2],
            },
            "inputs_rule": "a batch holds images of one shape: canvases float32, each image's canvases "
            "in the canvas rule's order; places float32, per canvas (top, left, bottom, right) of its "
            "valid part and (row, col) where that part goes in the scaled image; scaled_shape and "
            "image_shape int64 (height, width)",
            "outputs": {
                "anomaly_map": ["batch", "height", "width"],
                "score": ["batch"],
                "normalized_score": ["batch"],
                "decision": ["batch"],
            },
            "outputs_rule": "anomaly_map and score float32 in the model's raw units, normalized_score "
            "float32 in [0, 1], decision bool (true: defective); all computed in the graph by the map, "
            "score and decision rules below",
            "openvino": {"fp32": OPENVINO_FILES[0], "fp16": OPENVINO_FILES[2]},
            "openvino_inference_precision": "f32",
        },
        "input": {
            "colour": "RGB; a grey image is repeated into three channels; alpha is dropped; palette and "
            "other modes are converted to RGB",
            "bit_depth": "8-bit values / 255, 16-bit (and 32-bit integer) values / 65535, float taken as "
            "[0, 1] and clipped",
            "normalize_intensity": preprocess.normalize_intensity,
            "intensity_mean": INTENSITY_MEAN,
            "intensity_std": INTENSITY_STD,
            "intensity_rule": "when normalize_intensity: x = clip((x - mean(x)) * s + intensity_mean, 0, 1), "
            "s = intensity_std / std(x) (over every value, unbiased) or 1 when std(x) <= 1e-6",
        },
        "canvas": {
            "size": size,
            "mode": preprocess.mode,
            "tile_scale": preprocess.tile_scale,
            "tile_overlap": preprocess.tile_overlap,
            "reason": detector.canvas_reason,
            "smallest_defect_px": MIN_DEFECT_PX,
            "resize": "bilinear with antialiasing (triangle filter widened by the scale when shrinking), "
            "half-pixel centres",
            "rule": {
                "resize": "stretch to size x size; one canvas, valid = (0, 0, size, size)",
                "letterbox": "scale = size / max(h, w); scaled = (max(1, round(h scale)), max(1, round(w "
                "scale))) (round half to even); resize, mirror-pad to size x size; one canvas, "
                "valid = (0, 0, scaled h, scaled w)",
                "tile": "scale = tile_scale; resize to the scaled shape, mirror-pad a side shorter than "
                "size; tiles start at round(i (L - size) / (n - 1)), "
                "n = ceil((L - overlap) / (size - overlap)) "
                "(one at 0 when L <= size); valid = (0, 0, min(size, H - top), min(size, W - left))",
                "mirror": "index i of a padded side of length L maps to i mod 2L, reflected as 2L - 1 - "
                "(i mod 2L) past L (edge pixel repeated)",
            },
        },
        "map": {
            "in_graph": True,
            "stitch": "each canvas map's valid part added at its offset in the scaled image; overlaps "
            "averaged; then resized to the image's size by bilinear interpolation (half-pixel centres, "
            "no antialiasing) when the scaled shape differs",
            "units": "the model's raw anomaly units, the same as the score and both thresholds",
        },
        "score": {**image_score_rule(detector), "in_graph": True},
        "decision": {
            "in_graph": True,
            "threshold": float(rule.threshold),
            "rule": "defective when score >= threshold",
            "normalizer": rule.normalizer.to_dict(),
            "normalized_rule": "0.5 (score - low) / (threshold - low) below the threshold, "
            "0.5 + 0.5 (score - threshold) / (high - threshold) from it, clipped to [0, 1]",
        },
        "regions": {
            "pixel_threshold": float(rule.pixel_threshold),
            "min_area": int(rule.min_region_area),
            "rule": "8-connected regions of map >= pixel_threshold of at least min_area pixels, in the "
            "order of their first pixel (row by row); each with its bounding box, area and peak",
        },
    }
