"""The import job from the browser: staged in storage, copied, extracted, planned and imported into
the collection by the real job path (`job_run`); its staged files gone however it ends."""

import io
import json
import os
import time
import zipfile
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Image, Split, Verdict
from inference.models import Job, JobStatus
from inference.services.dataset_imports import (
    ImportRefused,
    import_execute,
    import_stage,
    import_staging_prefix,
    import_start,
)
from inference.services.demo import demo_dataset_write
from inference.services.jobs import job_cancel, job_run
from tests.conftest import png_bytes


def _upload(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name.rsplit("/", 1)[-1], content)


def _folder_files(folder: Path, under: str) -> list[tuple[str, SimpleUploadedFile]]:
    """A dropped folder as the browser sends it: each file with its path relative to the drop."""
    return [
        (f"{under}/{path.relative_to(folder)}", _upload(path.name, path.read_bytes()))
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    ]


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def _staged(job: Job, prefix: str | None = None) -> list[str]:
    """The files still staged for the job (local storage keeps empty folders; S3 has none)."""
    prefix = prefix or job.parameters["staging"]
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return []
    return files + [name for folder in folders for name in _staged(job, f"{prefix}/{folder}")]


def _run(team, *, files=(), archives=()) -> Job:
    staged = import_stage(
        collection=team.collection, user=team.annotator, key=None, files=list(files), archives=list(archives)
    )
    job = import_start(collection=team.collection, user=team.annotator, key=staged.key)
    assert _staged(job)
    job_run(job_id=job.pk, work=import_execute)
    job.refresh_from_db()
    return job


@pytest.fixture
def category(tmp_path) -> Path:
    return demo_dataset_write(root=tmp_path / "data", train=4, test_normal=1, test_per_defect=1)


@pytest.mark.django_db
def test_a_dropped_mvtec_folder_is_imported_into_the_collection(team, sent, category):
    job = _run(team, files=_folder_files(category, "plates"))

    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    images = Image.objects.filter(collection=team.collection).exclude(pk=team.image.pk)
    assert images.count() == 4 + 1 + 4
    assert images.filter(split=Split.TRAIN, annotation__verdict=Verdict.NORMAL).count() == 4
    assert images.filter(split=Split.TEST, annotation__verdict=Verdict.DEFECTIVE).count() == 4
    assert set(team.collection.defect_types.values_list("name", flat=True)) >= {"scratch", "crack"}
    assert job.result["layout"] == "mvtec"
    assert (job.result["added"], job.result["duplicates"], job.result["masks"]) == (9, 0, 4)
    assert job.result["refused"] == []
    assert job.progress == 1.0
    assert _staged(job) == []  # the staged upload is gone once the job has succeeded


@pytest.mark.django_db
def test_a_zip_of_a_plain_folder_reports_duplicates_and_refusals(team, sent):
    content = _zip(
        {
            "parts/a.png": png_bytes(seed=11),
            "parts/b.png": png_bytes(seed=12),
            "parts/same-as-first.png": team.image.file.read(),
            "parts/broken.png": png_bytes(seed=13)[:60],
            "parts/notes.txt": b"shift 2",
            "parts/old/c.png": png_bytes(seed=14),
            "__MACOSX/parts/._a.png": b"litter",
        }
    )

    job = _run(team, archives=[_upload("parts.zip", content)])

    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert (job.result["layout"], job.result["added"], job.result["duplicates"]) == ("folder", 2, 1)
    refused = {entry["file"]: entry["reason"] for entry in job.result["refused"]}
    assert set(refused) == {"parts/broken.png", "parts/notes.txt", "parts/old/c.png"}
    assert "truncated or corrupt" in refused["parts/broken.png"]
    assert "not an image file (.txt)" in refused["parts/notes.txt"]
    assert "in a subfolder" in refused["parts/old/c.png"]
    assert job.result["refused_count"] == 3
    assert set(team.collection.images.values_list("original_name", flat=True)) == {
        "first.png",
        "a.png",
        "b.png",
    }
    assert _staged(job) == []


