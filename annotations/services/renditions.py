"""Renditions of decoded images: 8-bit for display (deep grey levels stretched band by band, so a big
16-bit image costs its decoded size, not eight times it in floats), fitted into a square, the JPEG
thumbnail. Pixels only: which files they come from and go to is `annotations.services.ingest`'s."""

import io

import numpy as np
from django.conf import settings
from PIL import Image as PILImage

# Deep images are stretched to 8 bits this many pixels at a time (8 MB of int64 per band).
BAND_PIXELS = 1 << 20


def _extrema(image: PILImage.Image, bands: list[tuple[int, int]]) -> tuple[float, float] | None:
    low, high = None, None
    for top, bottom in bands:
        values = np.asarray(image.crop((0, top, image.width, bottom)))
        if values.dtype.kind == "f":
            values = values[np.isfinite(values)]
        if values.size:
            low = values.min() if low is None else min(low, values.min())
            high = values.max() if high is None else max(high, values.max())
    return None if low is None else (low.item(), high.item())


def _stretched(image: PILImage.Image) -> PILImage.Image:
    """Deep grey levels (16-bit, 32-bit, float) stretched over their actual range to 8 bits, a band of
    rows at a time: a 100 Mpx 16-bit image never exists as one float array (800 MB per copy)."""
    width, height = image.size
    rows = max(1, BAND_PIXELS // max(width, 1))
    bands = [(top, min(height, top + rows)) for top in range(0, height, rows)]
    out = PILImage.new("L", image.size)
    extrema = _extrema(image, bands)
    if extrema is None or extrema[1] <= extrema[0]:
        return out
    low, high = extrema
    for top, bottom in bands:
        values = np.asarray(image.crop((0, top, width, bottom)))
        if values.dtype.kind == "f":
            values = np.nan_to_num(values.astype(np.float64), nan=low, posinf=high, neginf=low)
            scaled = np.round((values - low) / (high - low) * 255)
        else:  # exact integer rounding, half up: (v - low) · 255 / span + ½
            span = int(high) - int(low)
            scaled = ((values.astype(np.int64) - int(low)) * 510 + span) // (2 * span)
        out.paste(PILImage.fromarray(np.clip(scaled, 0, 255).astype(np.uint8)), (0, top))
    return out


def image_to_8bit(image: PILImage.Image) -> PILImage.Image:
    """An 8-bit image for display; deeper grey levels are stretched over their actual range."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1", "P", "LA", "RGBA", "CMYK", "YCbCr"):
        return image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB")
    return _stretched(image)


def fitted(image: PILImage.Image, side: int) -> PILImage.Image:
    """The image scaled down (never up) to fit a square of `side`, as a new image or itself."""
    scale = side / max(image.size)
    if scale >= 1:
        return image
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    return image.resize(size, PILImage.Resampling.LANCZOS, reducing_gap=2.0)


def thumbnail_jpeg(image: PILImage.Image) -> bytes:
    thumb = fitted(image_to_8bit(image), settings.LOUPE_THUMBNAIL_SIZE)
    if thumb.mode == "RGBA":
        background = PILImage.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85)
    return out.getvalue()
