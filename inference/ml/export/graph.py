"""The exported graph: the canvases of a batch of images in; each image's anomaly map, score,
normalised score and decision out; for PatchCore, PaDiM and semi-supervised PatchCore, written as ONNX
and converted to OpenVINO IR.

Inputs (:class:`InspectionGraph`): ``canvases`` ``(N, T, 3, S, S)`` float32 RGB in [0, 1], the ``T``
canvases of each of ``N`` images of one shape after the manifest's preprocessing; ``places`` ``(T, 6)``,
``scaled_shape`` and ``image_shape`` (:mod:`~inference.ml.export.assembly`). Outputs: ``anomaly_map``
``(N, H, W)`` float32 in the model's raw units, ``score`` ``(N,)`` in the same units,
``normalized_score`` ``(N,)`` in [0, 1] with the threshold at 0.5, and ``decision`` ``(N,)`` bool, true for
defective.

Each scorer mirrors the algorithm's ``predict`` in operations ONNX and OpenVINO both hold; the export's
parity check (:mod:`~inference.ml.export.parity`) is what proves they agree.
"""

from __future__ import annotations

import copy
import json
import warnings
from pathlib import Path
from typing import Any

import torch
from torch import nn

from inference.ml.algorithms.features import FeatureDetector, aggregate_features
from inference.ml.algorithms.padim.model import Padim
from inference.ml.algorithms.patchcore import PatchCore
from inference.ml.algorithms.patchcore_ss import SemiSupervisedPatchCore
from inference.ml.export.assembly import ImageVerdict, resize, stitch
from inference.ml.export.decision import DecisionRule
from inference.ml.export.manifest import GRAPH_INPUTS, GRAPH_OUTPUTS, OPENVINO_FILES, image_score_rule
from inference.ml.postprocess import smooth_canvas_maps

OPSET = 17
BANK_BLOCK = 4096
"""Bank entries searched at once: bounds the distance matrix of a batch of 16 canvases to ~100 MB."""


class NearestDistance(nn.Module):
    """Euclidean distance of each query to its nearest memory-bank entry, computed as
    :func:`~inference.ml.algorithms.patchcore.bank.MemoryBank.nearest` does (``|q|² - 2 q·b + |b|²``),
    over fixed blocks of the bank so no batch holds the whole distance matrix."""

    def __init__(self, bank: torch.Tensor) -> None:
        super().__init__()
        self.blocks = len(range(0, len(bank), BANK_BLOCK))
        for index, start in enumerate(range(0, len(bank), BANK_BLOCK)):
            block = bank[start : start + BANK_BLOCK].float().cpu()
            self.register_buffer(f"bank_{index}", block)
            self.register_buffer(f"norms_{index}", (block * block).sum(dim=1)[None])

    def forward(self, queries: torch.Tensor) -> torch.Tensor:
        squared_queries = (queries * queries).sum(dim=1, keepdim=True)
        best = None
        for index in range(self.blocks):
            bank, norms = getattr(self, f"bank_{index}"), getattr(self, f"norms_{index}")
            squared = torch.addmm(norms, queries, bank.T, alpha=-2.0) + squared_queries
            nearest = squared.min(dim=1).values
            best = nearest if best is None else torch.minimum(best, nearest)
        assert best is not None
        return best.clamp_min(0).sqrt()


