"""The demo's first model leaves Loupe: trained as `make demo` trains it, exported with `manage.py export`,
and run by the C++ program on the demo's test images, with Loupe's decisions and normalised scores."""

import json
import subprocess

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotations.models import Collection, Split
from inference.ml.thresholds import ScoreNormalizer
from inference.models import JobStatus
from inference.services.demo import DEMO_CATEGORY, DEMO_PROJECT, demo_seed
from inference.services.jobs import job_run
from inference.services.scoring import StoredImages, model_load
from inference.services.training import train_execute
from inference.services.versions import training_start

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("sent")]


def test_the_demo_model_exported_runs_on_the_line_as_in_loupe(db, settings, tmp_path, loupe_inspect):
    settings.LOUPE_ML_DEVICE = "cpu"
    # The job runs in this test's transaction, which the heartbeat thread's own connection cannot see: a
    # heartbeat during the demo's training (longer than a third of the usual lease) would lose the job.
    settings.LOUPE_JOB_LEASE_SECONDS = 3600
    user = get_user_model().objects.create(username="demo")
    [summary] = demo_seed(root=tmp_path / "data", user=user)
    collection = Collection.objects.get(project__name=DEMO_PROJECT, name=summary.name)
    job = training_start(collection=collection, algorithm="patchcore_ss", score_after=False)
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    version = job.model_version

    call_command("export", str(version.pk), "--out", str(tmp_path / "export"))
    test_images = list(collection.images.filter(split=Split.TEST).order_by("id"))
    paths = [tmp_path / "data" / DEMO_CATEGORY / "test" / image.original_name for image in test_images]
    paths = [path for path in paths if path.is_file()] or pytest.fail("the demo's test files are not on disk")
    done = subprocess.run(
        [str(loupe_inspect), str(tmp_path / "export"), *map(str, paths)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr[-2000:]
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    assert [line["image"] for line in lines] == [str(path) for path in paths]

    predicted = model_load(version).predict(StoredImages(test_images[: len(paths)]))
    normalizer = ScoreNormalizer(**version.normalizer)
    decisions = [line["decision"] for line in lines]
    assert decisions == ["defective" if s >= version.threshold else "normal" for s in predicted.scores]
    assert "defective" in decisions and "normal" in decisions  # the demo's model tells them apart
    for line, score in zip(lines, predicted.scores, strict=True):
        assert line["normalized_score"] == pytest.approx(float(normalizer(float(score))), abs=1e-4)
