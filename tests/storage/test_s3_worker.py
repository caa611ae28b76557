"""A worker that shares nothing with the web process but the database and the bucket: it trains on
images the test process uploaded, writes the model files and heatmaps to the bucket (and an ONNX
export), and the test process reads them back, loads the model from the bucket and scores with it."""

import io
import json

import numpy as np
import pytest
from PIL import Image as PILImage

from inference.ml.export.bundle import GATED_RUNTIMES
from inference.models import ExportStatus, JobStatus, ModelExport, ModelVersionStatus, Prediction
from inference.services.exports import export_start
from inference.services.scoring import StoredImages, model_load
from inference.services.versions import training_start
from tests.annotations.api.helpers import API, results
from tests.inference.conftest import wait_for_job
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill
from tests.storage.conftest import local_files

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_a_worker_trains_on_images_it_did_not_upload_and_its_files_are_read_back(
    celery_worker_process, team, s3_env, s3_storage, media_root, tmp_path, api_client
):
    made = synthetic_collection_fill(team.collection, train=8, test_normal=2, test_defective=2)
    worker_media = tmp_path / "worker-media"  # the worker's own, empty: it must not need it
    worker_media.mkdir()
    celery_worker_process(MEDIA_ROOT=str(worker_media), **s3_env)

    job = training_start(
        collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
    )
    job = wait_for_job(job.pk, timeout=180)
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    version = job.model_version
    version.refresh_from_db()
    assert version.status == ModelVersionStatus.READY

    # The model's files and the test images' heatmaps are in the bucket, nowhere on disk.
    prefix = version.artifact_prefix
    assert s3_storage.keys(f"{prefix}/") == {f"{prefix}/model.json", f"{prefix}/model.safetensors"}
    assert json.loads(s3_storage.read(f"{prefix}/model.json"))
    tested = made["test_normal"] + made["test_defective"]
    predictions = {p.image_id: p for p in Prediction.objects.filter(model_version=version)}
    assert set(predictions) == {image.pk for image in tested}
    assert s3_storage.keys(f"predictions/{team.collection.pk}/{version.pk}/") == {
        p.heatmap.name for p in predictions.values()
    }
    assert local_files(worker_media) == [] and local_files(media_root) == []

    # The heatmap streams back through the API as the worker stored it.
    defect = made["test_defective"][0]
    api_client.force_authenticate(team.viewer)
    listed = results(api_client.get(f"{API}/predictions/", {"model_version": version.pk, "page_size": 50}))
    heatmap = api_client.get(next(p for p in listed if p["image"] == defect.pk)["heatmap"])
    assert heatmap.status_code == 200
    body = b"".join(heatmap.streaming_content)
    assert body == s3_storage.read(predictions[defect.pk].heatmap.name)
    with PILImage.open(io.BytesIO(body)) as picture:
        assert picture.size == (defect.width, defect.height)

    # This process never had the model: loaded from the bucket, it scores as the worker did.
    detector = model_load(version)
    rescored = detector.predict(StoredImages(tested)).scores
    np.testing.assert_allclose(rescored, [predictions[image.pk].score for image in tested], rtol=1e-4)

    # An export, written by the worker to the bucket, checked for parity there and downloadable.
    export_job = wait_for_job(export_start(version=version, by=team.manager).pk, timeout=240)
    assert export_job.status == JobStatus.SUCCEEDED, export_job.failure_reason
    export = ModelExport.objects.get(job=export_job)
    assert export.status == ExportStatus.READY
    assert set(GATED_RUNTIMES) <= {figures["runtime"] for figures in export.parity if figures["passed"]}
    onnx_key = f"{export.storage_prefix}/model.onnx"
    assert onnx_key in s3_storage.keys(f"{export.storage_prefix}/")
    api_client.force_authenticate(team.manager)
    download = api_client.get(f"{API}/exports/{export.pk}/files/model.onnx")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == s3_storage.read(onnx_key)
    assert local_files(worker_media) == []
