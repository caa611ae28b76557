"""The job list of the collection page: its rows come from the server; the bundle that keeps them
current (frontend/src/jobs.ts) is linked only where it is built."""

import pytest
from django.contrib.staticfiles import finders
from django.urls import reverse

from inference.models import Job, JobKind


@pytest.fixture
def job(team) -> Job:
    return Job.objects.create(
        collection=team.collection, kind=JobKind.TRAIN, progress=0.25, message="fitting"
    )


def test_the_rows_link_the_built_bundle(client, team, job, monkeypatch):
    monkeypatch.setattr(finders, "find", lambda path, **kwargs: f"/built/{path}")
    client.force_login(team.viewer)
    html = client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    assert f'data-job-id="{job.pk}"' in html and "25%" in html and "fitting" in html
    assert 'src="/static/frontend/dist/jobs.js"' in html


def test_without_the_bundle_the_rows_are_still_there(client, team, job, monkeypatch):
    monkeypatch.setattr(finders, "find", lambda path, **kwargs: None)
    client.force_login(team.viewer)
    response = client.get(reverse("collection-detail", args=[team.collection.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    assert f'data-job-id="{job.pk}"' in html and "25%" in html
    assert "jobs.js" not in html
