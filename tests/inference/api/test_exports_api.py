"""Exports over the API: who may start, read, download and delete them, and what another team sees
(nothing). The export itself runs in `tests/inference/services/test_exports.py`."""

import pytest
from django.core.files.storage import default_storage

from inference.models import ExportStatus, Job, JobKind, JobStatus, ModelExport, ModelVersion
from inference.services.jobs import job_cancel
from tests.annotations.api.helpers import API
from tests.inference.helpers import labeled_test_images, ready_export, scored_version

pytestmark = pytest.mark.usefixtures("sent")


@pytest.fixture
def version(team) -> ModelVersion:
    images = labeled_test_images(team.collection, ["normal", "defective"])
    version = scored_version(team.collection, dict(zip(images, [0.3, 1.4], strict=True)))
    version.artifact_prefix = f"models/{team.collection.pk}/{version.pk}"
    version.save(update_fields=["artifact_prefix"])
    return version


def test_a_manager_starts_an_export_and_gets_its_job(
    version, team, other_team, as_user, sent, django_capture_on_commit_callbacks
):
    url = f"{API}/model-versions/{version.pk}/exports/"
    response = as_user(team.reviewer).post(url)
    assert response.status_code == 403 and "manager" in response.json()["detail"]
    assert as_user(other_team.manager).post(url).status_code == 404
    assert not ModelExport.objects.exists()

    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(team.manager).post(url)
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    export = ModelExport.objects.get()
    assert (job.kind, job.status, job.model_version_id) == (JobKind.EXPORT, JobStatus.QUEUED, version.pk)
    assert job.parameters == {"export": export.pk} and export.job_id == job.pk
    assert (export.status, export.created_by) == (ExportStatus.QUEUED, team.manager)
    assert export.storage_prefix == f"{version.artifact_prefix}/exports/{export.pk}"
    assert sent == [(job.pk, "export")]

    # The jobs route starts the same export.
    response = as_user(team.manager).post(
        f"{API}/jobs/", {"kind": "export", "model_version": version.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert ModelExport.objects.filter(job_id=response.json()["id"]).exists()

    # Cancelling the queued job gives the export up.
    job_cancel(job=job)
    export.refresh_from_db()
    assert export.status == ExportStatus.FAILED and export.failure_reason


def test_only_a_ready_version_of_an_exportable_algorithm_is_exported(version, team, as_user):
    url = f"{API}/model-versions/{version.pk}/exports/"
    ModelVersion.objects.filter(pk=version.pk).update(algorithm="some_other")
    response = as_user(team.manager).post(url)
    assert response.status_code == 400 and "only patchcore, padim" in response.json()["detail"]
    ModelVersion.objects.filter(pk=version.pk).update(algorithm="padim", status="training")
    response = as_user(team.manager).post(url)
    assert response.status_code == 400 and "only a ready model can be exported" in response.json()["detail"]
    assert not ModelExport.objects.exists()


def test_members_read_and_download_exports_and_other_teams_get_404(version, team, other_team, as_user):
    export = ready_export(version)
    viewer = as_user(team.viewer)
    listed = viewer.get(f"{API}/model-versions/{version.pk}/exports/")
    assert listed.status_code == 200 and [row["id"] for row in listed.json()] == [export.pk]
    body = viewer.get(f"{API}/exports/{export.pk}/").json()
    assert body["status"] == "ready" and body["parity"][0]["runtime"] == "onnxruntime"
    assert body["files"][1] == {
        "name": "openvino/model.xml",
        "size": 6,
        "url": f"/api/v1/exports/{export.pk}/files/openvino/model.xml",
    }

    response = viewer.get(body["files"][1]["url"])
    assert response.status_code == 200
    assert response["Content-Disposition"] == 'attachment; filename="model.xml"'
    assert b"".join(response.streaming_content) == b"<net/>"
    for missing in ("manifest.json", "../model.json", "openvino"):
        assert viewer.get(f"{API}/exports/{export.pk}/files/{missing}").status_code == 404
    default_storage.delete(f"{export.storage_prefix}/model.onnx")  # storage lost it
    assert viewer.get(f"{API}/exports/{export.pk}/files/model.onnx").status_code == 404

    stranger = as_user(other_team.manager)
    assert stranger.get(f"{API}/exports/{export.pk}/").status_code == 404
    assert stranger.get(f"{API}/exports/{export.pk}/files/openvino/model.xml").status_code == 404
    assert stranger.get(f"{API}/model-versions/{version.pk}/exports/").status_code == 404


def test_a_failed_exports_files_are_not_served(version, team, as_user):
    export = ready_export(version)
    ModelExport.objects.filter(pk=export.pk).update(status=ExportStatus.FAILED)
    response = as_user(team.viewer).get(f"{API}/exports/{export.pk}/files/model.onnx")
    assert response.status_code == 404


def test_a_manager_deletes_an_export_with_its_files(
    version, team, as_user, django_capture_on_commit_callbacks
):
    export = ready_export(version)
    assert as_user(team.reviewer).delete(f"{API}/exports/{export.pk}/").status_code == 403
    with django_capture_on_commit_callbacks(execute=True):
        assert as_user(team.manager).delete(f"{API}/exports/{export.pk}/").status_code == 204
    assert not ModelExport.objects.exists()
    assert not default_storage.exists(f"{export.storage_prefix}/openvino/model.xml")
    assert not default_storage.exists(f"{export.storage_prefix}/model.onnx")
