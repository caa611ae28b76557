"""Upload fuzzing against the real API: hostile files (tests/fuzz/files.py) posted in small batches.
Each file is refused with a 400 and a reason, or stored and decodable (its file opens, its thumbnail
and display routes answer 200); never a 500; no orphan row or file; the worst memory per request is
printed. LOUPE_FUZZ_FILES sets how many files (CI default below; e.g. 5000 for a nightly run)."""

import os
import time
from pathlib import Path

from django.core.files.storage import default_storage
from PIL import Image as PILImage

from annotations.models import Image
from annotations.services.ingest import ALLOWED_FORMATS
from tests.fuzz.files import hostile_files
from tests.fuzz.memory import peak_rss_available, peak_rss_mib

FILES = int(os.environ.get("LOUPE_FUZZ_FILES", "520"))
BATCH = 4
API = "/api/v1/images/"


def _post(api, collection, batch):
    from django.core.files.uploadedfile import SimpleUploadedFile

    files = [SimpleUploadedFile(name, content, "application/octet-stream") for name, content in batch]
    return api.post(API, {"collection": collection.pk, "files": files}, format="multipart")


def _stored_files(root: Path) -> set[str]:
    return {str(p.relative_to(root)) for p in root.rglob("*") if p.is_file()}


def test_hostile_uploads_are_refused_with_a_reason_or_stored_and_decodable(
    team, api_client, client, media_root, capsys
):
    files = hostile_files(FILES)
    api_client.force_authenticate(user=team.annotator)
    client.force_login(team.viewer)
    measure = peak_rss_mib if peak_rss_available() else (lambda call: (call(), float("nan")))
    worst = (0.0, "")
    refused, stored_ids = 0, set()
    started = time.perf_counter()

    def post(batch):
        nonlocal worst
        response, mib = measure(lambda: _post(api_client, team.collection, batch))
        if mib > worst[0]:
            worst = (mib, ", ".join(name for name, _ in batch))
        assert response.status_code in (200, 201, 400), (response.status_code, [n for n, _ in batch])
        return response

    # A first request loads what Django loads lazily: not the files' cost, so not measured.
    warm_up = _post(api_client, team.collection, [("warm-up.png", b"not an image")])
    assert warm_up.status_code == 400
    for start in range(0, len(files), BATCH):
        batch = files[start : start + BATCH]
        response = post(batch)
        if response.status_code == 400:
            body = response.json()
            reasons = {entry["name"]: entry["error"] for entry in body["files"]}
            assert reasons and all(reason.strip() for reason in reasons.values()), body
            refused += len(reasons)
            # The others passed inspection: alone, they must be stored.
            batch = [(name, content) for name, content in batch if name not in reasons]
            if not batch:
                continue
            response = post(batch)
            assert response.status_code in (200, 201), response.content
        stored_ids |= {entry["image"]["id"] for entry in response.json()["files"]}

    for image in Image.objects.filter(pk__in=stored_ids):
        with (
            default_storage.open(image.file.name) as file,
            PILImage.open(file, formats=ALLOWED_FORMATS) as decoded,
        ):
            decoded.load()
            assert decoded.size == (image.width, image.height)
        for route in ("thumbnail.jpg", "display/"):
            shown = client.get(f"/images/{image.pk}/{route}")
            assert shown.status_code == 200, (image.original_name, route)
            b"".join(shown.streaming_content)

    # No orphan: every stored file belongs to a row (its original, thumbnail or display rendition),
    # every row's files exist, and the rows are the team's first image and what was stored.
    rows = Image.objects.filter(collection=team.collection)
    assert set(rows.values_list("pk", flat=True)) == stored_ids | {team.image.pk}
    owned = set()
    for image in rows:
        owned |= {image.file.name, image.thumbnail.name, image.thumbnail.name.replace(".jpg", ".display.png")}
    on_disk = _stored_files(media_root)
    assert on_disk <= owned
    assert {name for image in rows for name in (image.file.name, image.thumbnail.name)} <= on_disk

    seconds = time.perf_counter() - started
    with capsys.disabled():
        print(
            f"\nupload fuzz: {len(files)} files, {refused} refused with a reason, {len(stored_ids)} stored "
            f"and shown, 0 server errors, in {seconds:.0f} s; worst memory per request "
            f"{worst[0]:.0f} MiB ({worst[1]})"
        )
    assert len(files) >= FILES
