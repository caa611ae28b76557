"""An import from the browser with S3 storage: the web process stages the upload in the bucket, a worker
that shares nothing with it but the database and the bucket imports it, and the staged objects go."""

import io
import time
import zipfile

import pytest

from inference.models import JobStatus
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.inference.conftest import wait_for_job
from tests.storage.conftest import local_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_worker_imports_an_upload_staged_by_the_web_process(
    celery_worker_process, team, s3_env, s3_storage, media_root, tmp_path, api_client
):
    worker_media = tmp_path / "worker-media"  # the worker's own, empty: it must not need it
    worker_media.mkdir()
    celery_worker_process(MEDIA_ROOT=str(worker_media), **s3_env)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("drop/b.png", png_bytes(seed=101))
        archive.writestr("drop/c.png", png_bytes(seed=102))
    api_client.force_authenticate(team.annotator)

    staged = api_client.post(
        f"{API}/collections/{team.collection.pk}/imports/",
        {
            "files": [_named(png_bytes(seed=100), "a.png")],
            "paths": ["drop/a.png"],
            "archive": [_named(out.getvalue(), "more.zip")],
        },
        format="multipart",
    )
    assert staged.status_code == 202, staged.json()
    prefix = staged.json()["parameters"]["staging"]
    assert len(s3_storage.keys(f"{prefix}/")) == 2  # the file and the zip, in the bucket

    job = wait_for_job(staged.json()["id"], timeout=120)

    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert (job.result["added"], job.result["refused"]) == (3, [])
    names = set(team.collection.images.values_list("original_name", flat=True))
    assert names == {"first.png", "a.png", "b.png", "c.png"}
    stored = {image.file.name for image in team.collection.images.all()}
    assert stored <= s3_storage.keys(f"images/{team.collection.pk}/")
    # The worker deletes the staged upload right after marking the job done.
    deadline = time.monotonic() + 10
    while s3_storage.keys(f"{prefix}/") and time.monotonic() < deadline:
        time.sleep(0.1)
    assert s3_storage.keys(f"{prefix}/") == set()
    assert local_files(worker_media) == [] and local_files(media_root) == []


def _named(content: bytes, name: str) -> io.BytesIO:
    upload = io.BytesIO(content)
    upload.name = name
    return upload
