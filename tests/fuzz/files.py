"""Seeded, deterministic hostile image files: valid seeds in every accepted format, then truncations,
bit flips, header fields overwritten (zero and huge sizes, bad offsets), TIFF IFD loops, format
spoofs and polyglots. The same seed gives the same files on every machine."""

import io
import random
import struct
import zlib
from collections.abc import Iterator

import numpy as np
from PIL import Image as PILImage

SEED_FORMATS = ("PNG", "JPEG", "TIFF", "WEBP")


def _seeds(rng: random.Random) -> list[tuple[str, bytes]]:
    pixels = np.random.default_rng(rng.randrange(2**32))
    grey = pixels.integers(0, 256, (16, 24), dtype=np.uint8)
    colour = pixels.integers(0, 256, (16, 24, 3), dtype=np.uint8)
    deep = pixels.integers(0, 65536, (16, 24), dtype=np.uint16)
    pictures = [
        PILImage.fromarray(grey),
        PILImage.fromarray(colour),
        PILImage.fromarray(colour).convert("RGBA"),
    ]
    seeds = []
    for image_format in SEED_FORMATS:
        for picture in pictures:
            if image_format == "JPEG" and picture.mode == "RGBA":
                continue
            out = io.BytesIO()
            picture.save(out, format=image_format)
            seeds.append((image_format, out.getvalue()))
    for image_format in ("PNG", "TIFF"):
        out = io.BytesIO()
        PILImage.fromarray(deep).save(out, format=image_format)
        seeds.append((image_format, out.getvalue()))
    return seeds


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def _png_sized(width: int, height: int, depth: int = 8) -> bytes:
    """A PNG whose header declares any size, with one row of data (valid CRCs: only the size lies)."""
    header = struct.pack(">IIBBBBB", width, height, depth, 0, 0, 0, 0)
    data = zlib.compress(b"\0" + bytes(min(width, 4096)))
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", data)
        + _png_chunk(b"IEND", b"")
    )


def _tiff_loop(content: bytes) -> bytes:
    """A little-endian TIFF whose first IFD's next-IFD pointer points back at itself."""
    if content[:2] != b"II":
        return content
    first = struct.unpack("<I", content[4:8])[0]
    count = struct.unpack("<H", content[first : first + 2])[0]
    pointer = first + 2 + 12 * count
    return content[:pointer] + struct.pack("<I", first) + content[pointer + 4 :]


def _overwrite(content: bytes, offset: int, value: bytes) -> bytes:
    offset = min(offset, max(0, len(content) - len(value)))
    return content[:offset] + value + content[offset + len(value) :]


HUGE = (0, 1, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 100_000)


def _mutated(rng: random.Random, image_format: str, content: bytes) -> bytes:
    kind = rng.choice(("truncate", "flip", "flip", "header", "header", "zero tail", "loop"))
    if kind == "truncate":
        return content[: rng.randrange(0, len(content))]
    if kind == "flip":
        data = bytearray(content)
        for _ in range(rng.randint(1, 8)):
            # Headers hold the fields that matter: flip there more often than in the pixel data.
            offset = rng.randrange(0, min(len(data), 64)) if rng.random() < 0.6 else rng.randrange(len(data))
            data[offset] ^= 1 << rng.randrange(8)
        return bytes(data)
    if kind == "header":
        value = struct.pack(">I" if image_format in ("PNG", "JPEG") else "<I", rng.choice(HUGE))
        offsets = {
            "PNG": (16, 20, 8, 33),
            "JPEG": (2, 4, 20, 160),
            "TIFF": (4, 8, 10, 22, 30),
            "WEBP": (4, 12, 24, 26),
        }
        return _overwrite(content, rng.choice(offsets[image_format]), value[rng.randrange(3) :])
    if kind == "zero tail":
        cut = rng.randrange(len(content))
        return content[:cut] + bytes(len(content) - cut)
    return _tiff_loop(content) if image_format == "TIFF" else content[: len(content) // 2]


def _spoofs(rng: random.Random, seeds: list[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    png = next(content for image_format, content in seeds if image_format == "PNG")
    jpeg = next(content for image_format, content in seeds if image_format == "JPEG")
    yield (
        "gif-as.png",
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\xff\xff\xff\x00\x00\x00!\xf9\x04\x00\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;",
    )
    yield "svg-as.png", b'<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
    yield "html-as.jpg", b"<!doctype html><html><body onload=alert(1)></body></html>"
    yield "pdf-as.tif", b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF"
    yield "eps-as.webp", b"%!PS-Adobe-3.0 EPSF-3.0\n%%BoundingBox: 0 0 1 1\n"
    yield "png-with-zip.png", png + b"PK\x03\x04" + bytes(26) + b"evil.txt" + b"payload"
    yield "jpeg-with-html.jpg", jpeg + b"<script>alert(1)</script>"
    yield "png-named.jpg", png
    yield "only-signature.png", b"\x89PNG\r\n\x1a\n"
    yield "riff-not-webp.webp", b"RIFF\x10\x00\x00\x00WAVEfmt " + bytes(8)
    yield "tiff-big-endian-empty.tif", b"MM\x00*\x00\x00\x00\x08\x00\x00"
    yield "empty.png", b""
    for width, height in (
        (0, 10),
        (10, 0),
        (50_000, 50_000),
        (12_000, 9_000),
        (9_000, 9_000),
        (1, 2**31 - 1),
    ):
        yield f"declared-{width}x{height}.png", _png_sized(width, height)
    yield "random-bytes.png", rng.randbytes(512)


def hostile_files(count: int, seed: int = 15) -> list[tuple[str, bytes]]:
    """At least `count` named files: the spoofs and polyglots, then mutations of the seeds."""
    rng = random.Random(seed)
    seeds = _seeds(rng)
    files = list(_spoofs(rng, seeds))
    files += [
        (f"seed-{i}.{image_format.lower()}", content) for i, (image_format, content) in enumerate(seeds)
    ]
    while len(files) < count:
        image_format, content = rng.choice(seeds)
        files.append((f"fuzz-{len(files)}.{image_format.lower()}", _mutated(rng, image_format, content)))
    return files
