"""The import routes without a worker: roles, scoping, staging in batches, hostile zips refused at once."""

import io
import zipfile

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile

from inference.models import Job, JobKind, JobStatus
from tests.conftest import png_bytes

pytestmark = pytest.mark.usefixtures("sent")


def _url(collection_id: int, staged: bool = False) -> str:
    return f"/api/v1/collections/{collection_id}/imports/{'staged/' if staged else ''}"


def _file(name: str, content: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="application/octet-stream")


def _zip(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return out.getvalue()


def test_an_annotator_stages_batches_and_starts_the_job(
    team, as_user, sent, django_capture_on_commit_callbacks
):
    client = as_user(team.annotator)
    first = client.post(
        _url(team.collection.pk, staged=True),
        {"files": [_file("a.png", png_bytes(seed=1))], "paths": ["drop/train/good/a.png"]},
        format="multipart",
    )
    assert first.status_code == 201, first.json()
    key = first.json()["staging"]
    second = client.post(
        _url(team.collection.pk, staged=True),
        {"staging": key, "archive": [_file("more.zip", _zip({"drop/test/good/b.png": png_bytes(seed=2)}))]},
        format="multipart",
    )
    assert second.status_code == 201, second.json()
    assert second.json() == {"staging": key, "files": 0, "archives": 1}

    with django_capture_on_commit_callbacks(execute=True):
        started = client.post(_url(team.collection.pk), {"staging": key}, format="json")

    assert started.status_code == 202, started.json()
    job = Job.objects.get(pk=started.json()["id"])
    assert (job.kind, job.status, job.collection_id) == (JobKind.IMPORT, JobStatus.QUEUED, team.collection.pk)
    assert job.created_by == team.annotator
    assert job.parameters["staging"].endswith(key)
    assert sent == [(job.pk, JobKind.IMPORT)]
    assert default_storage.exists(f"{job.parameters['staging']}/files/drop/train/good/a.png")
    again = client.post(_url(team.collection.pk), {"staging": key}, format="json")
    assert again.status_code == 400 and "started already" in again.json()["detail"]


def test_files_sent_with_the_start_are_staged_and_started_in_one_request(team, as_user):
    response = as_user(team.annotator).post(
        _url(team.collection.pk), {"files": [_file("a.png", png_bytes(seed=3))]}, format="multipart"
    )
    assert response.status_code == 202, response.json()
    job = Job.objects.get(pk=response.json()["id"])
    assert default_storage.exists(f"{job.parameters['staging']}/files/a.png")


def test_a_viewer_may_not_import(team, as_user):
    response = as_user(team.viewer).post(
        _url(team.collection.pk), {"files": [_file("a.png", png_bytes())]}, format="multipart"
    )
    assert response.status_code == 403
    assert "annotator role or above" in response.json()["detail"]
    assert not Job.objects.filter(kind=JobKind.IMPORT).exists()


@pytest.mark.parametrize("staged", [False, True])
def test_another_teams_collection_is_not_found(team, other_team, as_user, staged):
    response = as_user(team.manager).post(
        _url(other_team.collection.pk, staged), {"files": [_file("a.png", png_bytes())]}, format="multipart"
    )
    assert response.status_code == 404
    assert not default_storage.exists("imports")


@pytest.mark.parametrize(
    ("members", "expected"),
    [
        ({"../evil.png": b"x"}, "'..' is refused"),
        ({"/etc/evil.png": b"x"}, "absolute path is refused"),
        ({"big.bin": bytes(3 * 1024 * 1024)}, "above the 1 MiB limit"),
    ],
)
def test_a_hostile_zip_is_refused_at_once_and_nothing_is_staged(team, as_user, settings, members, expected):
    settings.LOUPE_IMPORT_MAX_BYTES = 1024 * 1024
    response = as_user(team.annotator).post(
        _url(team.collection.pk), {"archive": [_file("evil.zip", _zip(members))]}, format="multipart"
    )
    assert response.status_code == 400
    assert expected in response.json()["detail"]
    assert not default_storage.exists("imports")
    assert not Job.objects.filter(kind=JobKind.IMPORT).exists()


def test_a_link_in_a_zip_is_refused(team, as_user):
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        link = zipfile.ZipInfo("link.png")
        link.external_attr = 0o120777 << 16
        archive.writestr(link, "/etc/passwd")
    response = as_user(team.annotator).post(
        _url(team.collection.pk), {"archive": [_file("links.zip", out.getvalue())]}, format="multipart"
    )
    assert response.status_code == 400
    assert "symbolic link is refused" in response.json()["detail"]
    assert not default_storage.exists("imports")
    assert not Job.objects.filter(kind=JobKind.IMPORT).exists()


def test_bad_requests_say_what_to_send(team, as_user):
    client = as_user(team.annotator)
    nothing = client.post(_url(team.collection.pk), {}, format="json")
    assert nothing.status_code == 400 and "send files or a zip" in nothing.json()["detail"]
    mismatch = client.post(
        _url(team.collection.pk, staged=True),
        {"files": [_file("a.png", b"1"), _file("b.png", b"2")], "paths": ["a.png"]},
        format="multipart",
    )
    assert mismatch.status_code == 400 and "1 paths for 2 files" in str(mismatch.json())
    unknown = client.post(_url(team.collection.pk), {"staging": "f" * 32}, format="json")
    assert unknown.status_code == 400 and "nothing was uploaded" in unknown.json()["detail"]
    not_zip = client.post(
        _url(team.collection.pk), {"archive": [_file("a.zip", b"not a zip")]}, format="multipart"
    )
    assert not_zip.status_code == 400 and "not a readable zip" in not_zip.json()["detail"]


def test_an_archived_collection_takes_no_import(team, as_user):
    from annotations.services.projects import collection_archive

    collection_archive(collection=team.collection)
    response = as_user(team.manager).post(
        _url(team.collection.pk), {"files": [_file("a.png", png_bytes())]}, format="multipart"
    )
    assert response.status_code == 409
    assert "is archived, so it is read-only" in response.json()["detail"]
    assert not default_storage.exists("imports")


def test_the_start_names_what_the_upload_holds(team, as_user):
    client = as_user(team.annotator)
    files = {"files": [_file("a.png", png_bytes(seed=4))]}
    key = client.post(_url(team.collection.pk, staged=True), files, format="multipart").json()["staging"]
    bogus = client.post(_url(team.collection.pk), {"staging": key, "format": "tiff-stack"}, format="json")
    assert bogus.status_code == 400 and "format" in bogus.json()
    started = client.post(_url(team.collection.pk), {"staging": key, "format": "coco"}, format="json")
    assert started.status_code == 202
    assert Job.objects.get(pk=started.json()["id"]).parameters["format"] == "coco"