class PatchCoreScorer(nn.Module):
    """Patch scores of PatchCore (the distance) or of semi-supervised PatchCore (distance and head
    logit, each standardised, summed with the head's weight), with the cells outside the image given
    each canvas's median, as ``PatchCore.predict`` does."""

    def __init__(self, detector: PatchCore) -> None:
        super().__init__()
        if detector.memory_bank is None:
            raise ValueError("PatchCore is not fitted: there is no memory bank to export")
        self.nearest = NearestDistance(detector.memory_bank)
        self.head: nn.Module | None = None
        if isinstance(detector, SemiSupervisedPatchCore) and detector.head is not None:
            assert detector.fusion is not None
            self.head = copy.deepcopy(detector.head).cpu().float()
            self.register_buffer("fusion", detector.fusion.float().cpu())
            self.head_weight = float(detector.params.head_weight)

    def forward(self, features: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        count, dim, height, width = features.shape
        queries = features.permute(0, 2, 3, 1).reshape(-1, dim)
        scores = self.nearest(queries)
        if self.head is not None:
            scores = (scores - self.fusion[0]) / self.fusion[1]
            scores = scores + self.head_weight * (self.head(queries) - self.fusion[2]) / self.fusion[3]
        scores = scores.view(count, height * width)
        inside = inside.view(count, height * width)
        # The lower median of the cells inside, as torch.nanmedian gives it.
        ceiling = scores.detach().amax() + 1.0
        ordered = torch.sort(torch.where(inside, scores, ceiling), dim=1).values
        # In floats: OpenVINO rounds an integer division by 2 up where ONNX floors it.
        middle = torch.floor((inside.sum(dim=1, keepdim=True).float() - 1) * 0.5).long()
        median = torch.gather(ordered, 1, middle)
        return torch.where(inside, scores, median).view(count, height, width)


class PadimScorer(nn.Module):
    """Mahalanobis distance of each cell to its position's Gaussian, as ``Padim.predict``."""

    def __init__(self, detector: Padim) -> None:
        super().__init__()
        if detector.mean is None or detector.inverse_covariance is None or detector.channels is None:
            raise ValueError("PaDiM is not fitted: there are no Gaussians to export")
        self.register_buffer("channels", detector.channels.long().cpu())
        self.register_buffer("mean", detector.mean.float().cpu())
        self.register_buffer("inverse_covariance", detector.inverse_covariance.float().cpu())

    def forward(self, features: torch.Tensor, inside: torch.Tensor) -> torch.Tensor:
        count, _dim, height, width = features.shape
        delta = features[:, self.channels].flatten(2).permute(2, 0, 1) - self.mean[:, None]
        squared = (torch.bmm(delta, self.inverse_covariance) * delta).sum(dim=2)
        return squared.clamp_min(0).sqrt().T.reshape(count, height, width)


class CanvasGraph(nn.Module):
    """Canvases to canvas anomaly maps: the whole per-canvas scoring path of a fitted detector.

    Args:
        detector: a fitted PatchCore, PaDiM or semi-supervised PatchCore.

    Raises:
        ValueError: another algorithm, or one that is not fitted.
    """

    def __init__(self, detector: FeatureDetector) -> None:
        super().__init__()
        if isinstance(detector, PatchCore):
            self.scorer: nn.Module = PatchCoreScorer(detector)
        elif isinstance(detector, Padim):
            self.scorer = PadimScorer(detector)
        else:
            raise ValueError(f"{detector.name} cannot be exported; export patchcore, padim or patchcore_ss")
        params = detector.params
        # A copy: the detector keeps its own backbone (and its device and memory format) for predict.
        backbone = copy.deepcopy(detector.extractor.backbone)
        self.backbone = backbone.cpu().float().to(memory_format=torch.contiguous_format)
        self.aggregate = params.aggregate
        self.aggregate_include_pad = params.aggregate_include_pad
        self.canvas = params.image_size
        self.blur_sigma = params.blur_sigma
        side = -(-params.image_size // detector.extractor.stride)
        centres = (torch.arange(side, dtype=torch.float32) + 0.5) * params.image_size / side
        self.register_buffer("centres", centres)

    def inside_cells(self, valid: torch.Tensor) -> torch.Tensor:
        """``(N, h, w)`` bool: the cells whose centre shows the image, or, for a sliver thinner than
        a cell, the cell it starts in (:func:`~inference.ml.preprocessing.valid_grid`)."""
        top, left, bottom, right = (valid[:, i, None] for i in range(4))
        rows = (self.centres[None] >= top) & (self.centres[None] < bottom)
        cols = (self.centres[None] >= left) & (self.centres[None] < right)
        inside = rows[:, :, None] & cols[:, None, :]
        side = self.centres.shape[0]
        first_row = torch.clamp(torch.floor(top * side / self.canvas), max=side - 1)
        first_col = torch.clamp(torch.floor(left * side / self.canvas), max=side - 1)
        cells = torch.arange(side, dtype=torch.float32)
        start = (cells[None, :, None] == first_row[:, :, None]) & (cells[None, None, :] == first_col[:, None])
        empty = inside.flatten(1).any(dim=1).logical_not()[:, None, None]
        return inside | (start & empty)

    def forward(self, canvases: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
        features = aggregate_features(self.backbone(canvases), self.aggregate, self.aggregate_include_pad)
        grid = self.scorer(features, self.inside_cells(valid))
        return smooth_canvas_maps(grid, self.canvas, self.blur_sigma)


class InspectionGraph(nn.Module):
    """The whole scoring path after preprocessing: canvases of images of one shape to each image's map,
    score, normalised score and decision under the version's rule.

    Args:
        detector: a fitted PatchCore, PaDiM or semi-supervised PatchCore.
        rule: the version's threshold and normaliser.

    Raises:
        ValueError: the detector cannot be exported (see :class:`CanvasGraph` and
            :func:`~inference.ml.export.manifest.image_score_rule`).
    """

    def __init__(self, detector: FeatureDetector, rule: DecisionRule) -> None:
        super().__init__()
        self.canvas_maps = CanvasGraph(detector)
        self.verdict = ImageVerdict(image_score_rule(detector), rule)

    def forward(
        self,
        canvases: torch.Tensor,
        places: torch.Tensor,
        scaled_shape: torch.Tensor,
        image_shape: torch.Tensor,
    ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
        count, tiles, side = canvases.shape[0], canvases.shape[1], canvases.shape[-1]
        valid = places[None, :, :4].expand(count, -1, -1).reshape(-1, 4)
        maps = self.canvas_maps(canvases.flatten(0, 1), valid).view(count, tiles, side, side)
        anomaly_map = resize(stitch(maps, places, scaled_shape), scaled_shape, image_shape)
        score, normalized, decision = self.verdict(anomaly_map, image_shape)
        return anomaly_map, score, normalized, decision


def export_onnx(detector: FeatureDetector, rule: DecisionRule, path: Path, manifest: dict[str, Any]) -> None:
    """Write the detector's :class:`InspectionGraph` under ``rule`` as ONNX, the manifest in its
    ``metadata_props`` (all but ``model.sha256``: a file cannot hold its own digest).

    The batch, the canvases per image and the image's shapes are dynamic; the canvas side is the model's.
    """
    import onnx

    graph = InspectionGraph(detector, rule).eval()
    size = detector.params.image_size
    # Two overlapping canvases of a 1.5-canvas-wide image, scaled by 0.9: every step of the path moves.
    example = (
        torch.rand(2, 2, 3, size, size),
        torch.tensor([[0.0, 0.0, size, size, 0, 0], [0.0, 0.0, size, size, 0, size // 2]]),
        torch.tensor([size, size + size // 2]),
        torch.tensor([size * 10 // 9, (size + size // 2) * 10 // 9]),
    )
    dynamic = {"canvases": {0: "batch", 1: "canvases"}, "places": {0: "canvases"}}
    dynamic |= {"anomaly_map": {0: "batch", 1: "height", 2: "width"}}
    dynamic |= {name: {0: "batch"} for name in ("score", "normalized_score", "decision")}
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")  # the TorchScript exporter's deprecation and folding notes
        torch.onnx.export(
            graph,
            example,
            str(path),
            input_names=list(GRAPH_INPUTS),
            output_names=list(GRAPH_OUTPUTS),
            dynamic_axes=dynamic,
            opset_version=OPSET,
            dynamo=False,
        )
    model = onnx.load(str(path))
    facts = {"loupe_manifest": json.dumps(manifest, sort_keys=True)}
    facts.update({f"loupe_{key}": str(value) for key, value in manifest["provenance"].items()})
    for key, value in facts.items():
        model.metadata_props.add(key=key, value=value)
    onnx.save(model, str(path))


def export_openvino(onnx_path: Path, directory: Path) -> None:
    """Convert the ONNX file to OpenVINO IR: ``openvino/model.xml`` (FP32) and ``openvino/model_fp16.xml``
    (weights compressed to FP16), each with its ``.bin``."""
    import openvino

    model = openvino.convert_model(str(onnx_path))
    fp32, _bin32, fp16, _bin16 = (directory / name for name in OPENVINO_FILES)
    fp32.parent.mkdir(parents=True, exist_ok=True)
    openvino.save_model(model, str(fp32), compress_to_fp16=False)
    openvino.save_model(model, str(fp16), compress_to_fp16=True)
