"""Image ingest, shared by every entry point (upload, import, demo, the line).

Ingest is total: every file is accepted or refused with a reason, whatever it holds. A file is checked
completely before anything is written: its format is detected from the content against an allowlist;
its size, pixel mode and declared dimensions are checked from the header, before decoding; it must
decode fully; it holds one picture (an animation or a multi-page file is refused; an MPO's extra
pictures are previews, so it is its first JPEG). Any exception Pillow raises on a hostile file is a
refusal, never a server error. Memory stays bounded by one decoded image: files are read from their
upload (spooled to disk by Django when big), never all held as bytes, and deep grey levels are
stretched to 8 bits band by band.

Storage goes with the database: `atomic_with_files` is a transaction in which every file `image_store`
saves is deleted again if the block raises, so a batch (`images_store`) is all-or-nothing in both.
The display rendition of an original a browser cannot show is made once, on first request, and kept
beside the thumbnail (`image_display_file`).
"""

import hashlib
import io
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import PurePosixPath
from typing import IO, Any

import numpy as np
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile, File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from PIL import Image as PILImage
from PIL import UnidentifiedImageError

from annotations.models import Annotation, Collection, Image, Split
from annotations.services.projects import collection_writable_require
from annotations.services.renditions import fitted, image_to_8bit, thumbnail_jpeg

# Pillow only tries these decoders; anything else (SVG, EPS, PDF, ...) is not an image to us.
ALLOWED_FORMATS = ("PNG", "JPEG", "BMP", "TIFF", "WEBP")
# Masks are lossless, and never JPEG or WebP.
MASK_FORMATS = ("PNG", "BMP", "TIFF")
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
# EXIF orientation → the transposition that makes the pixels upright (EXIF 2.32, tag 0x0112).
UPRIGHT = {
    2: PILImage.Transpose.FLIP_LEFT_RIGHT,
    3: PILImage.Transpose.ROTATE_180,
    4: PILImage.Transpose.FLIP_TOP_BOTTOM,
    5: PILImage.Transpose.TRANSPOSE,
    6: PILImage.Transpose.ROTATE_270,
    7: PILImage.Transpose.TRANSVERSE,
    8: PILImage.Transpose.ROTATE_90,
}
# What an upright re-encoding is saved as: PNG where it holds the mode, else TIFF (CMYK, 32-bit, float).
PNG_MODES = {"1", "L", "P", "LA", "RGB", "RGBA", "I;16", "I;16B"}
# Larger originals are shown downscaled; the label overlays scale with them (SVG viewBox, CSS size).
DISPLAY_MAX_SIDE = 4096
# Originals a browser shows as they are; everything else (16-bit, TIFF, BMP, CMYK...) gets a rendition.
BROWSER_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
BROWSER_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
CHUNK_BYTES = 1 << 20
REASON_MAX_CHARS = 300

# Our own pixel check runs before decoding; Pillow's is a second fence behind it.
PILImage.MAX_IMAGE_PIXELS = settings.LOUPE_MAX_IMAGE_PIXELS


class ImageRejected(ValueError):
    """The file is not an image Loupe accepts; the message says why, for the person who sent it."""


Upload = bytes | IO[bytes]


@dataclass(frozen=True)
class InspectedImage:
    """A file that passed every check, with what will be stored for it."""

    source: IO[bytes]  # what is stored: the file as sent, or its upright re-encoding
    size_bytes: int
    thumbnail: bytes  # JPEG, made while the pixels are decoded anyway: decoding twice costs twice
    sha256: str  # of the file as sent
    format: str
    width: int
    height: int
    mode: str
    bit_depth: int
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]

    @property
    def content(self) -> bytes:
        """The bytes that are stored, read anew (for small files: the line's inspections)."""
        self.source.seek(0)
        return self.source.read()


def _shown(file: IO[bytes]) -> PILImage.Image:
    """The file decoded to 8 bits; a deep original is freed as soon as its 8-bit copy exists."""
    file.seek(0)
    original = PILImage.open(file, formats=ALLOWED_FORMATS)
    original.load()
    shown = image_to_8bit(original)
    del original  # a deep original's memory goes now, not after the caller has scaled `shown`
    return shown


