"""New images do not stay unscored: a "Score" request, and, when the collection asks, the scoring of
uploads by the production version."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from inference.models import Job, JobKind, JobStatus, LearningSettings
from inference.services.dataset_imports import import_execute, import_stage, import_start
from inference.services.jobs import job_run
from inference.services.scoring_jobs import new_images_score, scoring_start, unscored_image_count
from inference.services.versions import model_version_promote
from tests.conftest import png_bytes
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.usefixtures("sent")


@pytest.fixture
def version(team):
    return scored_version(team.collection, {add_image(team.collection, "scored.png", seed=1): 1.5})


def test_a_score_request_covers_what_is_unscored_and_is_not_queued_twice(team, version):
    add_image(team.collection, "new.png", seed=2)
    assert unscored_image_count(version=version)["total"] == 1 + (team.image is not None)
    first = scoring_start(version=version, by=team.reviewer)
    assert (first.kind, first.model_version, first.parameters) == (JobKind.SCORE, version, {})
    assert scoring_start(version=version, by=team.reviewer) == first  # the waiting one will do it
    Job.objects.filter(pk=first.pk).update(status=JobStatus.SUCCEEDED)
    assert scoring_start(version=version, by=team.reviewer) != first


def test_new_images_are_scored_only_when_the_collection_asks_and_something_is_in_production(team, version):
    image = add_image(team.collection, "new.png", seed=2)
    assert new_images_score(collection=team.collection, image_ids=[image.pk], by=None) is None  # off
    LearningSettings.objects.create(collection=team.collection, score_new_uploads=True)
    assert (
        new_images_score(collection=team.collection, image_ids=[image.pk], by=None) is None
    )  # none promoted
    model_version_promote(version=version, by=team.manager)
    job = new_images_score(collection=team.collection, image_ids=[image.pk], by=team.annotator)
    assert job.parameters == {"image_ids": [image.pk]} and job.model_version == version
    assert new_images_score(collection=team.collection, image_ids=[], by=None) is None


def test_an_import_job_queues_the_scoring_of_what_it_added_when_the_collection_asks(team, version):
    LearningSettings.objects.create(collection=team.collection, score_new_uploads=True)
    model_version_promote(version=version, by=team.manager)
    files = [("parts/a.png", SimpleUploadedFile("a.png", png_bytes(seed=31)))]
    staged = import_stage(collection=team.collection, user=team.annotator, key=None, files=files, archives=[])
    job = import_start(collection=team.collection, user=team.annotator, key=staged.key)
    job_run(job_id=job.pk, work=import_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED and job.result["added"] == 1, job.failure_reason
    (scoring,) = Job.objects.filter(kind=JobKind.SCORE)
    assert scoring.model_version == version and scoring.parameters == {}  # every unscored image
    assert unscored_image_count(version=version)["total"] == 2  # the team's first image and the imported one
