"""Semi-supervised PatchCore: PatchCore's memory bank plus a small head that learns from weak labels.

Fit: PatchCore's memory bank of normal patch features; every patch of a reviewed false positive
(a ``normal_hard`` label) joins the bank, so the same false alarm is not raised again. When labels
name defects, a :class:`~inference.ml.algorithms.patchcore_ss.head.PatchHead` learns on the frozen
patch features to tell defect patches from normal ones. Its defect patches come from the labels
(see :mod:`~inference.ml.algorithms.patchcore_ss.labels`) and from synthetic defects drawn on normal
training images, so that it learns what defects look like in general, not only the handful it was
shown (the idea of DRA, BGAD and PRN); its normal patches come from normal training images and the
labels.

Predict: a patch's score is its PatchCore distance plus ``head_weight`` times the head's logit, each
standardised by its mean and standard deviation on held-out normal training images (distances to a
bank without the image's own patches), so both speak in "standard deviations above normal". The map
and the image score follow as in PatchCore.

Without a defect label there is no head, and the model is PatchCore exactly (with the hard normals
in its bank).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from inference.ml.algorithms.base import FitReport, ProgressCallback
from inference.ml.algorithms.features import PatchFeatureExtractor
from inference.ml.algorithms.labels import LabeledImage, cell_coverage
from inference.ml.algorithms.patchcore import PatchCore, PatchCoreParams
from inference.ml.algorithms.patchcore.bank import MemoryBank
from inference.ml.algorithms.patchcore.model import ImageScore
from inference.ml.algorithms.patchcore_ss.head import PatchHead, train_head
from inference.ml.algorithms.patchcore_ss.labels import patch_targets, valid_cells
from inference.ml.preprocessing import ImageInput, View, standardize_intensity, to_float_rgb
from inference.ml.synthetic import add_defect

_HEAD_PREFIX = "head."
_FUSION = "fusion"


@dataclass(frozen=True, kw_only=True)
class SemiSupervisedParams(PatchCoreParams):
    """Semi-supervised PatchCore settings (PatchCore's are in :class:`PatchCoreParams`).

    Attributes:
        head_weight: weight of the head's standardised logit added to the standardised distance.
        head_hidden: hidden units of the head.
        head_steps: Adam steps of its training.
        head_batch: patches per step (half defect, half normal).
        head_lr: learning rate.
        normal_images: normal training images whose patches are the head's normal examples.
        stats_images: other normal training images, held out from the head, on which both scores
            are standardised.
        synthetic_images: normal training images given a synthetic defect as extra defect examples.
        synthetic_share: share of the defect patches of each batch drawn from synthetic defects, [0, 1).
        box_weight: confidence of a patch inside a box label relative to one under a mask, (0, 1].
        mil_fraction: fraction of an image-level label's patches taken as its defect, (0, 1].
    """

    # The head's evidence is fused in standard deviations; the map's top pixels score it (the
    # peak-or-mean statistics of plain PatchCore would change with every head).
    image_score: ImageScore = "map_top"
    head_weight: float = 1.0
    head_hidden: int = 256
    head_steps: int = 300
    head_batch: int = 512
    head_lr: float = 1e-3
    normal_images: int = 32
    stats_images: int = 16
    synthetic_images: int = 32
    synthetic_share: float = 0.5
    box_weight: float = 0.5
    mil_fraction: float = 0.01

    def __post_init__(self) -> None:
        super().__post_init__()
        if self.image_score not in ("map_top", "map_max"):
            raise ValueError(
                "patchcore_ss scores images by their map: image_score must be map_top or map_max"
            )
        if self.head_weight < 0:
            raise ValueError(f"head_weight must be non-negative, got {self.head_weight}")
        if min(self.head_hidden, self.head_steps, self.head_batch, self.normal_images) < 1:
            raise ValueError("head_hidden, head_steps, head_batch and normal_images must be at least 1")
        if min(self.stats_images, self.synthetic_images) < 0:
            raise ValueError("stats_images and synthetic_images must be non-negative")
        if not 0 <= self.synthetic_share < 1:
            raise ValueError(f"synthetic_share must be in [0, 1), got {self.synthetic_share}")
        if not 0 < self.box_weight <= 1:
            raise ValueError(f"box_weight must be in (0, 1], got {self.box_weight}")
        if not 0 < self.mil_fraction <= 1:
            raise ValueError(f"mil_fraction must be in (0, 1], got {self.mil_fraction}")


@dataclass
class _Examples:
    """The patches of one image that a label says something of (non-zero weight).

    Attributes:
        features: ``(n, D)`` on the model's device.
        targets: ``(n,)`` 1 defect, 0 normal.
        weights: ``(n,)`` confidence, in (0, 1].
    """

    features: torch.Tensor
    targets: torch.Tensor
    weights: torch.Tensor


class SemiSupervisedPatchCore(PatchCore):
    """PatchCore that also learns from labeled defects and reviewed false positives.

    Args:
        params: settings; defaults when omitted.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
    """

    name = "patchcore_ss"
    params_type = SemiSupervisedParams
    uses_labels = True

    def __init__(
        self,
        params: SemiSupervisedParams | None = None,
        device: str = "auto",
        *,
        bank: MemoryBank | None = None,
        extractor: PatchFeatureExtractor | None = None,
    ) -> None:
        super().__init__(params or SemiSupervisedParams(), device, bank=bank, extractor=extractor)
        self.params: SemiSupervisedParams
        self.head: PatchHead | None = None
        self.fusion: torch.Tensor | None = None
        """``(4,)``: mean and standard deviation of normal distances, then of normal head logits."""

    def fit(
        self,
        images: Sequence[ImageInput],
        *,
        labeled: Sequence[LabeledImage] = (),
        progress: ProgressCallback | None = None,
    ) -> FitReport:
        """Build the memory bank from normal images and the hard normals, then learn from the labels.

        Args:
            images: defect-free images.
            labeled: weakly labeled images: defects of any kind, and ``normal_hard`` false positives.
            progress: called with stages ``features`` and ``coreset`` (as PatchCore), ``normal_hard``
                (hard normals added to the bank), ``labels`` (images the head learns from) and
                ``head`` (training steps).

        Returns:
            What was fitted; ``predict`` later reports, for a hard normal's patch, ``nearest_normal``
            ``len(images) + i`` with ``i`` its position in ``labeled``.

        Raises:
            ValueError: no normal images.
        """
        started = time.perf_counter()
        labeled = tuple(labeled)
        report = super().fit(images, labeled=labeled, progress=progress)
        details = self.fit_head(images, labeled, progress=progress)
        assert self.memory_bank is not None
        return FitReport(
            n_images=report.n_images,
            n_patches=report.n_patches,
            seconds=time.perf_counter() - started,
            details={**report.details, "memory_bank_size": len(self.memory_bank), **details},
        )

    def fit_head(
        self,
        images: Sequence[ImageInput],
        labeled: Sequence[LabeledImage],
        *,
        progress: ProgressCallback | None = None,
    ) -> dict[str, float | int]:
        """Train the head on the fitted memory bank; drop it when no label names a defect.

        :meth:`fit` calls this; calling it again learns from new labels without rebuilding the bank
        (``normal_hard`` labels then only teach the head).

        Args:
            images: the normal images the bank was built from (a few are sampled).
            labeled: weakly labeled images.
            progress: called with stages ``labels`` (images done) and ``head`` (steps done).

        Returns:
            Figures for the fit report: patches learned from and seconds taken.

        Raises:
            RuntimeError: the memory bank is not fitted.
        """
        if self.memory_bank is None:
            raise RuntimeError("fit the memory bank before the head")
        self.head = None
        self.fusion = None
        if not any(label.is_defective for label in labeled):
            return {}
        started = time.perf_counter()
        params = self.params
        rng = np.random.default_rng([params.seed, 1])  # a stream apart from the coreset's
        order = rng.permutation(len(images))
        n_stats = min(params.stats_images, len(images) // 2)
        # With a single image the statistics come from the head's own normal image.
        stats_index = order[: max(1, n_stats)]
        normal_index = order[n_stats : n_stats + params.normal_images]
        normals = [LabeledImage(images[i], "normal_hard") for i in normal_index]
        synthetic = [
            self._synthetic_defect(images[normal_index[i % len(normal_index)]], rng)
            for i in range(params.synthetic_images)
        ]
        groups = [normals, synthetic, list(labeled)]
        everything = [images[i] for i in stats_index] + [label.image for group in groups for label in group]
        grids = self._canvas_features(everything, "labels", progress)
        stats_grids, grids = grids[: len(stats_index)], grids[len(stats_index) :]
        remaining = iter(grids)
        examples = [[self._examples(label, next(remaining)[0]) for label in group] for group in groups]
        extracted = time.perf_counter()

        positives, positive_odds = _positive_pool(
            examples[1:], [params.synthetic_share, 1 - params.synthetic_share]
        )
        negatives = [e for group in examples for e in group]
        negative_mask = torch.cat([e.targets == 0 for e in negatives])
        negative_features = torch.cat([e.features for e in negatives])[negative_mask.to(self.device)]
        negative_odds = torch.cat([e.weights for e in negatives])[negative_mask]
        self.head = train_head(
            positives,
            positive_odds,
            negative_features,
            negative_odds,
            hidden=params.head_hidden,
            steps=params.head_steps,
            batch_size=params.head_batch,
            lr=params.head_lr,
            seed=params.seed,
            progress=progress,
        )
        self.fusion = self._normal_statistics(stats_grids, stats_index, len(images))
        return {
            "head_positive_patches": len(positives),
            "head_negative_patches": len(negative_features),
            "head_feature_seconds": extracted - started,
            "head_seconds": time.perf_counter() - extracted,
        }

    def _synthetic_defect(self, image: ImageInput, rng: np.random.Generator) -> LabeledImage:
        """A copy of a normal image with one synthetic defect, labeled by its exact mask."""
        rgb = to_float_rgb(image)
        if self.params.normalize_intensity:
            # Draw the defect at the contrast the backbone will see, not that of a dark raw image.
            rgb = standardize_intensity(torch.from_numpy(rgb).permute(2, 0, 1)).permute(1, 2, 0).numpy()
        pixels = np.round(rgb * 255).astype(np.uint8)
        if (pixels == pixels[..., :1]).all():
            pixels = pixels[..., 0]
        defective, mask, _ = add_defect(pixels, rng)
        return LabeledImage(defective, "mask", mask=mask)

    def _canvas_features(
        self, images: Sequence[ImageInput], stage: str, progress: ProgressCallback | None
    ) -> list[tuple[torch.Tensor, list[View]]]:
        """Each image's canvas features ``(V, D, h, w)`` and views."""
        grids: list[list[torch.Tensor]] = [[] for _ in images]
        views: list[list[View]] = [[] for _ in images]
        for batch, batch_views in self.batch_features(images, stage, progress):
            for grid, view in zip(batch, batch_views, strict=True):
                grids[view.image_index].append(grid)
                views[view.image_index].append(view)
        return [(torch.stack(g), v) for g, v in zip(grids, views, strict=True)]

    def _examples(self, label: LabeledImage, features: torch.Tensor) -> _Examples:
        """The weighted cells of one labeled image (only cells with a non-zero weight).

        Args:
            label: the labeled image.
            features: ``(V, D, h, w)`` features of its canvases.
        """
        # The marks are cut into canvases exactly as the image was: same shape, same settings.
        coverage, views = cell_coverage(label, self.params.preprocess, self.extractor.stride)
        valid = valid_cells(views, (coverage.shape[1], coverage.shape[2]), self.params.image_size)
        cells = features.permute(0, 2, 3, 1)  # (V, h, w, D)
        unsupervised = None
        if label.kind == "image":
            flat = torch.from_numpy(valid.reshape(-1)).to(self.device)
            distances = torch.zeros(flat.shape, device=self.device)
            distances[flat] = self.bank.nearest(cells.reshape(-1, cells.shape[-1])[flat])[0]
            unsupervised = distances.view(valid.shape).cpu().numpy()
        targets, weights = patch_targets(
            label,
            coverage,
            valid,
            unsupervised,
            box_weight=self.params.box_weight,
            mil_fraction=self.params.mil_fraction,
        )
        keep = torch.from_numpy(weights > 0)
        return _Examples(
            features=cells[keep.to(self.device)],
            targets=torch.from_numpy(targets)[keep],
            weights=torch.from_numpy(weights)[keep],
        )

    @torch.no_grad()
    def _normal_statistics(
        self, grids: list[tuple[torch.Tensor, list[View]]], indices: NDArray[np.int64], n_images: int
    ) -> torch.Tensor:
        """Mean and standard deviation of the distance and of the head logit over normal patches.

        Distances skip the bank entries of the image's own patches (when other images exist), as if it
        had been held out of the bank; the head never saw these images.
        """
        assert self.head is not None and self.bank_sources is not None
        distances, logits = [], []
        for (features, views), index in zip(grids, indices, strict=True):
            grid_shape = (features.shape[-2], features.shape[-1])
            valid = torch.from_numpy(valid_cells(views, grid_shape, self.params.image_size))
            cells = features.permute(0, 2, 3, 1)[valid.to(self.device)]
            skip = self.bank_sources == int(index)
            distances.append(self.bank.nearest(cells, skip if n_images > 1 and not skip.all() else None)[0])
            logits.append(self.head(cells))
        distance, logit = torch.cat(distances), torch.cat(logits)
        return torch.stack(
            [distance.mean(), distance.std().clamp_min(1e-6), logit.mean(), logit.std().clamp_min(1e-6)]
        ).cpu()

    def _patch_scores(self, queries: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """PatchCore's distance, plus the head's evidence when there is a head (both standardised)."""
        distances, indices = self.bank.nearest(queries)
        if self.head is None or self.fusion is None:
            return distances, indices
        distance_mean, distance_std, logit_mean, logit_std = self.fusion.tolist()
        fused = (distances - distance_mean) / distance_std
        fused += self.params.head_weight * (self.head(queries) - logit_mean) / logit_std
        return fused, indices

    def clear_head(self) -> None:
        """Forget what the labels taught: predictions are the memory bank's alone again."""
        self.head = None
        self.fusion = None

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """PatchCore's tensors, plus ``head.*`` and ``fusion`` ``(4,)`` when there is a head."""
        tensors = super().state_tensors()
        if self.head is not None and self.fusion is not None:
            tensors.update({_HEAD_PREFIX + k: v for k, v in self.head.state_dict().items()})
            tensors[_FUSION] = self.fusion
        return tensors

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
        """Restore the memory bank and, when saved, the head."""
        super().load_state_tensors(tensors, metadata)
        self.head = None
        self.fusion = None
        if _FUSION in tensors:
            state = {k[len(_HEAD_PREFIX) :]: v for k, v in tensors.items() if k.startswith(_HEAD_PREFIX)}
            hidden, dim = state["hidden.weight"].shape
            head = PatchHead(dim, hidden)
            head.load_state_dict(state)
            self.head = head.to(self.device).eval().requires_grad_(False)
            self.fusion = tensors[_FUSION].float()


def _positive_pool(groups: list[list[_Examples]], shares: list[float]) -> tuple[torch.Tensor, torch.Tensor]:
    """Defect patches of several groups of images, with sampling odds.

    Each non-empty group gets its share of the odds (renormalised over the non-empty ones); within a
    group every image gets odds in proportion to the mean weight of its defect patches, so one large
    defect does not outweigh many small ones; within an image, patches get odds by weight.

    Returns:
        ``(P, D)`` features and ``(P,)`` odds.

    Raises:
        ValueError: no group has a defect patch.
    """
    features, odds = [], []
    for group, share in zip(groups, shares, strict=True):
        masks = [e.targets > 0 for e in group]
        images = [(e, m) for e, m in zip(group, masks, strict=True) if m.any()]
        if not images:
            continue
        confidence = torch.stack([e.weights[m].mean() for e, m in images])
        image_odds = share * confidence / confidence.sum()
        for (example, mask), image_share in zip(images, image_odds, strict=True):
            weights = example.weights[mask]
            features.append(example.features[mask.to(example.features.device)])
            odds.append(image_share * weights / weights.sum())
    if not features:
        raise ValueError("the defect labels mark no patch of their images (are they outside the image?)")
    return torch.cat(features), torch.cat(odds)
