"""`manage.py train` and `manage.py evaluate` against a real worker."""

import io
import json

import pytest
from django.core.management import CommandError, call_command

from inference.models import ModelVersion, ModelVersionStatus
from tests.inference.helpers import synthetic_collection_fill

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_train_wait_then_evaluate_and_compare(celery_worker_process, team):
    synthetic_collection_fill(team.collection, train=8, test_normal=3, test_defective=3)
    celery_worker_process()
    out = io.StringIO()
    params = ["--image-size", "64", "--param", "coreset_ratio=0.1", "--param", "batch_size=8"]
    call_command("train", team.collection.name, "--wait", *params, stdout=out, stderr=io.StringIO())
    assert "is ready" in out.getvalue() and "Scored 15 images" in out.getvalue()
    call_command(
        "train",
        str(team.collection.pk),
        "--wait",
        "--no-score",
        "--param",
        "image_size=96",
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    first, second = ModelVersion.objects.order_by("pk")
    assert first.status == second.status == ModelVersionStatus.READY

    out = io.StringIO()
    call_command("evaluate", str(first.pk), "--json", stdout=out)
    metrics = json.loads(out.getvalue())
    assert metrics["model_version"] == first.pk and metrics["n_images"] == 6
    assert {"image_auroc", "pixel_auroc", "aupro", "f1_max", "f1_max_threshold", "threshold"} <= set(metrics)
    assert metrics["image_auroc"] == pytest.approx(first.metrics["image_auroc"])

    out = io.StringIO()
    call_command("evaluate", str(first.pk), "--against", str(second.pk), "--json", stdout=out)
    compared = json.loads(out.getvalue())
    assert [v["model_version"] for v in compared["versions"]] == [first.pk, second.pk]
    assert compared["difference"]["image_auroc"] == pytest.approx(
        compared["versions"][1]["image_auroc"] - compared["versions"][0]["image_auroc"]
    )


def test_train_names_the_problem(team):
    with pytest.raises(CommandError, match="no collection 'nope'"):
        call_command("train", "nope")
    with pytest.raises(CommandError, match="no training images"):
        call_command("train", team.collection.name)
    with pytest.raises(CommandError, match="unknown parameters"):
        call_command("train", team.collection.name, "--param", "image_sise=3")
