"""PaDiM (Defard et al., "PaDiM: a Patch Distribution Modeling Framework", ICPR 2021).

Fit: at every position of the feature grid, the mean and covariance of the normal images' patch
features (optionally a random subset of channels). Predict: the Mahalanobis distance of each patch
to its position's Gaussian; the image score is the largest value of the smoothed map.

Positions are canvas positions, so PaDiM suits aligned images (same framing from image to image).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from numpy.typing import NDArray

from inference.ml.algorithms.base import (
    ChainedImages,
    FeatureParams,
    FitReport,
    Predictions,
    ProgressCallback,
    hard_normal_positions,
)
from inference.ml.algorithms.features import FeatureDetector, PatchFeatureExtractor
from inference.ml.algorithms.labels import LabeledImage
from inference.ml.postprocess import canvas_maps
from inference.ml.preprocessing import ImageInput, View, stitch


@dataclass(frozen=True, kw_only=True)
class PadimParams(FeatureParams):
    """PaDiM settings (the shared ones are in :class:`FeatureParams`).

    Attributes:
        n_features: channels kept, chosen at random under the seed (0: all of them).
        covariance_eps: added to each covariance's diagonal so it can be inverted.
    """

    n_features: int = 0
    covariance_eps: float = 0.01

    def __post_init__(self) -> None:
        if self.n_features < 0:
            raise ValueError(f"n_features must be 0 (all) or positive, got {self.n_features}")
        if self.covariance_eps <= 0:
            raise ValueError(f"covariance_eps must be positive, got {self.covariance_eps}")


class Padim(FeatureDetector):
    """Per-position Gaussian anomaly detector.

    Args:
        params: settings; defaults when omitted.
        device: ``auto``, ``cpu`` or ``cuda[:N]``.
    """

    tiles_well = False

    name = "padim"
    params_type = PadimParams

    def __init__(
        self,
        params: PadimParams | None = None,
        device: str = "auto",
        *,
        extractor: PatchFeatureExtractor | None = None,
    ) -> None:
        super().__init__(params or PadimParams(), device, extractor=extractor)
        self.params: PadimParams
        self.channels: torch.Tensor | None = None
        self.mean: torch.Tensor | None = None
        self.inverse_covariance: torch.Tensor | None = None

    def fit(
        self,
        images: Sequence[ImageInput],
        *,
        labeled: Sequence[LabeledImage] = (),
        progress: ProgressCallback | None = None,
    ) -> FitReport:
        """Estimate each position's Gaussian from normal images (the hard normals among ``labeled``
        included).

        Args:
            images: defect-free images.
            labeled: labeled images; only the ``normal_hard`` ones are learned.
            progress: called with stage ``features`` (images done).

        Raises:
            ValueError: fewer than two images.
        """
        images = ChainedImages(images, [labeled[i].image for i in hard_normal_positions(labeled)])
        if len(images) < 2:
            raise ValueError("PaDiM needs at least two normal images to estimate covariances")
        started = time.perf_counter()
        self.choose_canvas(images, labeled)
        extractor = self.extractor
        rng = np.random.default_rng(self.params.seed)
        dim = extractor.dim
        keep = self.params.n_features or dim
        if keep > dim:
            raise ValueError(f"n_features={keep} exceeds the backbone's {dim} feature channels")
        channels = torch.from_numpy(np.sort(rng.choice(dim, keep, replace=False))).to(self.device)
        total: torch.Tensor | None = None
        outer: torch.Tensor | None = None
        count = 0
        for batch, _views in self.batch_features(images, "features", progress):
            x = batch[:, channels].flatten(2).permute(2, 0, 1)  # (P, B, D)
            batch_total = x.sum(dim=1).double()
            batch_outer = torch.bmm(x.transpose(1, 2), x).double()
            total = batch_total if total is None else total + batch_total
            outer = batch_outer if outer is None else outer + batch_outer
            count += x.shape[1]
        assert total is not None and outer is not None
        mean = total / count
        covariance = (outer - count * mean[:, :, None] * mean[:, None, :]) / (count - 1)
        covariance += self.params.covariance_eps * torch.eye(keep, dtype=covariance.dtype, device=self.device)
        self.channels = channels
        self.mean = mean.float()
        self.inverse_covariance = torch.linalg.inv(covariance).float()
        return FitReport(
            n_images=len(images),
            n_patches=count * mean.shape[0],
            seconds=time.perf_counter() - started,
            details={"positions": int(mean.shape[0]), "feature_dim": keep, "canvas": self.canvas_reason},
        )

    @torch.no_grad()
    def predict(
        self, images: Sequence[ImageInput], *, progress: ProgressCallback | None = None
    ) -> Predictions:
        """Score images by Mahalanobis distance to the per-position Gaussians.

        Args:
            images: images of any size.
            progress: called with stage ``predict`` (images done).

        Returns:
            Raw scores (Mahalanobis distances) and anomaly maps at each image's size.

        Raises:
            RuntimeError: the model is neither fitted nor loaded.
        """
        if self.mean is None or self.inverse_covariance is None or self.channels is None:
            raise RuntimeError("PaDiM is not fitted: call fit() or load a saved model first")
        size = self.params.image_size
        maps: list[NDArray[np.float32]] = []
        pending: list[tuple[NDArray[np.float32], View]] = []
        for batch, views in self.batch_features(images, "predict", progress):
            count, _dim, height, width = batch.shape
            if height * width != self.mean.shape[0]:
                raise RuntimeError(
                    f"feature grid {height}x{width} does not match the fitted {self.mean.shape[0]} "
                    "positions; the image size changed since fitting"
                )
            delta = batch[:, self.channels].flatten(2).permute(2, 0, 1) - self.mean[:, None]  # (P, B, D)
            squared = (torch.bmm(delta, self.inverse_covariance) * delta).sum(dim=2)  # (P, B)
            grid = squared.clamp_min(0).sqrt().T.reshape(count, height, width)
            canvas = canvas_maps(grid, size, self.params.blur_sigma)
            for row, view in enumerate(views):
                if pending and pending[0][1].image_index != view.image_index:
                    maps.append(stitch([m for m, _ in pending], [v for _, v in pending]))
                    pending.clear()
                pending.append((canvas[row], view))
        if pending:
            maps.append(stitch([m for m, _ in pending], [v for _, v in pending]))
        scores = np.array([float(m.max()) for m in maps], np.float32)
        return Predictions(scores=scores, anomaly_maps=maps)

    def state_tensors(self) -> dict[str, torch.Tensor]:
        """``channels`` ``(D,)``, ``mean`` ``(P, D)`` and ``inverse_covariance`` ``(P, D, D)``."""
        if self.mean is None or self.inverse_covariance is None or self.channels is None:
            raise RuntimeError("PaDiM is not fitted: nothing to save")
        return {"channels": self.channels, "mean": self.mean, "inverse_covariance": self.inverse_covariance}

    def load_state_tensors(self, tensors: dict[str, torch.Tensor], metadata: dict[str, Any]) -> None:
        """Restore the Gaussians."""
        self.channels = tensors["channels"].long().to(self.device)
        self.mean = tensors["mean"].float().to(self.device)
        self.inverse_covariance = tensors["inverse_covariance"].float().to(self.device)
