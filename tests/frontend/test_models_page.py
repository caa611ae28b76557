"""The models page: its table and configuration, who sees which controls, training from its form."""

import pytest
from django.urls import reverse

from inference.ml.defect_types import type_confusion
from inference.models import Job, JobKind
from tests.frontend.helpers import page_config
from tests.inference.helpers import labeled_test_images, scored_version, synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")


def config_of(response) -> dict:
    return page_config(response, "models-config")


@pytest.fixture
def versions(team):
    images = labeled_test_images(team.collection, ["normal", "defective"])
    first = scored_version(team.collection, dict(zip(images, [0.3, 1.4], strict=True)))
    first.metrics = {"image_auroc": 1.0, "f1_max": 1.0, "note": "not for the page"}
    first.save(update_fields=["metrics"])
    second = scored_version(team.collection, dict(zip(images, [0.5, 1.2], strict=True)))
    second.parent = first
    second.save(update_fields=["parent"])
    return first, second


def test_viewers_see_the_versions_but_no_controls(client, team, versions):
    first, second = versions
    client.force_login(team.viewer)
    response = client.get(reverse("collection-models", args=[team.collection.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert f'data-version-id="{first.pk}"' in html and f'data-version-id="{second.pk}"' in html
    assert "1.000" in html  # first's image AUROC
    assert 'id="threshold-range"' in html and 'id="compare"' in html
    assert "Save threshold" not in html and 'id="promote"' not in html and "Train a new version" not in html
    config = config_of(response)
    assert config["activeId"] == second.pk
    assert [v["id"] for v in config["versions"]] == [second.pk, first.pk]
    listed = config["versions"][1]
    assert listed["metrics"] == {"image_auroc": 1.0, "f1_max": 1.0}
    assert listed["scoresUrl"] == f"/api/v1/model-versions/{first.pk}/scores/"
    assert listed["normalizer"] == first.normalizer and set(first.normalizer) == {"low", "threshold", "high"}
    assert config["versions"][0]["parent"] == first.pk


def test_managers_get_the_controls_and_the_collection_page_links_here(client, team, versions):
    client.force_login(team.manager)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert "Save threshold" in html and 'id="promote"' in html and "Train a new version" in html
    collection_page = client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    assert reverse("collection-models", args=[team.collection.pk]) in collection_page


def test_a_collection_without_models_says_so(client, team):
    client.force_login(team.manager)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert "No model has been trained" in html and 'id="model-detail"' not in html
    assert "Train a new version" in html


def test_another_teams_models_page_is_a_404(client, team, other_team):
    client.force_login(team.manager)
    assert client.get(reverse("collection-models", args=[other_team.collection.pk])).status_code == 404
    url = reverse("collection-train", args=[other_team.collection.pk])
    assert client.post(url, {"algorithm": "padim", "image_size": 64}).status_code == 404


def test_a_manager_trains_a_child_of_the_active_version(client, team, versions, sent):
    synthetic_collection_fill(team.collection, train=2, test_normal=0, test_defective=0)
    url = reverse("collection-train", args=[team.collection.pk])
    client.force_login(team.reviewer)
    assert client.post(url, {"algorithm": "padim", "image_size": 64}).status_code == 403
    assert not Job.objects.exists()

    client.force_login(team.manager)
    response = client.post(url, {"algorithm": "padim", "image_size": 64}, follow=True)
    job = Job.objects.get()
    assert (job.kind, job.created_by) == (JobKind.TRAIN, team.manager)
    version = job.model_version
    assert (version.algorithm, version.parameters) == ("padim", {"image_size": 64})
    assert version.parent == versions[1]
    html = response.content.decode()
    assert f"Training model {version.pk} is queued" in html
    assert f'data-job-id="{job.pk}"' in html and "jobs.js" in html  # its live progress bar

    response = client.post(url, {"algorithm": "padim", "image_size": 100}, follow=True)
    assert "multiple of step size 32" in response.content.decode()
    assert Job.objects.count() == 1


def test_a_child_shows_how_it_does_against_its_parent(client, team):
    parent = scored_version(team.collection, {team.image: 1.5})
    child = scored_version(team.collection, {team.image: 1.4})
    child.parent = parent
    child.metrics = {"image_auroc": 0.91, "aupro": 0.70, "parent": {"image_auroc": 0.95, "aupro": 0.60}}
    child.save()
    client.force_login(team.viewer)

    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()

    assert "-0.040 image AUROC" in html and "delta-worse" in html
    assert "+0.100 AUPRO" in html and "delta-better" in html


def test_a_version_that_learned_defect_types_shows_its_confusion_matrix(client, team, versions):
    first, second = versions
    report = type_confusion(["dent", "dent", "dent", "scratch"], ["dent", "dent", "scratch", "scratch"])
    first.metrics = {
        **first.metrics,
        "defect_types": {"learned_types": ["dent", "scratch"], "n_learned": 6, "n_test": 4, **report},
    }
    first.save(update_fields=["metrics"])
    second.metrics = {
        **second.metrics,
        "defect_types": {"learned_types": ["dent", "scratch"], "n_learned": 2, "n_test": 0},
    }
    second.save(update_fields=["metrics"])
    client.force_login(team.viewer)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()

    table = html[html.index(f'data-type-table="{first.pk}"') :].split("</figure>")[0]
    assert (
        "learned dent, scratch from 6 regions" in table
        and "balanced accuracy 0.833 on 4 test regions" in table
    )
    # Row "dent": 2 named dent (the diagonal, two thirds of the row), 1 named scratch.
    assert (
        '<td class="num shade-3 hit">2</td><td class="num shade-1">1</td><td class="num">0.67</td>' in table
    )
    assert (
        '<td class="num shade-0">0</td><td class="num shade-4 hit">1</td><td class="num">1.00</td>' in table
    )
    unmeasured = html[html.index(f'data-type-table="{second.pk}"') :].split("</figure>")[0]
    assert "not measured" in unmeasured and "<table" not in unmeasured


def test_no_defect_types_section_without_a_version_that_learned_them(client, team, versions):
    client.force_login(team.viewer)
    html = client.get(reverse("collection-models", args=[team.collection.pk])).content.decode()
    assert 'id="types-title"' not in html
