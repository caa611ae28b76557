"""Synthetic normal textures and defects with pixel masks: demo data, tests, pseudo-anomalies.

Example::

    rng = np.random.default_rng(0)
    normal = normal_texture(rng, 256)                      # (256, 256) uint8
    defective, mask, kind = add_defect(normal, rng)        # mask: (256, 256) bool

Every function draws all its randomness from the ``rng`` it is given, so a seed reproduces an image.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from numpy.typing import NDArray
from scipy import ndimage

TextureStyle = Literal["brushed", "woven", "granular"]
DEFECT_KINDS: tuple[str, ...] = ("scratch", "stain", "hole", "crack", "patch")
TEXTURE_STYLES: tuple[str, ...] = ("brushed", "woven", "granular")


def _shape(size: int | tuple[int, int]) -> tuple[int, int]:
    return (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))


def _smooth_noise(
    rng: np.random.Generator, shape: tuple[int, int], sigma: float | tuple[float, float]
) -> NDArray[np.float64]:
    """Gaussian-filtered white noise scaled to unit standard deviation."""
    noise = ndimage.gaussian_filter(rng.standard_normal(shape), sigma, mode="wrap")
    return noise / (noise.std() + 1e-12)


def normal_texture(
    rng: np.random.Generator,
    size: int | tuple[int, int],
    *,
    style: TextureStyle = "brushed",
    color: bool = False,
) -> NDArray[np.uint8]:
    """A defect-free product surface: the same kind of texture every call, different in detail.

    Args:
        rng: randomness source.
        size: side, or ``(height, width)``, px.
        style: ``brushed`` (metal with streaks), ``woven`` (periodic fabric) or ``granular`` (cast/sintered).
        color: three channels with a slight tint instead of grayscale.

    Returns:
        ``(H, W)`` uint8, or ``(H, W, 3)`` when ``color``.

    Raises:
        ValueError: unknown style.
    """
    height, width = _shape(size)
    shape = (height, width)
    base = 0.5 + rng.normal(0.0, 0.015)
    lighting = 0.03 * _smooth_noise(rng, shape, max(height, width) / 4)
    grain = 0.025 * rng.standard_normal(shape)
    if style == "brushed":
        structure = 0.06 * _smooth_noise(rng, shape, (0.7, max(4.0, width / 12)))
    elif style == "woven":
        period = 10.0
        rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
        phase = rng.uniform(0, 2 * np.pi, size=2)
        structure = (
            0.08 * np.sin(2 * np.pi * rows / period + phase[0]) * np.sin(2 * np.pi * cols / period + phase[1])
        )
    elif style == "granular":
        structure = 0.06 * _smooth_noise(rng, shape, 1.5)
    else:
        raise ValueError(f"unknown texture style {style!r}; choose from {', '.join(TEXTURE_STYLES)}")
    gray = base + lighting + structure + grain
    if color:
        tint = np.array([1.0, 0.97, 0.92])
        return _to_uint8(gray[..., None] * tint)
    return _to_uint8(gray)


def _to_uint8(values: NDArray[np.float64]) -> NDArray[np.uint8]:
    return np.clip(np.round(values * 255.0), 0, 255).astype(np.uint8)


def _polyline_distance(shape: tuple[int, int], points: NDArray[np.float64]) -> NDArray[np.float64]:
    """Distance of every pixel to a polyline given as ``(K, 2)`` (row, column) points, px."""
    rows, cols = np.mgrid[0 : shape[0], 0 : shape[1]].astype(np.float64)
    pixels = np.stack([rows, cols], axis=-1)
    best = np.full(shape, np.inf)
    for start, end in zip(points[:-1], points[1:], strict=True):
        segment = end - start
        length_sq = float(segment @ segment) or 1e-12
        t = np.clip(((pixels - start) @ segment) / length_sq, 0.0, 1.0)
        nearest = start + t[..., None] * segment
        best = np.minimum(best, np.linalg.norm(pixels - nearest, axis=-1))
    return best


def _scratch(
    rng: np.random.Generator, shape: tuple[int, int]
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    height, width = shape
    side = min(height, width)
    start = rng.uniform([0.15 * height, 0.15 * width], [0.85 * height, 0.85 * width])
    angle = rng.uniform(0, np.pi)
    length = rng.uniform(0.25, 0.5) * side
    direction = np.array([np.sin(angle), np.cos(angle)])
    bend = rng.normal(0, 0.08 * length) * np.array([-direction[1], direction[0]])
    points = np.stack([start, start + 0.5 * length * direction + bend, start + length * direction])
    points = np.clip(points, 0, [height - 1, width - 1])
    half_width = rng.uniform(0.8, 1.6)
    distance = _polyline_distance(shape, points)
    profile = np.clip(half_width + 0.5 - distance, 0.0, 1.0)
    sign = rng.choice([-1.0, 1.0])
    return sign * rng.uniform(0.25, 0.4) * profile, profile > 0.5


def _crack(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    height, width = shape
    side = min(height, width)
    steps = int(rng.integers(8, 14))
    step = rng.uniform(0.03, 0.05) * side
    heading = rng.uniform(0, 2 * np.pi)
    point = rng.uniform([0.25 * height, 0.25 * width], [0.75 * height, 0.75 * width])
    points = [point]
    for _ in range(steps):
        heading += rng.normal(0, 0.5)
        point = np.clip(
            point + step * np.array([np.sin(heading), np.cos(heading)]), 0, [height - 1, width - 1]
        )
        points.append(point)
    distance = _polyline_distance(shape, np.stack(points))
    branch_start = points[len(points) // 2]
    branch_heading = heading + rng.choice([-1.0, 1.0]) * rng.uniform(0.6, 1.2)
    branch_end = np.clip(
        branch_start + 0.25 * steps * step * np.array([np.sin(branch_heading), np.cos(branch_heading)]),
        0,
        [height - 1, width - 1],
    )
    distance = np.minimum(distance, _polyline_distance(shape, np.stack([branch_start, branch_end])))
    profile = np.clip(1.5 - distance, 0.0, 1.0)
    return -rng.uniform(0.35, 0.5) * profile, profile > 0.5


def _ellipse(
    rng: np.random.Generator, shape: tuple[int, int], scale: tuple[float, float]
) -> NDArray[np.float64]:
    """Normalised elliptic radius (1 on the rim) of a random ellipse inside the image."""
    height, width = shape
    side = min(height, width)
    radii = rng.uniform(scale[0], scale[1], size=2) * side
    center = rng.uniform([radii.max(), radii.max()], [height - radii.max(), width - radii.max()])
    angle = rng.uniform(0, np.pi)
    rows, cols = np.mgrid[0:height, 0:width].astype(np.float64)
    dy, dx = rows - center[0], cols - center[1]
    u = (dx * np.cos(angle) + dy * np.sin(angle)) / radii[0]
    v = (-dx * np.sin(angle) + dy * np.cos(angle)) / radii[1]
    return np.sqrt(u * u + v * v)


def _stain(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    radius = _ellipse(rng, shape, (0.06, 0.14))
    radius = radius * (1 + 0.15 * _smooth_noise(rng, shape, min(shape) / 16))
    alpha = np.clip((1.2 - radius) / 0.4, 0.0, 1.0)
    sign = rng.choice([-1.0, 1.0])
    return sign * rng.uniform(0.15, 0.25) * alpha, alpha > 0.5


def _hole(rng: np.random.Generator, shape: tuple[int, int]) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    radius = _ellipse(rng, shape, (0.03, 0.06))
    inside = np.clip((1.0 - radius) * 4.0, 0.0, 1.0)
    rim = np.exp(-(((radius - 1.1) / 0.12) ** 2))
    return -0.4 * inside + 0.15 * rim, radius < 1.0


def add_defect(
    image: NDArray[np.uint8],
    rng: np.random.Generator,
    kind: str | None = None,
) -> tuple[NDArray[np.uint8], NDArray[np.bool_], str]:
    """Draw one defect on a copy of an image.

    Args:
        image: ``(H, W)`` or ``(H, W, 3)`` uint8, at least 16 px a side.
        rng: randomness source.
        kind: one of :data:`DEFECT_KINDS` (``scratch``, ``stain``, ``hole``, ``crack``, ``patch``);
            random when ``None``.

    Returns:
        The defective image (same shape and type), its ``(H, W)`` bool mask, and the kind drawn.

    Raises:
        ValueError: unknown kind, or an image too small or not uint8.
    """
    if image.dtype != np.uint8 or image.ndim not in (2, 3) or min(image.shape[:2]) < 16:
        raise ValueError(
            f"expected a uint8 (H, W[, 3]) image of at least 16 px a side, got {image.dtype} {image.shape}"
        )
    kind = kind or str(rng.choice(DEFECT_KINDS))
    shape = (image.shape[0], image.shape[1])
    values = image.astype(np.float64) / 255.0
    if kind == "patch":
        pasted, mask = _paste_patch(values, rng)
        return _to_uint8(pasted), mask, kind
    makers = {"scratch": _scratch, "stain": _stain, "hole": _hole, "crack": _crack}
    if kind not in makers:
        raise ValueError(f"unknown defect kind {kind!r}; choose from {', '.join(DEFECT_KINDS)}")
    delta, mask = makers[kind](rng, shape)
    if values.ndim == 3:
        delta = delta[..., None]
    return _to_uint8(values + delta), mask, kind


def _paste_patch(
    values: NDArray[np.float64], rng: np.random.Generator
) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """Paste a rotated, re-contrasted square from elsewhere in the image (a foreign-material look)."""
    height, width = values.shape[:2]
    side = max(4, int(rng.uniform(0.1, 0.18) * min(height, width)))
    top, left = (int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1)))
    src_top, src_left = (int(rng.integers(0, height - side + 1)), int(rng.integers(0, width - side + 1)))
    source = np.rot90(values[src_top : src_top + side, src_left : src_left + side], k=int(rng.integers(1, 4)))
    mean = source.mean()
    source = mean + 2.0 * (source - mean) + rng.choice([-1.0, 1.0]) * rng.uniform(0.1, 0.15)
    out = values.copy()
    out[top : top + side, left : left + side] = source
    mask = np.zeros((height, width), bool)
    mask[top : top + side, left : left + side] = True
    return out, mask