def _opened(file: IO[bytes], *, formats: Sequence[str], what: str) -> PILImage.Image:
    """The file opened (its header read, nothing decoded) with its declared size checked.

    Raises:
        ImageRejected: not one of `formats`, or no pixels, or more than the pixel limit.
    """
    limit = settings.LOUPE_MAX_IMAGE_PIXELS
    try:
        image = PILImage.open(file, formats=formats)
    except UnidentifiedImageError:
        raise ImageRejected(f"{what} is not an image in an accepted format ({', '.join(formats)})") from None
    except PILImage.DecompressionBombError:
        # Pillow refuses at open what is far above the limit, before our own check can name the size.
        raise ImageRejected(f"{what} has far more pixels than the {limit / 1e6:.0f} Mpx limit") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageRejected(f"{what} declares no pixels ({width}×{height} px)")
    if width * height > limit:
        raise ImageRejected(
            f"{what} is {width}×{height} px ({width * height / 1e6:.0f} Mpx), "
            f"above the {limit / 1e6:.0f} Mpx limit"
        )
    return image


def _orientation(image: PILImage.Image) -> int:
    """The EXIF orientation, 1 (upright) unless it is one of the eight the standard defines: a
    rational, bytes, a tuple or unreadable EXIF does not move the pixels."""
    try:
        value = image.getexif().get(EXIF_ORIENTATION, 1)
    except Exception:  # malformed EXIF in an image whose pixels decode: the pixels count
        return 1
    return value if type(value) is int and value in UPRIGHT else 1


def _lossless_file(image: PILImage.Image) -> tuple[IO[bytes], str]:
    """The pixels re-encoded losslessly and without EXIF; spooled to disk when big."""
    image_format = "PNG" if image.mode in PNG_MODES else "TIFF"
    # Handed to storage, then closed with the upload's other files when the request ends.
    out = tempfile.SpooledTemporaryFile(max_size=settings.FILE_UPLOAD_MAX_MEMORY_SIZE)  # noqa: SIM115
    image.save(out, format=image_format)
    return out, image_format


def _sha256(file: IO[bytes]) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    while chunk := file.read(CHUNK_BYTES):
        digest.update(chunk)
    return digest.hexdigest()


def _inspected(file: IO[bytes], size: int) -> InspectedImage:
    image = _opened(file, formats=ALLOWED_FORMATS, what="the file")
    if image.mode not in BIT_DEPTHS:
        raise ImageRejected(f"pixel mode {image.mode} is not supported")
    image_format = image.format or ""
    frames = getattr(image, "n_frames", 1)
    metadata: dict[str, Any] = {"frames": 1}
    if image_format == "MPO":
        # A JPEG with previews (stereo pairs, depth maps) appended: the first picture is the image.
        image_format, metadata["pictures"] = "JPEG", int(frames)
    elif frames != 1:
        raise ImageRejected(
            f"the file holds {frames} frames (an animation or a multi-page file): "
            "send each picture as a file of its own"
        )
    try:
        image.load()
    except Exception as error:
        raise ImageRejected(_reason("the image data is truncated or corrupt", error)) from None
    orientation = _orientation(image)
    stored, stored_size = file, size
    if orientation != 1:
        # Orientation is applied once, here: the stored pixels are upright and carry no EXIF rotation.
        image = image.transpose(UPRIGHT[orientation])
        stored, image_format = _lossless_file(image)
        stored_size = stored.seek(0, io.SEEK_END)
        metadata["exif_orientation_applied"] = orientation
    width, height, mode = image.width, image.height, image.mode
    thumbnail = thumbnail_jpeg(image)
    return InspectedImage(
        source=stored,
        size_bytes=stored_size,
        thumbnail=thumbnail,
        sha256=_sha256(file),
        format=image_format,
        width=width,
        height=height,
        mode=mode,
        bit_depth=BIT_DEPTHS[mode],
        metadata=metadata,
    )


