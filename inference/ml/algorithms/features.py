"""Locally aggregated multi-scale patch features, shared by PatchCore and PaDiM."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import replace
from functools import cached_property
from pathlib import Path
from typing import Any, ClassVar, Self

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from scipy import ndimage

from inference.ml.algorithms.base import AnomalyDetector, FeatureParams, ProgressCallback
from inference.ml.algorithms.labels import LabeledImage, cell_coverage
from inference.ml.backbones import get_backbone
from inference.ml.defect_types import DefectTypeClassifier
from inference.ml.device import autocast
from inference.ml.preprocessing import (
    ImageInput,
    PreprocessConfig,
    View,
    choose_canvas,
    image_shape,
    iter_views,
)

_CANVAS_SAMPLE = 16
"""Training images whose size the automatic canvas choice reads."""


def aggregate_features(maps: Sequence[torch.Tensor], size: int, include_pad: bool) -> torch.Tensor:
    """Backbone maps averaged over a ``size`` x ``size`` neighbourhood (the zero padding past the edge
    counted or not), brought to the finest map's grid and stacked: ``(B, D, h, w)`` float32 (the exported
    graph computes exactly this too)."""
    target = maps[0].shape[-2:]
    out = []
    for feature_map in maps:
        feature_map = feature_map.float()
        if size > 1:
            feature_map = F.avg_pool2d(feature_map, size, 1, size // 2, count_include_pad=include_pad)
        if feature_map.shape[-2:] != target:
            feature_map = F.interpolate(feature_map, size=target, mode="bilinear", align_corners=False)
        out.append(feature_map)
    return torch.cat(out, dim=1).contiguous()


class PatchFeatureExtractor:
    """Backbone maps averaged over a small neighbourhood, brought to the finest stride and stacked.

    Args:
        params: backbone, layers, canvas and aggregation settings.
        device: where the backbone runs (half precision on CUDA).
    """

    def __init__(self, params: FeatureParams, device: torch.device) -> None:
        self.params = params
        self.device = device
        backbone = get_backbone(params.backbone, params.weights_path, params.layers or None)
        # channels_last roughly doubles CPU convolution throughput for these networks.
        self.backbone = backbone.to(device=device, memory_format=torch.channels_last)
        self.stride = min(backbone.strides)
        self.dim = sum(backbone.channels)

    def grid_shape(self) -> tuple[int, int]:
        """``(h, w)`` of the feature grid of one canvas."""
        side = -(-self.params.image_size // self.stride)
        return side, side

    @torch.no_grad()
    def __call__(self, canvases: torch.Tensor) -> torch.Tensor:
        """Patch features of a batch of canvases.

        Args:
            canvases: ``(B, 3, S, S)`` RGB in [0, 1], on any device.

        Returns:
            ``(B, D, S / s, S / s)`` float32 on :attr:`device`, ``s`` the finest layer stride.
        """
        x = canvases.to(self.device, non_blocking=True).contiguous(memory_format=torch.channels_last)
        with autocast(self.device):
            maps = self.backbone(x)
        return aggregate_features(maps, self.params.aggregate, self.params.aggregate_include_pad)

    def iter_batches(
        self,
        images: Sequence[ImageInput],
        preprocess: PreprocessConfig,
        stage: str,
        progress: ProgressCallback | None,
    ) -> Iterator[tuple[torch.Tensor, list[View]]]:
        """Features of every canvas of ``images``, batch by batch, reporting progress per image.

        Args:
            images: the images.
            preprocess: how they become canvases (of the extractor's ``image_size``).
            stage: the stage name given to ``progress``.
            progress: called as ``progress(stage, images_done, total)``.

        Yields:
            ``(B, D, h, w)`` features and the ``B`` views they come from.
        """
        total = len(images)
        for canvases, views in iter_views(images, preprocess, self.params.batch_size):
            yield self(canvases), views
            if progress is not None:
                progress(stage, views[-1].image_index + 1, total)


def narrowest_defect(labeled: Sequence[LabeledImage]) -> float | None:
    """Width, px, of the narrowest defect outlined by a mask or a box, or None without one.

    A mask region's width is its area over the longer side of its bounding box (a thin diagonal
    scratch is thin); a box's is its shorter side.
    """
    widths: list[float] = []
    for label in labeled:
        if label.kind == "mask" and label.mask is not None:
            regions, count = ndimage.label(label.mask)
            for index, found in enumerate(ndimage.find_objects(regions), start=1):
                if found is not None:
                    extent = max(found[0].stop - found[0].start, found[1].stop - found[1].start)
                    widths.append(float((regions[found] == index).sum()) / extent)
        elif label.kind == "box":
            widths += [float(min(width, height)) for _x, _y, width, height in label.boxes]
    return min(widths) if widths else None


class FeatureDetector(AnomalyDetector):
    """An algorithm over backbone patch features; the backbone loads on first use, not at construction.

    Args:
        params: the algorithm's parameters.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
        extractor: the feature extractor to use (e.g. one that caches features between runs); by
            default one built from ``params`` on first use.

    Attributes:
        canvas_reason: why the canvas is what it is, once :meth:`choose_canvas` settled it.
        defect_types: the head that tells known defect types apart (:meth:`fit_defect_types`), saved
            with the model; ``None`` until one is learned.
        tiles_well: whether the algorithm may see an image as several tiles (not one that models each
            canvas position, as PaDiM does).
    """

    tiles_well: ClassVar[bool] = True

    def __init__(
        self, params: FeatureParams, device: str = "auto", *, extractor: PatchFeatureExtractor | None = None
    ) -> None:
        super().__init__(params, device)
        self.canvas_reason = f"preprocess_mode={params.preprocess_mode} was given"
        self.defect_types: DefectTypeClassifier | None = None
        if extractor is not None:
            self.extractor = extractor

    @cached_property
    def extractor(self) -> PatchFeatureExtractor:
        """The feature extractor for this detector's parameters and device."""
        return PatchFeatureExtractor(self.params, self.device)

    def batch_features(
        self, images: Sequence[ImageInput], stage: str, progress: ProgressCallback | None
    ) -> Iterator[tuple[torch.Tensor, list[View]]]:
        """Features of every canvas of ``images`` under this detector's preprocessing, batch by batch
        (see :meth:`PatchFeatureExtractor.iter_batches`)."""
        return self.extractor.iter_batches(images, self.params.preprocess, stage, progress)

    def choose_canvas(self, images: Sequence[ImageInput], labeled: Sequence[LabeledImage] = ()) -> None:
        """Settle ``preprocess_mode="auto"`` from the training images' size and the narrowest labeled
        defect (:func:`~inference.ml.preprocessing.choose_canvas`); the parameters then hold the mode and
        scale chosen, and :attr:`canvas_reason` says why. Other modes are left as they are.

        Raises:
            ValueError: no images.
        """
        if self.params.preprocess_mode != "auto":
            return
        if not self.tiles_well:
            self.params = replace(self.params, preprocess_mode="letterbox")
            self.canvas_reason = f"{self.name} models each canvas position, so images are letterboxed"
            return
        picks = np.linspace(0, len(images) - 1, min(len(images), _CANVAS_SAMPLE)).round().astype(int)
        shapes = [image_shape(images[int(i)]) for i in np.unique(picks)]
        choice = choose_canvas(shapes, self.params.image_size, narrowest_defect(labeled))
        self.params = replace(self.params, preprocess_mode=choice.mode, tile_scale=choice.tile_scale)
        self.canvas_reason = choice.reason

    def region_descriptors(
        self, images: Sequence[ImageInput], regions: Sequence[Sequence[NDArray[np.bool_]]]
    ) -> list[NDArray[np.float32]]:
        """The mean backbone feature under each region: the cells it covers, each weighted by how much
        of it the region covers, through this detector's canvas. One backbone pass per image, so pass
        only images that have regions.

        Args:
            images: the images.
            regions: per image, its regions as ``(H_i, W_i)`` bool masks.

        Returns:
            Per image, ``(R_i, D)`` float32, one row per region.

        Raises:
            ValueError: ``regions`` does not match ``images``, or a mask marks nothing or is not of its
                image's shape.
        """
        if len(regions) != len(images):
            raise ValueError(f"{len(regions)} region lists for {len(images)} images")
        coverage = []
        for image, masks in zip(images, regions, strict=True):
            grids = []
            for mask in masks:
                if not np.any(mask):
                    raise ValueError("a region descriptor needs a mask that marks at least one pixel")
                label = LabeledImage(image, "mask", mask=np.asarray(mask, bool))
                grids.append(cell_coverage(label, self.params.preprocess, self.extractor.stride)[0])
            coverage.append(np.stack(grids) if grids else np.zeros((0, 0, 1, 1), np.float32))
        sums = [np.zeros((len(masks), self.extractor.dim), np.float64) for masks in regions]
        canvas = [0] * len(images)
        with torch.no_grad():
            for batch, views in self.batch_features(images, "regions", None):
                for features, view in zip(batch.float().cpu().numpy(), views, strict=True):
                    index = view.image_index
                    if len(regions[index]):
                        # (R, h, w) weights of this canvas against its (D, h, w) features.
                        weight = coverage[index][:, canvas[index]]
                        sums[index] += np.einsum("rhw,dhw->rd", weight, features)
                    canvas[index] += 1
        totals = [grids.sum(axis=(1, 2, 3)) for grids in coverage]
        return [
            (total / np.maximum(weight, 1e-12)[:, None]).astype(np.float32)
            for total, weight in zip(sums, totals, strict=True)
        ]

    def fit_defect_types(
        self,
        images: Sequence[ImageInput],
        regions: Sequence[Sequence[NDArray[np.bool_]]],
        types: Sequence[Sequence[str]],
    ) -> int:
        """Learn to tell known defect types apart from labeled regions, after :meth:`fit` (the canvas
        must be settled); :meth:`region_types` then names the type of any region.

        Args:
            images: images with typed regions.
            regions: per image, its regions as bool masks (see :meth:`region_descriptors`).
            types: per image, the type of each of its regions.

        Returns:
            The number of regions learned from.

        Raises:
            ValueError: fewer than two types, or shapes that do not match.
        """
        flat = [kind for kinds in types for kind in kinds]
        if [len(kinds) for kinds in types] != [len(masks) for masks in regions]:
            raise ValueError("every region needs exactly one type")
        if len(set(flat)) < 2:
            raise ValueError("telling defect types apart needs regions of at least two types")
        descriptors = np.concatenate(self.region_descriptors(images, regions))
        self.defect_types = DefectTypeClassifier.fit(descriptors, flat)
        return len(flat)

    def region_types(
        self, images: Sequence[ImageInput], regions: Sequence[Sequence[NDArray[np.bool_]]]
    ) -> list[list[tuple[str, float]]]:
        """The most probable known type of each region, with its probability.

        Raises:
            RuntimeError: no defect types were learned.
        """
        if self.defect_types is None:
            raise RuntimeError("this model has learned no defect types")
        classes = self.defect_types.classes
        return [
            [(classes[int(row.argmax())], float(row.max())) for row in self.defect_types.probabilities(rows)]
            for rows in self.region_descriptors(images, regions)
        ]

    def metadata(self) -> dict[str, Any]:
        """The defect-type head, when one was learned."""
        return {"defect_types": self.defect_types.to_dict()} if self.defect_types is not None else {}

    @classmethod
    def from_saved(cls, document: dict[str, Any], directory: Path, device: str = "auto") -> Self:
        """Rebuild a saved model with its defect-type head, if it has one; one saved before
        ``aggregate_include_pad`` existed keeps the average it was fitted with."""
        params = document.get("params", {})
        if "aggregate_include_pad" not in params:
            document = {**document, "params": {**params, "aggregate_include_pad": False}}
        model = super().from_saved(document, directory, device=device)
        saved = document.get("metadata", {}).get("defect_types")
        model.defect_types = DefectTypeClassifier.from_dict(saved) if saved else None
        return model
