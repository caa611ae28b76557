"""Heatmaps as 8-bit PNGs, and their colour overlays on the image (light: no torch)."""

import io
from pathlib import PurePosixPath

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from numpy.typing import NDArray
from PIL import Image as PILImage

from annotations.models import Image
from annotations.services.ingest import image_to_8bit
from inference.models import Prediction

# The overlay a client gets without asking for another opacity or size: drawn once and kept.
DEFAULT_OVERLAY_OPACITY = 0.5


def heatmap_key(*, version: "object", image_id: int) -> str:
    return f"predictions/{version.collection_id}/{version.pk}/{image_id}.png"


def overlay_key(heatmap_name: str) -> str:
    """Where a heatmap's default overlay is kept: beside it, so it goes wherever the heatmap goes."""
    return str(PurePosixPath(heatmap_name).with_suffix(".overlay.png"))


def heatmap_files_delete(heatmap_name: str) -> None:
    """Delete a heatmap and its kept overlay (either may be missing)."""
    for name in (heatmap_name, overlay_key(heatmap_name)):
        default_storage.delete(name)


def overlay_stored(*, prediction: Prediction) -> str:
    """The stored name of the prediction's default overlay, drawn and kept on the first ask."""
    name = overlay_key(prediction.heatmap.name)
    if not default_storage.exists(name):
        png = overlay_png(image=prediction.image, heatmap_file=prediction.heatmap)
        saved = default_storage.save(name, ContentFile(png))
        if saved != name:  # another request drew it a moment ago, and storage kept both
            default_storage.delete(saved)
    return name


def heatmap_png(anomaly_map: NDArray[np.floating], low: float, high: float) -> bytes:
    """The map scaled so `low` is 0 and `high` is 255, as a greyscale PNG of the same size."""
    scaled = (np.asarray(anomaly_map, np.float64) - low) / max(high - low, 1e-12)
    pixels = np.clip(np.round(scaled * 255), 0, 255).astype(np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels, mode="L").save(out, format="PNG", optimize=False, compress_level=3)
    return out.getvalue()


def _jet() -> NDArray[np.uint8]:
    x = np.linspace(0.0, 1.0, 256)
    channels = [np.clip(1.5 - np.abs(4 * x - offset), 0, 1) for offset in (3, 2, 1)]
    return (np.stack(channels, axis=1) * 255).round().astype(np.uint8)


JET = _jet()


def overlay_png(
    *, image: Image, heatmap_file, opacity: float = DEFAULT_OVERLAY_OPACITY, max_side: int | None = None
) -> bytes:
    """The heatmap colour-mapped (blue low, red high) and blended over the image, as PNG."""
    with image.file.open("rb") as file, PILImage.open(file) as picture:
        base = image_to_8bit(picture).convert("RGB")
    with heatmap_file.open("rb") as file, PILImage.open(file) as heat:
        heat = heat.convert("L")
        if heat.size != base.size:
            heat = heat.resize(base.size, PILImage.Resampling.BILINEAR)
        colors = JET[np.asarray(heat)]
    blended = (1 - opacity) * np.asarray(base, np.float32) + opacity * colors.astype(np.float32)
    result = PILImage.fromarray(blended.round().astype(np.uint8), mode="RGB")
    if max_side and max(result.size) > max_side:
        result.thumbnail((max_side, max_side), PILImage.Resampling.BILINEAR)
    out = io.BytesIO()
    result.save(out, format="PNG", compress_level=1)
    return out.getvalue()
