"""`seed_demo`: the demo project, its user, and one first training queued, however often it runs."""

import io

from django.core.management import call_command

from annotations.models import Collection, Project
from inference.models import Job, JobKind


def test_seeding_twice_makes_one_project_and_queues_one_training(
    db, settings, tmp_path, sent, django_capture_on_commit_callbacks
):
    settings.VAR_DIR = tmp_path

    first, second = io.StringIO(), io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("seed_demo", stdout=first)
        call_command("seed_demo", stdout=second)

    project = Project.objects.get(name="Demo")
    assert project.memberships.get().user.username == "demo"
    collection = Collection.objects.get(project=project)
    assert collection.images.count() == 100
    (job,) = Job.objects.filter(kind=JobKind.TRAIN)
    assert job.model_version.algorithm == "patchcore_ss" and job.collection == collection
    assert sent == [(job.pk, "train")]
    assert "queued for training" in first.getvalue() and "queued" not in second.getvalue()
