"""From user images (any size, grayscale, 8 or 16 bit) to fixed-size network inputs, and back.

An image becomes one or more *views*: square canvases of ``image_size`` pixels that the backbone
sees. Three modes:

- ``letterbox`` (default): scale the longer side to ``image_size`` keeping the aspect ratio; the rest
  of the canvas is a mirror of the image, and is marked invalid (no memory-bank entries, no scores).
- ``resize``: stretch to ``image_size`` x ``image_size`` (the classic recipe; distorts shapes).
- ``tile``: scale by ``tile_scale`` (1 = native resolution) and cut into overlapping canvases, so a
  5-pixel scratch on a 2,000-pixel image keeps its 5 pixels.

Anomaly maps computed on the canvases are put back together by :func:`stitch` at the image's size.
:func:`choose_canvas` picks the mode and scale from the data (an algorithm's ``preprocess_mode="auto"``).
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from PIL import Image

ImageInput = NDArray[np.generic] | Image.Image
Mode = Literal["letterbox", "resize", "tile"]
MIN_DEFECT_PX = 16
"""Least width, canvas px, a defect keeps after scaling: two cells of a stride-8 feature map."""
TILE_GAIN = 1.5
"""Tiles are cut only when they see the image at least this many times finer than the letterbox: below
that, the letterbox's whole-image context was worth more (measured on the magnetic tiles, whose images
are about the canvas's size: native tiles lost 2 points of image AUROC and 4 of pixel AUROC)."""


@dataclass(frozen=True)
class PreprocessConfig:
    """How images become canvases.

    Attributes:
        image_size: side of the square canvas the backbone sees, px.
        mode: ``letterbox``, ``resize`` or ``tile`` (see the module docstring).
        tile_scale: ``tile`` mode only: scale applied before cutting tiles (0.5 halves the image).
        tile_overlap: ``tile`` mode only: minimum overlap of neighbouring tiles, px of the canvas.
        normalize_intensity: stretch each image to a fixed mean and contrast (for dark, low-contrast
            or unevenly exposed images; local differences, hence defects, are kept).
    """

    image_size: int = 320
    mode: Mode = "letterbox"
    tile_scale: float = 1.0
    tile_overlap: int = 32
    normalize_intensity: bool = False

    def __post_init__(self) -> None:
        if self.mode not in ("letterbox", "resize", "tile"):
            raise ValueError(f"unknown preprocessing mode {self.mode!r}; use letterbox, resize or tile")
        if self.image_size < 32 or self.image_size % 32:
            raise ValueError(f"image_size must be a multiple of 32 and at least 32, got {self.image_size}")
        if self.mode == "tile" and not 0 <= self.tile_overlap < self.image_size // 2:
            raise ValueError(f"tile_overlap must be in [0, image_size / 2), got {self.tile_overlap}")
        if self.tile_scale <= 0:
            raise ValueError(f"tile_scale must be positive, got {self.tile_scale}")

    def to_dict(self) -> dict[str, int | float | str]:
        """JSON-ready form."""
        return asdict(self)


@dataclass(frozen=True)
class View:
    """Where one canvas sits in its image.

    Attributes:
        image_index: index of the source image in the batch given to :func:`iter_views`.
        valid: ``(top, left, bottom, right)`` rows/columns of the canvas holding image content, px.
        offset: ``(row, column)`` of the valid region's top-left corner in the scaled image, px.
        scaled_shape: ``(height, width)`` of the scaled image the views tile, px.
        original_shape: ``(height, width)`` of the source image, px.
    """

    image_index: int
    valid: tuple[int, int, int, int]
    offset: tuple[int, int]
    scaled_shape: tuple[int, int]
    original_shape: tuple[int, int]


def to_float_rgb(image: ImageInput) -> NDArray[np.float32]:
    """Convert an image to RGB floats in [0, 1], scaling by the range of its storage type.

    Grayscale is repeated into three channels; 16-bit images (PIL ``I;16``/``I`` or ``uint16``
    arrays) are divided by 65535, 8-bit by 255; float arrays are taken as already in [0, 1]; an alpha
    channel is dropped.

    Args:
        image: PIL image, or array ``(H, W)``, ``(H, W, 1)``, ``(H, W, 3)`` or ``(H, W, 4)``.

    Returns:
        ``(H, W, 3)`` float32 in [0, 1].

    Raises:
        ValueError: unsupported shape or type.
    """
    if isinstance(image, Image.Image):
        if image.mode in ("I;16", "I;16L", "I;16B", "I;16N", "I"):
            array: NDArray[np.generic] = np.asarray(image).astype(np.float32) / 65535.0
        elif image.mode == "F":
            array = np.asarray(image, dtype=np.float32)
        elif image.mode in ("L", "RGB"):
            array = np.asarray(image)
        else:
            array = np.asarray(image.convert("RGB"))
    else:
        array = np.asarray(image)
    if array.ndim == 3 and array.shape[2] in (1, 3, 4):
        array = array[..., :3] if array.shape[2] != 1 else array[..., 0]
    if array.ndim not in (2, 3):
        raise ValueError(f"expected an image of shape (H, W) or (H, W, 1|3|4), got {array.shape}")
    if array.dtype == np.uint8:
        out = array.astype(np.float32) / 255.0
    elif array.dtype == np.uint16:
        out = array.astype(np.float32) / 65535.0
    elif array.dtype == np.bool_:
        out = array.astype(np.float32)
    elif np.issubdtype(array.dtype, np.floating):
        out = np.clip(array.astype(np.float32), 0.0, 1.0)
    elif np.issubdtype(array.dtype, np.integer):
        out = np.clip(array.astype(np.float32) / 65535.0, 0.0, 1.0)
    else:
        raise ValueError(f"unsupported image dtype {array.dtype}")
    if out.ndim == 2:
        out = np.repeat(out[..., None], 3, axis=2)
    return np.ascontiguousarray(out)