def _reason(what: str, error: BaseException) -> str:
    return f"{what} ({type(error).__name__}: {error})"[:REASON_MAX_CHARS]


def _as_file(content: Upload) -> tuple[IO[bytes], int]:
    file = io.BytesIO(content) if isinstance(content, bytes | bytearray) else content
    size = file.seek(0, io.SEEK_END)
    file.seek(0)
    return file, size


def image_inspect(*, content: Upload) -> InspectedImage:
    """Check a file completely; return what to store for it. `content` is the bytes or a file (an
    upload, read where it lies: Django spools a big one to disk).

    Raises:
        ImageRejected: empty, too big, not an allowed format, too many pixels, several frames,
            truncated or corrupt, or anything else Pillow cannot make sense of.
    """
    file, size = _as_file(content)
    if not size:
        raise ImageRejected("the file is empty")
    if size > settings.LOUPE_MAX_UPLOAD_BYTES:
        raise ImageRejected(
            f"the file is {size / 2**20:.0f} MiB, above the "
            f"{settings.LOUPE_MAX_UPLOAD_BYTES / 2**20:.0f} MiB limit"
        )
    try:
        return _inspected(file, size)
    except ImageRejected:
        raise
    except Exception as error:  # hostile files make Pillow raise almost anything: each is a refusal
        raise ImageRejected(_reason("the file could not be read as an image", error)) from None


def mask_inspect(*, content: Upload, width: int, height: int) -> np.ndarray:
    """A defect mask file as a boolean ``(height, width)`` array (true where it is brighter than
    half): checked like an image (a lossless format of `MASK_FORMATS`, the pixel limit and its size
    from the header, before decoding), and its size must be its image's.

    Raises:
        ImageRejected: why the mask cannot be used.
    """
    file, size = _as_file(content)
    if not size:
        raise ImageRejected("its mask is empty")
    try:
        with _opened(file, formats=MASK_FORMATS, what="its mask") as mask:
            if mask.size != (width, height):
                raise ImageRejected(
                    f"its mask is {mask.width}×{mask.height} px, the image {width}×{height} px"
                )
            return np.asarray(mask.convert("L")) > 127
    except ImageRejected:
        raise
    except Exception as error:
        raise ImageRejected(_reason("its mask could not be read", error)) from None


# The storage names saved inside the innermost `atomic_with_files` block, if any.
_saved_in_block: ContextVar[list[str] | None] = ContextVar("saved_in_block", default=None)


@contextmanager
def atomic_with_files() -> Iterator[None]:
    """A transaction that takes storage with it: every file `image_store` saves inside the block is
    deleted again when the block raises (storage has no rollback: this is it). Nested blocks act as
    savepoints: an inner block's files are deleted when it raises, and belong to the outer block once
    it succeeds. Make it the outermost transaction: an enclosing `transaction.atomic` that rolls back
    after this block ended leaves the files behind."""
    saved: list[str] = []
    token = _saved_in_block.set(saved)
    try:
        with transaction.atomic():
            yield
    except BaseException:
        for name in saved:
            default_storage.delete(name)
        raise
    finally:
        _saved_in_block.reset(token)
    outer = _saved_in_block.get()
    if outer is not None:
        outer.extend(saved)


def _save(name: str, content: File) -> str:
    saved = default_storage.save(name, content)
    block = _saved_in_block.get()
    if block is not None:
        block.append(saved)
    return saved


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
    """Store an inspected image in a collection, once: the same content is found, not stored twice.
    The file, its thumbnail and its rows are written together or not at all (`atomic_with_files`).

    Raises:
        CollectionArchived: the collection is read-only.
    """
    collection_writable_require(collections=Collection.objects.filter(pk=collection.pk))
    existing = Image.objects.filter(collection=collection, sha256=inspected.sha256).first()
    if existing:
        return StoredImage(existing, created=False)
    key = uuid.uuid4().hex
    inspected.source.seek(0)
    try:
        with atomic_with_files():
            # Wrapped in File, an upload spooled to disk is copied, not moved away from under us.
            file_name = _save(f"images/{collection.pk}/{key}.{inspected.extension}", File(inspected.source))
            thumbnail_name = _save(f"thumbnails/{collection.pk}/{key}.jpg", ContentFile(inspected.thumbnail))
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
                size_bytes=inspected.size_bytes,
                split=split,
                source=source,
                metadata=inspected.metadata,
                uploaded_by=uploaded_by,
            )
            Annotation.objects.create(image=image)
    except IntegrityError:
        # Another request stored the same content a moment ago.
        existing = Image.objects.filter(collection=collection, sha256=inspected.sha256).first()
        if existing:
            return StoredImage(existing, created=False)
        raise
    return StoredImage(image, created=True)