@pytest.mark.django_db
def test_a_hostile_zip_that_reaches_the_worker_fails_the_job_and_stores_nothing(
    team, sent, django_capture_on_commit_callbacks
):
    # Staged past the request's own check (as if the check were skipped): the worker refuses it too.
    key = "0" * 32
    prefix = import_staging_prefix(collection_id=team.collection.pk, user_id=team.annotator.pk, key=key)
    default_storage.save(f"{prefix}/files/ok.png", ContentFile(png_bytes(seed=21)))
    hostile = _zip({"ok2.png": png_bytes(seed=22), "../../evil.png": png_bytes(seed=23)})
    default_storage.save(f"{prefix}/archives/1/evil.zip", ContentFile(hostile))
    job = import_start(collection=team.collection, user=team.annotator, key=key)

    with django_capture_on_commit_callbacks(execute=True):
        job_run(job_id=job.pk, work=import_execute)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "evil.zip was refused, nothing was imported" in job.failure_reason
    assert "'..' is refused" in job.failure_reason
    assert team.collection.images.count() == 1
    assert _staged(job) == []  # abandoned: the staged files are deleted


@pytest.mark.django_db
def test_a_bomb_reaching_the_worker_is_refused(team, sent, settings):
    settings.LOUPE_IMPORT_MAX_BYTES = 1024 * 1024
    key = "1" * 32
    prefix = import_staging_prefix(collection_id=team.collection.pk, user_id=team.annotator.pk, key=key)
    default_storage.save(
        f"{prefix}/archives/1/bomb.zip", ContentFile(_zip({"zeros.png": bytes(4 * 1024 * 1024)}))
    )
    job = import_start(collection=team.collection, user=team.annotator, key=key)

    job_run(job_id=job.pk, work=import_execute)

    job.refresh_from_db()
    assert job.status == JobStatus.FAILED
    assert "above the 1 MiB limit" in job.failure_reason
    assert team.collection.images.count() == 1


@pytest.mark.django_db
def test_two_categories_are_refused_with_what_to_do(team, sent, tmp_path):
    first = demo_dataset_write(root=tmp_path / "a", train=1, test_normal=0, test_per_defect=0)
    second = demo_dataset_write(root=tmp_path / "b", train=1, test_normal=0, test_per_defect=0, seed=3)
    files = _folder_files(first, "set/one") + _folder_files(second, "set/two")

    job = _run(team, files=files)

    assert job.status == JobStatus.FAILED
    assert "2 MVTec AD categories (one, two)" in job.failure_reason
    assert "into its own collection" in job.failure_reason
    assert team.collection.images.count() == 1


@pytest.mark.django_db
def test_an_upload_of_no_images_fails_with_what_was_expected(team, sent):
    job = _run(team, files=[("readme.txt", _upload("readme.txt", b"hello"))])

    assert job.status == JobStatus.FAILED
    assert "no images found in the upload" in job.failure_reason
    assert "/tmp" not in job.failure_reason


@pytest.mark.django_db
def test_cancelling_a_queued_import_deletes_its_staged_files(team, sent, django_capture_on_commit_callbacks):
    staged = import_stage(
        collection=team.collection,
        user=team.annotator,
        key=None,
        files=[("a.png", _upload("a.png", png_bytes(seed=31)))],
        archives=[],
    )
    job = import_start(collection=team.collection, user=team.annotator, key=staged.key)

    with django_capture_on_commit_callbacks(execute=True):
        job_cancel(job=job)

    assert Job.objects.get(pk=job.pk).status == JobStatus.CANCELLED
    assert _staged(job) == []


