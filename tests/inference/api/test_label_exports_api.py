"""Label exports over the API: any member starts one and downloads its zip; another team's collection
is a 404 on every route; the export runs through the real job path (a Celery worker)."""

import io
import json
import zipfile

import pytest
from django.utils import timezone

from inference.models import Job, JobKind, JobStatus
from tests.annotations.api.helpers import API
from tests.annotations.formats.helpers import labeled_collection
from tests.inference.conftest import wait_for_job


def _urls(collection_id: int, job_id: int = 0) -> tuple[str, str]:
    base = f"{API}/collections/{collection_id}/label-exports/"
    return base, f"{base}{job_id}/download/"


@pytest.mark.usefixtures("sent")
def test_a_viewer_starts_a_label_export_and_another_team_sees_nothing(team, other_team, as_user, sent):
    start, _ = _urls(team.collection.pk)

    response = as_user(team.viewer).post(start, {"format": "coco"}, format="json")

    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.status, job.parameters) == (
        JobKind.LABEL_EXPORT,
        JobStatus.QUEUED,
        {"format": "coco"},
    )
    assert as_user(team.viewer).get(start).json()[0]["id"] == job.pk
    stranger = as_user(other_team.manager)
    _, download = _urls(team.collection.pk, job.pk)
    assert stranger.post(start, {"format": "coco"}, format="json").status_code == 404
    assert stranger.get(start).status_code == 404
    assert stranger.get(download).status_code == 404
    # Another team's collection id with this job's id is no way in either.
    assert stranger.get(_urls(other_team.collection.pk, job.pk)[1]).status_code == 404
    assert Job.objects.filter(kind=JobKind.LABEL_EXPORT).count() == 1


@pytest.mark.usefixtures("sent")
def test_an_unknown_format_is_refused_and_an_unfinished_export_has_nothing_to_download(team, as_user):
    start, _ = _urls(team.collection.pk)
    response = as_user(team.viewer).post(start, {"format": "pascal"}, format="json")
    assert response.status_code == 400 and "format" in response.json()
    assert not Job.objects.filter(kind=JobKind.LABEL_EXPORT).exists()

    job_id = as_user(team.viewer).post(start, {"format": "yolo"}, format="json").json()["id"]
    response = as_user(team.viewer).get(_urls(team.collection.pk, job_id)[1])
    assert response.status_code == 404 and "wait until it succeeds" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_the_export_job_runs_in_a_worker_and_its_zip_is_downloaded(team, as_user, celery_worker_process):
    labeled_collection(team.collection, team.annotator)
    celery_worker_process()
    start, _ = _urls(team.collection.pk)

    response = as_user(team.viewer).post(start, {"format": "coco"}, format="json")
    job = wait_for_job(response.json()["id"], timeout=90)

    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    assert job.result["images"] == 7 and job.result["left_out_count"] == 2
    download = as_user(team.viewer).get(_urls(team.collection.pk, job.pk)[1])
    assert download.status_code == 200
    assert download["Content-Disposition"].startswith("attachment")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    folder = "Team_tiles"
    coco = json.loads(archive.read(f"{folder}/annotations.json"))
    assert len(coco["images"]) == 7 and {c["name"] for c in coco["categories"]} == {"scratch", "dent"}
    assert sorted(n for n in archive.namelist() if n.startswith(f"{folder}/images/"))[0].endswith(".png")


@pytest.mark.usefixtures("sent")
def test_an_archived_collection_can_still_be_exported(team, as_user):
    team.collection.archived_at = timezone.now()
    team.collection.save(update_fields=["archived_at"])
    response = as_user(team.viewer).post(_urls(team.collection.pk)[0], {"format": "mvtec"}, format="json")
    assert response.status_code == 202, response.content
