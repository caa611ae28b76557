"""Exporting a fitted model so that it runs without Loupe: an ONNX graph, an OpenVINO IR, a manifest, and
the parity check that proves the runners give what Loupe gives.

The graph (:mod:`~inference.ml.export.graph`) holds everything a model computes on a canvas: backbone,
feature aggregation, nearest-neighbour search against the memory bank (or PaDiM's Gaussians, or the
semi-supervised head and fusion), upsampling and smoothing. The manifest
(:mod:`~inference.ml.export.manifest`) says how images become canvases and how canvas maps become an
image's map, score, normalised score, decision and regions; ``deploy/python/loupe_inspect.py`` and
``deploy/cpp`` implement that rule, and :func:`export_model` checks the first against
:meth:`~inference.ml.algorithms.base.AnomalyDetector.predict` on real images before anyone ships it.
"""

from inference.ml.export.bundle import ExportResult, export_model
from inference.ml.export.decision import DecisionRule
from inference.ml.export.parity import PARITY_TOLERANCE, ParityFigures

__all__ = ["PARITY_TOLERANCE", "DecisionRule", "ExportResult", "ParityFigures", "export_model"]
