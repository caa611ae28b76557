"""Choosing where tensors live. Nothing here touches CUDA at import time (workers fork)."""

from __future__ import annotations

import torch


def resolve_device(name: str = "auto") -> torch.device:
    """The device to run on.

    Args:
        name: ``auto`` (CUDA when present, else CPU), ``cpu``, ``cuda`` or ``cuda:N``.

    Raises:
        ValueError: CUDA was asked for and is not available.
    """
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    device = torch.device(name)
    if device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} was requested but CUDA is not available; use 'cpu' or 'auto'")
    return device


def autocast(device: torch.device) -> torch.autocast:
    """Half precision for the backbone on CUDA; a no-op context on the CPU."""
    return torch.autocast(device_type=device.type, dtype=torch.float16, enabled=device.type == "cuda")
