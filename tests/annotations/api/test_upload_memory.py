"""Memory is bounded per request: a small 16-bit PNG of 10,000 × 10,000 px (inside the pixel limit)
took 2.7 GB at upload and again on every display (decoded anew, converted to float64). Now it costs
about its decoded size (200 MB) at upload, as much once for its display rendition, and nothing after."""

import io
import struct
import time
import zlib
from functools import cache

import pytest
from PIL import Image as PILImage

from annotations.models import Image
from tests.annotations.api.helpers import API, upload
from tests.fuzz.memory import peak_rss_available, peak_rss_mib

SIDE = 10_000
BOUND_MIB = 450  # measured about 310; the issue asked for < 600; the old code needed about 2,700


@cache
def deep_png() -> bytes:
    """A valid 16-bit greyscale PNG, SIDE × SIDE, half of it in bands of a full-range ramp, half black;
    streamed through zlib, so the test never allocates the decoded size (about 200 KB on disk)."""
    black = bytes(1 + 2 * SIDE)
    ramp = b"\0" + b"".join(struct.pack(">H", (x * 65535) // (SIDE - 1)) for x in range(SIDE))
    compressor = zlib.compressobj(6)
    parts = [compressor.compress(ramp if (y // 500) % 2 == 0 else black) for y in range(SIDE)]
    header = struct.pack(">IIBBBBB", SIDE, SIDE, 16, 0, 0, 0, 0)
    chunks = [(b"IHDR", header), (b"IDAT", b"".join(parts) + compressor.flush()), (b"IEND", b"")]
    return b"\x89PNG\r\n\x1a\n" + b"".join(
        struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        for kind, data in chunks
    )


@pytest.mark.skipif(not peak_rss_available(), reason="needs Linux's resettable peak RSS")
def test_a_10k_16_bit_png_uploads_and_displays_in_bounded_memory(team, as_user, client, capsys):
    content = deep_png()
    api = as_user(team.annotator)
    # A first request loads what Django loads lazily (a couple of hundred MiB): not the file's cost.
    warm_up = api.post(
        f"{API}/images/",
        {"collection": team.collection.pk, "files": [upload("warm-up.png", b"not an image")]},
        format="multipart",
    )
    assert warm_up.status_code == 400

    started = time.perf_counter()
    response, upload_mib = peak_rss_mib(
        lambda: api.post(
            f"{API}/images/",
            {"collection": team.collection.pk, "files": [upload("deep.png", content)]},
            format="multipart",
        )
    )
    upload_seconds = time.perf_counter() - started
    assert response.status_code == 201, response.content
    image = Image.objects.get(pk=response.json()["files"][0]["image"]["id"])
    assert (image.width, image.height, image.mode) == (SIDE, SIDE, "I;16")

    client.force_login(team.viewer)
    started = time.perf_counter()
    shown, display_mib = peak_rss_mib(
        lambda: b"".join(client.get(f"/images/{image.pk}/display/").streaming_content)
    )
    display_seconds = time.perf_counter() - started
    again, again_mib = peak_rss_mib(lambda: client.get(f"/images/{image.pk}/display/"))

    with capsys.disabled():
        print(
            f"\n10k×10k 16-bit PNG: upload {upload_mib:.0f} MiB peak in {upload_seconds:.1f} s, "
            f"first display {display_mib:.0f} MiB in {display_seconds:.1f} s, "
            f"later displays {again_mib:.0f} MiB"
        )
    with PILImage.open(io.BytesIO(shown)) as rendition:
        assert (rendition.format, rendition.mode, rendition.size) == ("PNG", "L", (4096, 4096))
        assert rendition.getextrema() == (0, 255)
    assert again.status_code == 200
    assert upload_mib < BOUND_MIB
    assert display_mib < BOUND_MIB
    assert again_mib < 50