@pytest.mark.django_db
def test_batches_join_one_upload(team, sent):
    first = import_stage(
        collection=team.collection,
        user=team.annotator,
        key=None,
        files=[("drop/a.png", _upload("a.png", png_bytes(seed=41)))],
        archives=[],
    )
    import_stage(
        collection=team.collection,
        user=team.annotator,
        key=first.key,
        files=[("drop/b.png", _upload("b.png", png_bytes(seed=42)))],
        archives=[],
    )
    job = import_start(collection=team.collection, user=team.annotator, key=first.key)
    job_run(job_id=job.pk, work=import_execute)

    job.refresh_from_db()
    assert job.result["added"] == 2
    with pytest.raises(ImportRefused, match=f"started already, as job {job.pk}"):
        import_start(collection=team.collection, user=team.annotator, key=first.key)
    with pytest.raises(ImportRefused, match=f"started already, as job {job.pk}"):
        import_stage(
            collection=team.collection,
            user=team.annotator,
            key=first.key,
            files=[("drop/c.png", _upload("c.png", png_bytes(seed=43)))],
            archives=[],
        )


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../evil.png", "'..' is refused"),
        ("/etc/evil.png", "absolute path"),
        ("C:\\evil.png", "drive letter"),
    ],
)
def test_unsafe_paths_are_refused_before_anything_is_staged(team, name, expected):
    files = [("good.png", _upload("good.png", png_bytes(seed=51))), (name, _upload("evil.png", b"x"))]
    with pytest.raises(ImportRefused, match=expected):
        import_stage(collection=team.collection, user=team.annotator, key=None, files=files, archives=[])
    assert not default_storage.exists("imports")


@pytest.mark.django_db
def test_a_file_sent_twice_and_an_unknown_key_are_refused(team):
    twice = [("a.png", _upload("a.png", b"1")), ("./a.png", _upload("a.png", b"2"))]
    with pytest.raises(ImportRefused, match="sent twice"):
        import_stage(collection=team.collection, user=team.annotator, key=None, files=twice, archives=[])
    with pytest.raises(ImportRefused, match="not an upload key"):
        import_stage(
            collection=team.collection, user=team.annotator, key="../x", files=twice[:1], archives=[]
        )
    with pytest.raises(ImportRefused, match="nothing was uploaded under this key"):
        import_start(collection=team.collection, user=team.annotator, key="2" * 32)
    assert not default_storage.exists("imports")


@pytest.mark.django_db
def test_a_coco_zip_is_imported_with_its_boxes(team, sent):
    coco = {
        "images": [
            {"id": 1, "file_name": "images/a.png", "width": 32, "height": 24},
            {"id": 2, "file_name": "images/b.png", "width": 32, "height": 24},
        ],
        "annotations": [
            {"id": 1, "image_id": 1, "category_id": 7, "bbox": [2, 3, 10, 8], "area": 80, "iscrowd": 0}
        ],
        "categories": [{"id": 7, "name": "dent"}],
    }
    content = _zip(
        {
            "set/annotations.json": json.dumps(coco).encode(),
            "set/images/a.png": png_bytes(seed=81),
            "set/images/b.png": png_bytes(seed=82),
            "set/images/stray.png": png_bytes(seed=83),
        }
    )
    staged = import_stage(
        collection=team.collection,
        user=team.annotator,
        key=None,
        files=[],
        archives=[_upload("set.zip", content)],
    )
    job = import_start(collection=team.collection, user=team.annotator, key=staged.key, format="coco")
    job_run(job_id=job.pk, work=import_execute)

    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert job.result["layout"] == "coco"
    assert job.result["added"] == 2
    assert job.result["labeled"] >= 1
    assert [entry["file"] for entry in job.result["refused"]] == ["set/images/stray.png"]
    dented = Image.objects.get(collection=team.collection, original_name__endswith="a.png")
    regions = list(dented.annotation.regions.all())
    assert [(r.kind, r.defect_type.name) for r in regions] == [("box", "dent")]


@pytest.mark.django_db
def test_a_new_upload_sweeps_the_persons_day_old_uploads_that_never_started(team, sent, media_root):
    def stage(seed: int) -> str:
        files = [("a.png", _upload("a.png", png_bytes(seed=seed)))]
        return import_stage(
            collection=team.collection, user=team.annotator, key=None, files=files, archives=[]
        ).key

    def staged(key: str) -> Path:
        prefix = import_staging_prefix(collection_id=team.collection.pk, user_id=team.annotator.pk, key=key)
        return media_root / prefix / "files" / "a.png"

    abandoned, started, recent = stage(91), stage(92), stage(93)
    import_start(collection=team.collection, user=team.annotator, key=started)
    two_days_ago = time.time() - 2 * 86400
    for key in (abandoned, started):
        os.utime(staged(key), (two_days_ago, two_days_ago))

    newest = stage(94)

    assert not staged(abandoned).exists()
    assert staged(started).exists()  # its job deletes it when it ends
    assert staged(recent).exists() and staged(newest).exists()
