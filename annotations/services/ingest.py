"""Image ingest, shared by every entry point (upload, import, demo).

A file is checked completely before anything is written: its format is detected from the content
against an allowlist, its pixel count is checked before decoding, and it must decode fully. Only then
is it stored under a generated key, with its thumbnail, and given a row; if storing fails half-way,
what was written is removed again.
"""

import hashlib
import io
import uuid
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image as PILImage
from PIL import ImageOps, UnidentifiedImageError

from annotations.models import Annotation, Collection, Image, Split

# Pillow only tries these decoders; anything else (SVG, EPS, PDF, ...) is not an image to us.
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP")
EXTENSIONS = {"PNG": "png", "JPEG": "jpg", "BMP": "bmp", "TIFF": "tif", "WEBP": "webp"}
BIT_DEPTHS = {
    "1": 1,
    "L": 8,
    "P": 8,
    "LA": 8,
    "RGB": 8,
    "RGBA": 8,
    "CMYK": 8,
    "YCbCr": 8,
    "I;16": 16,
    "I;16B": 16,
    "I;16L": 16,
    "I": 32,
    "F": 32,
}
EXIF_ORIENTATION = 0x0112

# Our own pixel check runs before decoding; Pillow's is a second fence behind it.
PILImage.MAX_IMAGE_PIXELS = settings.LOUPE_MAX_IMAGE_PIXELS


class ImageRejected(ValueError):
    """The file is not an image Loupe accepts; the message says why, for the person who sent it."""


@dataclass(frozen=True)
class InspectedImage:
    """A file that passed every check, with what will be stored for it."""

    content: bytes
    sha256: str
    format: str
    width: int
    height: int
    mode: str
    bit_depth: int
    thumbnail: bytes
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def image_to_8bit(image: PILImage.Image) -> PILImage.Image:
    """An 8-bit image for display; deeper grey levels are stretched over their actual range."""
    if image.mode in ("L", "RGB"):
        return image
    if image.mode in ("1", "P", "LA", "RGBA", "CMYK", "YCbCr"):
        return image.convert("RGBA" if "A" in image.mode or image.mode == "P" else "RGB")
    values = np.asarray(image, dtype=np.float64)
    low, high = float(values.min()), float(values.max())
    scaled = (values - low) / (high - low) * 255 if high > low else np.zeros_like(values)
    return PILImage.fromarray(scaled.round().astype(np.uint8), mode="L")


def _thumbnail(image: PILImage.Image) -> bytes:
    thumb = image_to_8bit(image).copy()
    if thumb.mode == "RGBA":
        background = PILImage.new("RGB", thumb.size, "white")
        background.paste(thumb, mask=thumb.getchannel("A"))
        thumb = background
    size = settings.LOUPE_THUMBNAIL_SIZE
    thumb.thumbnail((size, size), PILImage.Resampling.LANCZOS)
    out = io.BytesIO()
    thumb.save(out, format="JPEG", quality=85)
    return out.getvalue()


def image_inspect(*, content: bytes) -> InspectedImage:
    """Check an uploaded file completely; return what to store for it.

    Raises:
        ImageRejected: not an allowed format, too many pixels, truncated or corrupt.
    """
    if not content:
        raise ImageRejected("the file is empty")
    if len(content) > settings.LOUPE_MAX_UPLOAD_BYTES:
        raise ImageRejected(
            f"the file is {len(content) / 2**20:.0f} MiB, above the "
            f"{settings.LOUPE_MAX_UPLOAD_BYTES / 2**20:.0f} MiB limit"
        )
    allowed = ", ".join(ALLOWED_FORMATS)
    try:
        image = PILImage.open(io.BytesIO(content), formats=ALLOWED_FORMATS)
    except UnidentifiedImageError:
        raise ImageRejected(f"not an image in an accepted format ({allowed})") from None
    except PILImage.DecompressionBombError:
        # Pillow refuses at open what is far above the limit, before our own check can name the size.
        raise ImageRejected(
            f"the image has far more pixels than the {settings.LOUPE_MAX_IMAGE_PIXELS / 1e6:.0f} Mpx limit"
        ) from None
    except (OSError, ValueError, SyntaxError) as error:
        raise ImageRejected(f"the file could not be read as an image: {error}") from None
    width, height = image.size
    limit = settings.LOUPE_MAX_IMAGE_PIXELS
    if width * height > limit:
        raise ImageRejected(
            f"the image is {width}×{height} px ({width * height / 1e6:.0f} Mpx), "
            f"above the {limit / 1e6:.0f} Mpx limit"
        )
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, PILImage.DecompressionBombError) as error:
        raise ImageRejected(f"the image data is truncated or corrupt ({error})") from None
    if image.mode not in BIT_DEPTHS:
        raise ImageRejected(f"pixel mode {image.mode} is not supported")
    image_format = image.format or ""
    metadata: dict[str, Any] = {"frames": getattr(image, "n_frames", 1)}
    orientation = image.getexif().get(EXIF_ORIENTATION, 1)
    stored = content
    if orientation != 1:
        # Orientation is applied once, here: the stored pixels are upright and carry no EXIF rotation.
        image = ImageOps.exif_transpose(image)
        out = io.BytesIO()
        image.save(out, format="PNG")
        stored, image_format = out.getvalue(), "PNG"
        metadata["exif_orientation_applied"] = orientation
    return InspectedImage(
        content=stored,
        sha256=hashlib.sha256(content).hexdigest(),
        format=image_format,
        width=image.width,
        height=image.height,
        mode=image.mode,
        bit_depth=BIT_DEPTHS[image.mode],
        thumbnail=_thumbnail(image),
        metadata=metadata,
    )


