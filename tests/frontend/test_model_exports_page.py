"""The models page's exports: the button managers get, what each export shows (status, parity per
runtime, files and their download links, a failure's reason), and starting one from the page."""

import pytest
from django.urls import reverse

from inference.models import ExportStatus, Job, JobKind, ModelExport
from tests.inference.helpers import labeled_test_images, ready_export, scored_version

pytestmark = pytest.mark.usefixtures("sent")


@pytest.fixture
def version(team):
    images = labeled_test_images(team.collection, ["normal", "defective"])
    version = scored_version(team.collection, dict(zip(images, [0.3, 1.4], strict=True)))
    version.artifact_prefix = f"models/{team.collection.pk}/{version.pk}"
    version.save(update_fields=["artifact_prefix"])
    return version


def test_the_page_shows_each_export_with_its_parity_files_and_reason(client, team, version):
    ready = ready_export(version)
    failed = ModelExport.objects.create(
        model_version=version,
        status=ExportStatus.FAILED,
        failure_reason="onnxruntime: normalised score differs by up to 3.10e-01",
        parity=[
            {
                "runtime": "onnxruntime",
                "images": 2,
                "max_score_diff": 0.31,
                "max_map_diff": 0.2,
                "flipped": 1,
                "passed": False,
            }
        ],
    )
    client.force_login(team.viewer)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert f'data-exports-of="{version.pk}"' in html
    assert f'data-export-id="{ready.pk}" data-status="ready"' in html
    assert f'data-export-id="{failed.pk}" data-status="failed"' in html
    assert 'data-runtime="openvino_fp32"' in html and "1.0e-06" in html and "3.1e-01" in html
    assert f'href="/api/v1/exports/{ready.pk}/files/openvino/model.xml"' in html and "10\xa0bytes" in html
    assert "normalised score differs by up to 3.10e-01" in html
    assert reverse("collection-model-export", args=[team.collection.pk, version.pk]) not in html


def test_a_manager_exports_from_the_page_and_others_may_not(client, team, other_team, version):
    url = reverse("collection-model-export", args=[team.collection.pk, version.pk])
    client.force_login(team.manager)
    page = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert f'action="{url}"' in page and "Not exported yet." in page

    client.force_login(team.reviewer)
    assert client.post(url).status_code == 403
    client.force_login(other_team.manager)
    assert client.post(url).status_code == 404
    assert not Job.objects.exists()

    client.force_login(team.manager)
    html = client.post(url, follow=True).content.decode()
    job = Job.objects.get()
    export = ModelExport.objects.get()
    assert (job.kind, job.created_by, export.job_id) == (JobKind.EXPORT, team.manager, job.pk)
    assert f"Exporting model {version.pk} is queued" in html
    assert f'data-job-id="{job.pk}"' in html and f'data-export-id="{export.pk}" data-status="queued"' in html

    version.status = "failed"
    version.save(update_fields=["status"])
    html = client.post(url, follow=True).content.decode()
    assert "only a ready model can be exported" in html and ModelExport.objects.count() == 1