def standardize_intensity(chw: torch.Tensor, mean: float = 0.5, std: float = 0.18) -> torch.Tensor:
    """Shift and scale an image to a given mean and standard deviation, clipped to [0, 1].

    Args:
        chw: ``(C, H, W)`` in [0, 1].
        mean: target mean.
        std: target standard deviation (a flat image is only shifted).

    Returns:
        ``(C, H, W)`` in [0, 1].
    """
    spread = chw.std()
    scale = std / spread if spread > 1e-6 else 1.0
    return ((chw - chw.mean()) * scale + mean).clamp_(0.0, 1.0)


def _resize(chw: torch.Tensor, shape: tuple[int, int]) -> torch.Tensor:
    if tuple(chw.shape[-2:]) == shape:
        return chw
    return F.interpolate(chw[None], size=shape, mode="bilinear", align_corners=False, antialias=True)[0]


def _mirror_pad(chw: torch.Tensor, height: int, width: int) -> torch.Tensor:
    """Extend ``(C, h, w)`` to ``(C, height, width)`` by mirroring, repeatedly where the pad is wider."""
    rows = torch.arange(height)
    cols = torch.arange(width)
    rows = _mirror_index(rows, chw.shape[1])
    cols = _mirror_index(cols, chw.shape[2])
    return chw[:, rows][:, :, cols]


def _mirror_index(index: torch.Tensor, size: int) -> torch.Tensor:
    if size == 1:
        return torch.zeros_like(index)
    period = 2 * size
    folded = index % period
    return torch.where(folded < size, folded, period - 1 - folded)


def _tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    count = math.ceil((length - overlap) / (tile - overlap))
    return [round(i * (length - tile) / (count - 1)) for i in range(count)]


def image_views(image: ImageInput, index: int, config: PreprocessConfig) -> list[tuple[torch.Tensor, View]]:
    """Cut one image into canvases.

    Args:
        image: the source image (see :func:`to_float_rgb`).
        index: recorded in each :class:`View` as ``image_index``.
        config: preprocessing settings.

    Returns:
        ``(canvas, view)`` pairs; each canvas is ``(3, S, S)`` float32 in [0, 1], ``S = image_size``.
    """
    rgb = torch.from_numpy(to_float_rgb(image)).permute(2, 0, 1)
    if config.normalize_intensity:
        rgb = standardize_intensity(rgb)
    height, width = rgb.shape[1:]
    size = config.image_size
    if config.mode == "resize":
        canvas = _resize(rgb, (size, size))
        return [(canvas, View(index, (0, 0, size, size), (0, 0), (size, size), (height, width)))]
    scale = size / max(height, width) if config.mode == "letterbox" else config.tile_scale
    scaled_shape = (max(1, round(height * scale)), max(1, round(width * scale)))
    scaled = _resize(rgb, scaled_shape)
    if scaled_shape[0] < size or scaled_shape[1] < size:
        scaled = _mirror_pad(scaled, max(size, scaled_shape[0]), max(size, scaled_shape[1]))
    out: list[tuple[torch.Tensor, View]] = []
    for top in _tile_starts(scaled_shape[0], size, config.tile_overlap):
        for left in _tile_starts(scaled_shape[1], size, config.tile_overlap):
            canvas = scaled[:, top : top + size, left : left + size]
            valid = (0, 0, min(size, scaled_shape[0] - top), min(size, scaled_shape[1] - left))
            out.append((canvas.contiguous(), View(index, valid, (top, left), scaled_shape, (height, width))))
    return out


def iter_views(
    images: Sequence[ImageInput], config: PreprocessConfig, batch_size: int
) -> Iterator[tuple[torch.Tensor, list[View]]]:
    """Canvases of a sequence of images, in batches, loading images only as they are needed.

    Args:
        images: the images; a lazy sequence (e.g. one that opens files in ``__getitem__``) works.
        config: preprocessing settings.
        batch_size: canvases per batch.

    Yields:
        ``(B, 3, S, S)`` float32 canvases in [0, 1] and their ``B`` views, ``B <= batch_size``.
    """
    canvases: list[torch.Tensor] = []
    views: list[View] = []
    for index in range(len(images)):
        for canvas, view in image_views(images[index], index, config):
            canvases.append(canvas)
            views.append(view)
            if len(canvases) == batch_size:
                yield torch.stack(canvases), views
                canvases, views = [], []
    if canvases:
        yield torch.stack(canvases), views


