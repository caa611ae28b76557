"""A small classifier on frozen patch features: how much a patch looks like the defects it was shown."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from inference.ml.algorithms.base import ProgressCallback


class PatchHead(nn.Module):
    """Two-layer perceptron from a standardised patch feature to a defect logit.

    Args:
        dim: feature channels.
        hidden: hidden units.
    """

    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.register_buffer("mean", torch.zeros(dim))
        self.register_buffer("std", torch.ones(dim))
        self.hidden = nn.Linear(dim, hidden)
        self.out = nn.Linear(hidden, 1)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Defect logits.

        Args:
            features: ``(N, D)`` float32 patch features.

        Returns:
            ``(N,)`` float32 logits (positive: more likely a defect than not).
        """
        x = (features - self.mean) / self.std
        return self.out(F.relu(self.hidden(x)))[:, 0]


def train_head(
    positives: torch.Tensor,
    positive_odds: torch.Tensor,
    negatives: torch.Tensor,
    negative_odds: torch.Tensor,
    *,
    hidden: int,
    steps: int,
    batch_size: int,
    lr: float,
    seed: int,
    progress: ProgressCallback | None = None,
) -> PatchHead:
    """Fit a :class:`PatchHead` with binary cross-entropy on class-balanced batches.

    Every batch holds ``batch_size / 2`` defect and ``batch_size / 2`` normal patches, drawn with
    replacement in proportion to their odds; balancing the batch, not the loss, keeps the gradient
    of a handful of defect patches from drowning among thousands of normal ones.

    Args:
        positives: ``(P, D)`` defect patch features.
        positive_odds: ``(P,)`` non-negative sampling odds of each.
        negatives: ``(N, D)`` normal patch features.
        negative_odds: ``(N,)`` non-negative sampling odds of each.
        hidden: hidden units.
        steps: Adam steps.
        batch_size: patches per step.
        lr: learning rate.
        seed: seed of the initial weights and the sampling.
        progress: called as ``progress("head", step, steps)``.

    Returns:
        The trained head in eval mode, on the features' device; features are standardised with the
        negatives' per-channel mean and standard deviation.
    """
    device = negatives.device
    generator = torch.Generator().manual_seed(seed)
    # The default initialisation draws from the global generator; fork it so a fit leaves it untouched.
    with torch.random.fork_rng(devices=[]):
        torch.manual_seed(seed)
        head = PatchHead(negatives.shape[1], hidden)
    head.mean.copy_(negatives.mean(dim=0))
    head.std.copy_(negatives.std(dim=0).clamp_min(1e-6))
    head.to(device)
    optimizer = torch.optim.Adam(head.parameters(), lr=lr)
    half = max(1, batch_size // 2)
    targets = torch.cat([torch.ones(half), torch.zeros(half)]).to(device)
    for step in range(steps):
        pick_positive = torch.multinomial(positive_odds.cpu(), half, replacement=True, generator=generator)
        pick_negative = torch.multinomial(negative_odds.cpu(), half, replacement=True, generator=generator)
        batch = torch.cat([positives[pick_positive.to(device)], negatives[pick_negative.to(device)]])
        loss = F.binary_cross_entropy_with_logits(head(batch), targets)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
        if progress is not None:
            progress("head", step + 1, steps)
    return head.eval().requires_grad_(False)
