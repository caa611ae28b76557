"""The jobs, model versions and predictions API without a worker: roles, scoping, validation, heatmaps."""

import io

import numpy as np
import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from inference.models import Job, JobKind, JobStatus, ModelVersion, ModelVersionStatus, Prediction
from inference.services import jobs
from inference.services.heatmaps import heatmap_key, heatmap_png
from tests.annotations.api.helpers import API, results
from tests.inference.helpers import synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")


def scored(team) -> Prediction:
    """A ready model version with one prediction (heatmap file included) for the team's image."""
    version = ModelVersion.objects.create(
        collection=team.collection,
        status=ModelVersionStatus.READY,
        algorithm="patchcore",
        backbone="efficientnet_lite0",
        threshold=1.0,
        pixel_threshold=1.0,
        normalizer={"low": 0.0, "threshold": 1.0, "high": 2.0},
        heatmap_low=0.0,
        heatmap_high=2.0,
    )
    image = team.image
    anomaly_map = np.linspace(0, 2, image.width * image.height, dtype=np.float32).reshape(
        image.height, image.width
    )
    name = default_storage.save(
        heatmap_key(version=version, image_id=image.pk), ContentFile(heatmap_png(anomaly_map, 0, 2))
    )
    return Prediction.objects.create(
        model_version=version,
        image=image,
        score=1.5,
        normalized_score=0.75,
        is_defective=True,
        heatmap=name,
        heatmap_low=0.0,
        heatmap_high=2.0,
    )


def test_training_needs_a_manager(team, as_user, sent):
    synthetic_collection_fill(team.collection, train=2, test_normal=0, test_defective=0)
    body = {"kind": "train", "collection": team.collection.pk, "parameters": {"image_size": 64}}
    assert as_user(team.reviewer).post(f"{API}/jobs/", body, format="json").status_code == 403
    response = as_user(team.manager).post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 202, response.content
    job = Job.objects.get(pk=response.json()["id"])
    assert (job.kind, job.status, job.created_by) == (JobKind.TRAIN, JobStatus.QUEUED, team.manager)
    assert job.model_version.parameters == {"image_size": 64}


def test_training_input_is_checked(team, as_user):
    client = as_user(team.manager)
    body = {"kind": "train", "collection": team.collection.pk}
    response = client.post(f"{API}/jobs/", body, format="json")
    assert response.status_code == 400 and "no training images" in response.json()["collection"][0]
    synthetic_collection_fill(team.collection, train=1, test_normal=0, test_defective=0)
    response = client.post(f"{API}/jobs/", {**body, "parameters": {"image_sise": 64}}, format="json")
    assert response.status_code == 400 and "image_sise" in response.json()["parameters"][0]


def test_scoring_needs_a_reviewer_and_a_ready_model(team, as_user):
    version = scored(team).model_version
    body = {"kind": "score", "model_version": version.pk}
    assert as_user(team.annotator).post(f"{API}/jobs/", body, format="json").status_code == 403
    assert as_user(team.reviewer).post(f"{API}/jobs/", body, format="json").status_code == 202
    ModelVersion.objects.filter(pk=version.pk).update(status=ModelVersionStatus.TRAINING)
    assert as_user(team.reviewer).post(f"{API}/jobs/", body, format="json").status_code == 400


def test_another_teams_jobs_models_and_predictions_do_not_exist(team, other_team, as_user):
    prediction = scored(other_team)
    job = jobs.job_create(
        kind=JobKind.SCORE, collection=other_team.collection, model_version=prediction.model_version
    )
    client = as_user(team.manager)
    for url in (
        f"{API}/jobs/{job.pk}/",
        f"{API}/model-versions/{prediction.model_version_id}/",
        f"{API}/predictions/{prediction.pk}/",
        f"{API}/predictions/{prediction.pk}/heatmap/",
        f"{API}/predictions/{prediction.pk}/overlay/",
        f"{API}/model-versions/{prediction.model_version_id}/images/{prediction.image_id}/overlay/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post(f"{API}/jobs/{job.pk}/cancel/").status_code == 404
    body = {"kind": "score", "model_version": prediction.model_version_id}
    assert client.post(f"{API}/jobs/", body, format="json").status_code == 400
    assert results(client.get(f"{API}/jobs/")) == []
    assert results(client.get(f"{API}/model-versions/")) == []
    assert results(client.get(f"{API}/predictions/")) == []


def test_heatmap_and_overlay(team, as_user):
    prediction = scored(team)
    client = as_user(team.viewer)
    listed = results(client.get(f"{API}/predictions/", {"model_version": prediction.model_version_id}))
    assert [p["id"] for p in listed] == [prediction.pk]
    heatmap = client.get(listed[0]["heatmap"])
    assert heatmap.status_code == 200 and heatmap["Cache-Control"] == "private, max-age=3600"
    with PILImage.open(io.BytesIO(b"".join(heatmap.streaming_content))) as picture:
        assert picture.mode == "L" and picture.size == (team.image.width, team.image.height)
    overlay = client.get(listed[0]["overlay"], {"opacity": 1, "size": 16})
    with PILImage.open(io.BytesIO(overlay.content)) as picture:
        assert picture.mode == "RGB" and max(picture.size) == 16
        pixels = np.asarray(picture)
    assert pixels[0, 0, 2] > pixels[0, 0, 0] and pixels[-1, -1, 0] > pixels[-1, -1, 2]  # low blue, high red
    assert (
        client.get(listed[0]["overlay"], HTTP_IF_NONE_MATCH=overlay["ETag"]).status_code == 200
    )  # other size
    assert (
        client.get(
            listed[0]["overlay"], {"opacity": 1, "size": 16}, HTTP_IF_NONE_MATCH=overlay["ETag"]
        ).status_code
        == 304
    )
    assert client.get(listed[0]["overlay"], {"opacity": 3}).status_code == 400


def test_cancel_a_queued_job(team, as_user):
    version = scored(team).model_version
    job = jobs.job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    assert as_user(team.annotator).post(f"{API}/jobs/{job.pk}/cancel/").status_code == 403
    response = as_user(team.reviewer).post(f"{API}/jobs/{job.pk}/cancel/")
    assert response.status_code == 200 and response.json()["status"] == "cancelled"
    assert as_user(team.reviewer).post(f"{API}/jobs/{job.pk}/cancel/").status_code == 400


def test_the_collection_page_shows_its_jobs(team, client):
    version = scored(team).model_version
    job = jobs.job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    client.force_login(team.viewer)
    page = client.get(f"/collections/{team.collection.pk}/").content.decode()
    assert f'data-job-id="{job.pk}"' in page and "waiting for a worker" in page and "jobs.js" in page
