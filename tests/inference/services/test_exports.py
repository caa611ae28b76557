"""Exporting a trained version for real: the export job writes ONNX, OpenVINO and a manifest to
storage with parity figures; a graph that no longer computes what the model computes fails with its
figures; the files download; `manage.py export` writes the same files into a folder."""

import io
import json

import numpy as np
import pytest
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.urls import reverse

from annotations.geometry import mask_encode
from annotations.models import Verdict
from annotations.services.annotations import RegionInput
from inference.ml.export import bundle
from inference.models import ExportStatus, Job, JobStatus, ModelExport, ModelVersion
from inference.services.exporting import export_execute
from inference.services.exports import export_delete, export_start
from inference.services.jobs import job_run
from inference.services.training import train_execute
from inference.services.versions import model_version_delete, training_start
from tests.annotations.api.conftest import as_user
from tests.annotations.api.helpers import API
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill
from tests.inference.services.test_learning_from_labels import FAST_HEAD, defect_image, label

__all__ = ["as_user"]  # the fixture

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]

FILES = {
    "model.onnx",
    "manifest.json",
    "openvino/model.xml",
    "openvino/model.bin",
    "openvino/model_fp16.xml",
    "openvino/model_fp16.bin",
}


@pytest.fixture
def version(team, settings) -> ModelVersion:
    """A small PatchCore trained in this process on a generated collection."""
    settings.LOUPE_ML_DEVICE = "cpu"
    synthetic_collection_fill(team.collection, train=6, test_normal=2, test_defective=2)
    job = training_start(
        collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
    )
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    return job.model_version


def _export(version: ModelVersion, by) -> ModelExport:
    job = export_start(version=version, by=by)
    job_run(job_id=job.pk, work=export_execute)
    return ModelExport.objects.select_related("job").get(job=job)


def _stored(export: ModelExport) -> set[str]:
    """Every file stored under the export's folder, relative to it."""
    found, folders = set(), [""]
    while folders:
        folder = folders.pop()
        try:
            subfolders, files = default_storage.listdir(f"{export.storage_prefix}/{folder}".rstrip("/"))
        except FileNotFoundError:
            continue
        found.update(f"{folder}{name}" for name in files)
        folders.extend(f"{folder}{name}/" for name in subfolders)
    return found


def test_the_export_job_stores_the_files_and_their_parity_and_members_download_them(
    version, team, other_team, client, as_user, tmp_path, django_capture_on_commit_callbacks
):
    export = _export(version, team.manager)
    assert export.job.status == JobStatus.SUCCEEDED, export.job.failure_reason
    assert export.status == ExportStatus.READY and export.failure_reason == ""
    assert export.storage_prefix == f"{version.artifact_prefix}/exports/{export.pk}"
    assert {entry["name"] for entry in export.files} == FILES == _stored(export)
    for entry in export.files:
        assert entry["size"] == default_storage.size(f"{export.storage_prefix}/{entry['name']}") > 0
    runtimes = {figures["runtime"]: figures for figures in export.parity}
    assert {"onnxruntime", "openvino_fp32", "openvino_fp16"} <= set(runtimes)
    for name in ("onnxruntime", "openvino_fp32"):
        assert runtimes[name]["passed"] and runtimes[name]["flipped"] == 0
        assert runtimes[name]["max_score_diff"] <= bundle.PARITY_TOLERANCE
        assert runtimes[name]["images"] == 4  # the version's test images
    assert export.manifest["provenance"]["version_id"] == version.pk
    assert export.manifest["provenance"]["training_snapshot"] == version.snapshot_id
    assert export.manifest["decision"]["threshold"] == pytest.approx(version.threshold)
    assert export.job.result["export"] == export.pk

    # Members download the listed files, under their own names; nothing else.
    viewer = as_user(team.viewer)
    response = viewer.get(f"{API}/exports/{export.pk}/files/manifest.json")
    assert response.status_code == 200
    assert 'filename="manifest.json"' in response["Content-Disposition"]
    assert json.loads(b"".join(response.streaming_content)) == export.manifest
    response = viewer.get(f"{API}/exports/{export.pk}/files/openvino/model.xml")
    assert response.status_code == 200 and 'filename="model.xml"' in response["Content-Disposition"]
    assert viewer.get(f"{API}/exports/{export.pk}/files/model.json").status_code == 404
    listed = viewer.get(f"{API}/model-versions/{version.pk}/exports/").json()
    assert [row["id"] for row in listed] == [export.pk]
    assert {row["url"] for row in listed[0]["files"]} == {
        reverse("export-file", args=[export.pk, name]) for name in FILES
    }
    stranger = as_user(other_team.manager)
    assert stranger.get(f"{API}/exports/{export.pk}/files/model.onnx").status_code == 404

    # The models page lists it with its figures and download links.
    client.force_login(team.viewer)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert f'data-export-id="{export.pk}"' in html and 'data-runtime="openvino_fp32"' in html
    assert f'href="{reverse("export-file", args=[export.pk, "model.onnx"])}"' in html

    # Running the job again replaces the files (no renamed copies beside them).
    ModelExport.objects.filter(pk=export.pk).update(status=ExportStatus.QUEUED)
    Job.objects.filter(pk=export.job_id).update(status=JobStatus.QUEUED)
    job_run(job_id=export.job_id, work=export_execute)
    export.refresh_from_db()
    assert export.status == ExportStatus.READY and _stored(export) == FILES

    # The same export from the command line, into a folder.
    out = io.StringIO()
    export_dir = tmp_path / "export"
    call_command("export", str(version.pk), "--out", str(export_dir), stdout=out)
    assert {"model.onnx", "manifest.json", "openvino/model.xml", "openvino/model.bin"} <= {
        str(path.relative_to(export_dir)) for path in export_dir.rglob("*") if path.is_file()
    }
    assert "onnxruntime: normalised score differs by up to" in out.getvalue()
    assert json.loads((export_dir / "manifest.json").read_text())["provenance"]["version_id"] == version.pk

    with django_capture_on_commit_callbacks(execute=True):
        export_delete(export=export)
    assert _stored(export) == set() and default_storage.exists(f"{version.artifact_prefix}/model.json")
    second = _export(version, team.manager)
    with django_capture_on_commit_callbacks(execute=True):
        model_version_delete(version=version)
    assert _stored(second) == set() and not default_storage.exists(f"{version.artifact_prefix}/model.json")
    assert not ModelExport.objects.exists()