def valid_grid(view: View, grid_shape: tuple[int, int], canvas_size: int) -> NDArray[np.bool_]:
    """Which cells of a feature grid look at image content (their centre lies in ``view.valid``).

    Args:
        view: the canvas's placement.
        grid_shape: ``(h, w)`` of the feature map.
        canvas_size: side of the canvas, px.

    Returns:
        ``(h, w)`` bool.
    """
    rows = (np.arange(grid_shape[0]) + 0.5) * canvas_size / grid_shape[0]
    cols = (np.arange(grid_shape[1]) + 0.5) * canvas_size / grid_shape[1]
    top, left, bottom, right = view.valid
    grid = ((rows >= top) & (rows < bottom))[:, None] & ((cols >= left) & (cols < right))[None, :]
    if not grid.any():  # a sliver thinner than one cell: keep the cell it starts in
        grid[
            min(top * grid_shape[0] // canvas_size, grid_shape[0] - 1),
            min(left * grid_shape[1] // canvas_size, grid_shape[1] - 1),
        ] = True
    return grid


def stitch(maps: Sequence[NDArray[np.float32]], views: Sequence[View]) -> NDArray[np.float32]:
    """Put the canvas maps of one image back together at the image's original size.

    Overlapping tiles are averaged; the mirrored padding is dropped.

    Args:
        maps: ``(S, S)`` canvas-resolution maps, one per view, all of the same image.
        views: their views.

    Returns:
        ``(H, W)`` float32 map at the source image's size.
    """
    scaled_shape = views[0].scaled_shape
    total = np.zeros(scaled_shape, np.float32)
    count = np.zeros(scaled_shape, np.float32)
    for canvas_map, view in zip(maps, views, strict=True):
        top, left, bottom, right = view.valid
        row, col = view.offset
        total[row : row + bottom - top, col : col + right - left] += canvas_map[top:bottom, left:right]
        count[row : row + bottom - top, col : col + right - left] += 1.0
    merged = torch.from_numpy(total / np.maximum(count, 1.0))
    original = views[0].original_shape
    if scaled_shape != original:
        merged = F.interpolate(merged[None, None], size=original, mode="bilinear", align_corners=False)[0, 0]
    return merged.numpy().astype(np.float32, copy=False)


@dataclass(frozen=True)
class CanvasChoice:
    """How images of a collection become canvases, and why.

    Attributes:
        mode: ``letterbox`` or ``tile``.
        tile_scale: the scale tiles are cut at (``tile`` mode; 1 = native resolution).
        reason: the rule that chose it, in words, for the model's record.
    """

    mode: Mode
    tile_scale: float
    reason: str


def image_shape(image: ImageInput) -> tuple[int, int]:
    """``(height, width)`` of an image, px, without converting it."""
    if isinstance(image, Image.Image):
        return image.height, image.width
    return int(np.shape(image)[0]), int(np.shape(image)[1])


def choose_canvas(
    shapes: Sequence[tuple[int, int]], image_size: int, smallest_defect: float | None = None
) -> CanvasChoice:
    """Resize only when it loses nothing that matters; otherwise cut tiles nearer native resolution.

    Images that fit the canvas are letterboxed. Larger ones are scaled so that the smallest labeled
    defect keeps :data:`MIN_DEFECT_PX` pixels of width, or, without labeled defects, so that the
    images' shorter side keeps the canvas's resolution (never above native); unless that scale is
    :data:`TILE_GAIN` times the letterbox's, letterboxing loses little and is used, else the images
    are tiled at it.

    Args:
        shapes: ``(height, width)`` of the training images (a sample will do).
        image_size: canvas side, px.
        smallest_defect: width, px, of the narrowest labeled defect, when there is one.

    Returns:
        The choice and its reason.

    Raises:
        ValueError: no shapes.
    """
    if not shapes:
        raise ValueError("choosing a canvas needs the size of at least one image")
    height, width = (float(np.median([shape[axis] for shape in shapes])) for axis in (0, 1))
    fit_scale = image_size / max(height, width)
    if fit_scale >= 1:
        return CanvasChoice("letterbox", 1.0, f"the images ({width:.0f}x{height:.0f} px) fit the canvas")
    if smallest_defect is not None:
        needed = min(1.0, MIN_DEFECT_PX / max(smallest_defect, 1e-6))
        why = f"the narrowest labeled defect ({smallest_defect:.0f} px) keeps {MIN_DEFECT_PX} px"
    else:
        needed = min(1.0, image_size / min(height, width))
        why = "no labeled defect, so the shorter side keeps the canvas's resolution"
    if needed < fit_scale * TILE_GAIN:
        return CanvasChoice("letterbox", 1.0, f"resizing to {fit_scale:.2f} loses little: {why}")
    scale = round(needed, 2)
    return CanvasChoice("tile", scale, f"{width:.0f}x{height:.0f} px images tiled at scale {scale}: {why}")