def uploads_inspect(
    *, uploads: Sequence[tuple[str, Upload]]
) -> tuple[list[tuple[str, InspectedImage]], list[tuple[str, str]]]:
    """Inspect named files, one at a time: ``(accepted, rejected)`` with each rejection's reason.
    Stores nothing, so a caller can refuse the whole batch when any file is bad."""
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
    """Store inspected uploads in a collection, each under its original name, all or nothing: when
    one fails, the rows and files of those stored before it are gone too."""
    with atomic_with_files():
        return [
            image_store(collection=collection, inspected=image, original_name=name, uploaded_by=uploaded_by)
            for name, image in accepted
        ]


def _display_name(image: Image) -> str:
    """Where the display rendition lies: beside the thumbnail, so it goes wherever the thumbnail goes."""
    return str(PurePosixPath(image.thumbnail.name).with_suffix(".display.png"))


@dataclass(frozen=True)
class DisplayFile:
    name: str  # in storage
    content_type: str


def image_display_file(*, image: Image) -> DisplayFile:
    """The stored file a browser shows for an image: the original where a browser shows it as it is,
    else an 8-bit PNG rendition (at most `DISPLAY_MAX_SIDE` px a side), made on first request and
    kept in storage: a big or deep original is decoded once, not on every view.

    Raises:
        FileNotFoundError: storage has lost the original.
    """
    if (
        image.format in BROWSER_TYPES
        and image.mode in BROWSER_MODES
        and max(image.width, image.height) <= DISPLAY_MAX_SIDE
    ):
        return DisplayFile(image.file.name, BROWSER_TYPES[image.format])
    name = _display_name(image)
    if not default_storage.exists(name):
        with default_storage.open(image.file.name, "rb") as file:
            rendered = fitted(_shown(file), DISPLAY_MAX_SIDE)
        out = io.BytesIO()
        rendered.save(out, format="PNG", compress_level=3)
        saved = default_storage.save(name, ContentFile(out.getvalue()))
        if saved != name:  # another request made it a moment ago, and storage kept both
            default_storage.delete(saved)
    return DisplayFile(name, "image/png")


def image_delete(*, image: Image) -> None:
    """Delete an image, its labels and its files (not from an archived collection)."""
    collection_writable_require(collections=Collection.objects.filter(pk=image.collection_id))
    files = [image.file.name, image.thumbnail.name]
    if image.thumbnail.name:
        files.append(_display_name(image))
    with transaction.atomic():
        # Lock what a concurrent writer locks, in its order (a review: its prediction, then the
        # labels), before the cascade collects the rows: a review or an edit that got there first
        # commits before the collection, and one that comes after finds the image gone (404).
        # Collected first, a region written meanwhile was left pointing at deleted labels.
        list(image.predictions.select_for_update().order_by("pk").values_list("pk", flat=True))
        list(Annotation.objects.select_for_update().filter(image=image).values_list("pk", flat=True))
        image.delete()
        transaction.on_commit(lambda: [default_storage.delete(name) for name in files if name])


def image_update(*, image: Image, split: str) -> Image:
    """Move an image to another split (not in an archived collection)."""
    collection_writable_require(collections=Collection.objects.filter(pk=image.collection_id))
    if image.split != split:
        image.split = split
        image.save(update_fields=["split"])
    return image