def test_an_export_whose_graph_differs_from_the_model_fails_with_its_figures(
    version, team, monkeypatch, tmp_path
):
    real_export_onnx = bundle.export_onnx

    def perturbed(detector, rule, path, manifest):
        import onnx
        from onnx import numpy_helper

        real_export_onnx(detector, rule, path, manifest)
        model = onnx.load(str(path))
        largest = max(model.graph.initializer, key=lambda tensor: int(np.prod(tensor.dims)))
        values = numpy_helper.to_array(largest)
        rng = np.random.default_rng(0)
        noise = rng.normal(0, 0.5, values.shape).astype(values.dtype)
        largest.CopyFrom(numpy_helper.from_array(values + noise, name=largest.name))
        onnx.save(model, str(path))

    monkeypatch.setattr(bundle, "export_onnx", perturbed)
    export = _export(version, team.manager)
    assert export.job.status == JobStatus.FAILED
    assert export.status == ExportStatus.FAILED and export.files == []
    assert "onnxruntime: normalised score differs by up to" in export.failure_reason
    assert export.job.failure_reason == export.failure_reason
    failed = [figures for figures in export.parity if not figures["passed"]]
    assert {figures["runtime"] for figures in failed} >= {"onnxruntime", "openvino_fp32"}
    assert _stored(export) == set()

    with pytest.raises(CommandError, match="the export differs from the model"):
        call_command("export", str(version.pk), "--out", str(tmp_path / "export"), stdout=io.StringIO())


def test_the_command_names_what_cannot_be_exported(team):
    with pytest.raises(CommandError, match="no model version 999"):
        call_command("export", "999", "--out", "/tmp/nowhere")
    training = ModelVersion.objects.create(collection=team.collection, algorithm="patchcore", backbone="x")
    with pytest.raises(CommandError, match="only a ready model can be exported"):
        call_command("export", str(training.pk), "--out", "/tmp/nowhere")


@pytest.mark.parametrize("algorithm", ["padim", "patchcore_ss"])
def test_padim_and_semi_supervised_versions_export_within_tolerance(algorithm, team, settings):
    settings.LOUPE_ML_DEVICE = "cpu"
    synthetic_collection_fill(team.collection, train=6, test_normal=2, test_defective=2)
    parameters = dict(FAST_PARAMETERS)
    if algorithm == "padim":
        parameters.pop("coreset_ratio")
    if algorithm == "patchcore_ss":  # a labeled defect outside the test split: the head is learned
        image, mask = defect_image(team.collection, 100)
        label(image, Verdict.DEFECTIVE, [RegionInput(kind="mask", geometry=mask_encode(mask))])
        parameters.update(FAST_HEAD)
    job = training_start(
        collection=team.collection,
        algorithm=algorithm,
        parameters=parameters,
        score_after=False,
    )
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason

    export = _export(job.model_version, team.manager)
    assert export.status == ExportStatus.READY, export.failure_reason
    assert export.manifest["algorithm"] == algorithm
    runtimes = {figures["runtime"]: figures for figures in export.parity}
    for name in ("onnxruntime", "openvino_fp32"):
        assert runtimes[name]["passed"] and runtimes[name]["flipped"] == 0 and runtimes[name]["images"] == 4
        assert runtimes[name]["max_score_diff"] <= bundle.PARITY_TOLERANCE
    if algorithm == "patchcore_ss":
        onnx_file = default_storage.open(f"{export.storage_prefix}/model.onnx").read()
        assert b"scorer.head.hidden.weight" in onnx_file  # the head is in the graph
