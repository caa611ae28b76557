"""Helpers shared by the API tests."""

import io
import struct
import zlib
from functools import cache
from pathlib import Path

import numpy as np
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage

from tests.conftest import png_bytes

API = "/api/v1"


def upload(name: str, content: bytes, content_type: str = "application/octet-stream") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type=content_type)


def media_files(root: Path) -> set[str]:
    """Every file under the media root, as paths relative to it."""
    return {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}


def results(response) -> list[dict]:
    assert response.status_code == 200, response.content
    return response.json()["results"]


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@cache
def bomb_png(width: int = 50_000, height: int = 50_000) -> bytes:
    """A real, valid, all-black 1-bit greyscale PNG of width×height pixels.

    Its 312 MB of scanlines are compressed by streaming the same block through zlib, so nothing near
    the decoded size (2.5 GB as Pillow holds it) is ever allocated; the file is about 300 KB.
    """
    row = bytes(1 + (width + 7) // 8)  # filter byte 0, then all-zero bits
    rows_per_block = 1000
    compressor = zlib.compressobj(9)
    parts = [compressor.compress(row * rows_per_block) for _ in range(height // rows_per_block)]
    parts += [compressor.compress(row * (height % rows_per_block)), compressor.flush()]
    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)  # bit depth 1, greyscale
    chunks = _chunk(b"IHDR", header) + _chunk(b"IDAT", b"".join(parts)) + _chunk(b"IEND", b"")
    return b"\x89PNG\r\n\x1a\n" + chunks


def tiff16_bytes(width: int = 40, height: int = 30) -> tuple[bytes, np.ndarray]:
    """A 16-bit greyscale TIFF and its pixels."""
    rng = np.random.default_rng(16)
    pixels = rng.integers(0, 65536, size=(height, width), dtype=np.uint16)
    pixels[0, 0], pixels[0, 1] = 0, 65535  # the full range, so no 8-bit shortcut could survive
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format="TIFF")
    return out.getvalue(), pixels


__all__ = ["API", "bomb_png", "media_files", "png_bytes", "results", "tiff16_bytes", "upload"]