@dataclass(frozen=True)
class StoredImage:
    image: Image
    created: bool  # False when the collection already held the same content


def image_store(
    *,
    collection: Collection,
    inspected: InspectedImage,
    original_name: str = "",
    split: str = Split.UNASSIGNED,
    source: str = "upload",
    uploaded_by: AbstractBaseUser | None = None,
) -> StoredImage:
    """Store an inspected image in a collection, once: the same content is found, not stored twice."""
    existing = Image.objects.filter(collection=collection, sha256=inspected.sha256).first()
    if existing:
        return StoredImage(existing, created=False)
    key = uuid.uuid4().hex
    file_name = default_storage.save(
        f"images/{collection.pk}/{key}.{inspected.extension}", ContentFile(inspected.content)
    )
    thumbnail_name = default_storage.save(
        f"thumbnails/{collection.pk}/{key}.jpg", ContentFile(inspected.thumbnail)
    )
    try:
        with transaction.atomic():
            image = Image.objects.create(
                collection=collection,
                file=file_name,
                thumbnail=thumbnail_name,
                original_name=original_name[:255],
                sha256=inspected.sha256,
                format=inspected.format,
                width=inspected.width,
                height=inspected.height,
                mode=inspected.mode,
                bit_depth=inspected.bit_depth,
                size_bytes=len(inspected.content),
                split=split,
                source=source,
                metadata=inspected.metadata,
                uploaded_by=uploaded_by,
            )
            Annotation.objects.create(image=image)
    except BaseException as error:
        default_storage.delete(file_name)
        default_storage.delete(thumbnail_name)
        if isinstance(error, IntegrityError):
            # Another request stored the same content a moment ago.
            existing = Image.objects.filter(collection=collection, sha256=inspected.sha256).first()
            if existing:
                return StoredImage(existing, created=False)
        raise
    return StoredImage(image, created=True)


def uploads_inspect(
    *, uploads: list[tuple[str, bytes]]
) -> tuple[list[tuple[str, InspectedImage]], list[tuple[str, str]]]:
    """Inspect named files: ``(accepted, rejected)`` with each rejection's reason. Stores nothing, so a
    caller can refuse the whole batch when any file is bad."""
    accepted, rejected = [], []
    for name, content in uploads:
        try:
            accepted.append((name, image_inspect(content=content)))
        except ImageRejected as error:
            rejected.append((name, str(error)))
    return accepted, rejected


def images_store(
    *,
    collection: Collection,
    accepted: list[tuple[str, InspectedImage]],
    uploaded_by: AbstractBaseUser | None = None,
) -> list[StoredImage]:
    """Store inspected uploads in a collection, each under its original name."""
    return [
        image_store(collection=collection, inspected=image, original_name=name, uploaded_by=uploaded_by)
        for name, image in accepted
    ]


def image_delete(*, image: Image) -> None:
    """Delete an image, its labels and its files."""
    files = [image.file.name, image.thumbnail.name]
    with transaction.atomic():
        image.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])


def image_update(*, image: Image, split: str) -> Image:
    """Move an image to another split."""
    if image.split != split:
        image.split = split
        image.save(update_fields=["split"])
    return image
