"""The collection page's label exports: any member downloads a small collection's zip at once, a
large one becomes a job whose finished zip the page links; another team's collection is a 404."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from inference.models import Job, JobKind, JobStatus
from inference.services import label_exports
from tests.annotations.formats.helpers import labeled_collection

pytestmark = pytest.mark.usefixtures("sent")


def test_a_viewer_downloads_a_small_collection_at_once(client, team):
    labeled_collection(team.collection, team.annotator)
    client.force_login(team.viewer)

    page = client.get(reverse("collection-detail", args=[team.collection.pk]))
    assert reverse("collection-label-export", args=[team.collection.pk]) in page.content.decode()

    response = client.post(
        reverse("collection-label-export", args=[team.collection.pk]), {"format": "labelme"}
    )

    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    assert 'filename="Team_tiles-labelme.zip"' in response["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    labelme = json.loads(archive.read("Team_tiles/boxes.json"))
    assert [shape["shape_type"] for shape in labelme["shapes"]] == ["rectangle", "polygon"]
    assert not Job.objects.filter(kind=JobKind.LABEL_EXPORT).exists()


def test_a_large_collection_is_exported_by_a_job_and_the_page_links_its_zip(
    client, team, monkeypatch, sent, django_capture_on_commit_callbacks
):
    monkeypatch.setattr("frontend.views.label_exports.DIRECT_EXPORT_LIMIT", 0)
    client.force_login(team.viewer)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("collection-label-export", args=[team.collection.pk]), {"format": "yolo"}
        )

    assert response.status_code == 302
    job = Job.objects.get(kind=JobKind.LABEL_EXPORT)
    assert job.parameters == {"format": "yolo"} and sent == [(job.pk, "label_export")]
    Job.objects.filter(pk=job.pk).update(
        status=JobStatus.SUCCEEDED, result={"name": "Team_tiles-yolo.zip", "images": 1, "left_out_count": 0}
    )
    page = client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    assert reverse("label-export-download", args=[team.collection.pk, job.pk]) in page
    assert "Team_tiles-yolo.zip" in page and label_exports.DIRECT_EXPORT_LIMIT == 200


def test_another_team_and_an_unknown_format_export_nothing(client, team, other_team):
    client.force_login(other_team.manager)
    url = reverse("collection-label-export", args=[team.collection.pk])
    assert client.post(url, {"format": "coco"}).status_code == 404

    client.force_login(team.viewer)
    response = client.post(url, {"format": "pascal"}, follow=True)
    assert "Choose a label format" in response.content.decode()
    assert not Job.objects.filter(kind=JobKind.LABEL_EXPORT).exists()
