"""Live pages in Chromium: when a job finishes, the models page draws its new version and the jobs that
followed by itself, with no reload; the job list shows the time left and folds away when idle."""

import pytest
from django.utils import timezone

from inference.models import Job, JobKind, JobStatus
from inference.services.jobs import job_create
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.inference.helpers import labeled_test_images, prediction_add, scored_version

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_models_page_shows_a_finished_training_and_its_follow_ons_without_a_reload(page):
    team = factories.team()
    images = labeled_test_images(team.collection, ["normal", "defective"])
    first = scored_version(team.collection, dict(zip(images, [0.3, 1.4], strict=True)))
    training = job_create(kind=JobKind.TRAIN, collection=team.collection, created_by=team.manager)
    started = timezone.now() - timezone.timedelta(seconds=60)
    Job.objects.filter(pk=training.pk).update(status=JobStatus.RUNNING, progress=0.25, started_at=started)
    login(page, team.manager)
    page.goto(f"/collections/{team.collection.pk}/models/")
    page.evaluate("window.notReloaded = true")
    assert page.locator("details.jobs").get_attribute("open") is not None  # open while something runs
    page.wait_for_function(
        "() => document.querySelector('[data-field=left]').textContent.includes('min left')"
    )
    assert "about 3 min left" in page.inner_text("[data-field=left]")

    # The worker finishes: a new version, and the scoring it queued.
    second = scored_version(team.collection, dict(zip(images, [0.2, 1.6], strict=True)))
    second.parent = first
    second.save(update_fields=["parent"])
    Job.objects.filter(pk=training.pk).update(
        status=JobStatus.SUCCEEDED, progress=1.0, finished_at=timezone.now(), model_version=second
    )
    scoring = job_create(kind=JobKind.SCORE, collection=team.collection, model_version=second)
    page.wait_for_selector(f"tr[data-version-id='{second.pk}']", timeout=15_000)
    page.wait_for_selector(f"[data-job-id='{scoring.pk}'][data-status=queued]")
    assert page.evaluate("window.notReloaded") is True
    # The new version can be picked at once: its buttons are bound.
    page.click(f"button[data-show-version='{second.pk}']")
    page.wait_for_function(
        "name => document.querySelector('#detail-name').textContent.startsWith(name)",
        arg=f"model {second.pk} ",
    )
    screenshot(page, "models-live.png")

    # Nothing left to run: the list folds away on the next drawing.
    Job.objects.filter(pk=scoring.pk).update(
        status=JobStatus.SUCCEEDED, progress=1.0, finished_at=timezone.now()
    )
    page.wait_for_function(
        "() => document.querySelector('details.jobs') && !document.querySelector('details.jobs').open"
    )
    assert "none running" in page.inner_text("details.jobs summary")
    assert page.evaluate("window.notReloaded") is True
    assert page.errors == []


def test_the_collection_page_shows_new_scores_when_scoring_finishes_after_a_selection_is_let_go(page):
    team = factories.team()
    (other,) = labeled_test_images(team.collection, ["normal"])
    version = scored_version(team.collection, {other: 0.4})
    scoring = job_create(kind=JobKind.SCORE, collection=team.collection, model_version=version)
    Job.objects.filter(pk=scoring.pk).update(
        status=JobStatus.RUNNING, progress=0.5, started_at=timezone.now()
    )
    login(page, team.reviewer)
    page.goto(f"/collections/{team.collection.pk}/")
    page.evaluate("window.notReloaded = true")
    first_tile = f"li.tile[data-image-id='{team.image.pk}']"
    assert page.locator(f"{first_tile} .score").count() == 0
    assert "1 image not scored by model" in page.inner_text("[data-live=grid]")

    # The worker scores the image while it is selected: the selection holds the grid as it is.
    page.check(f"{first_tile} .tile-select")
    prediction_add(version, team.image, score=1.6)
    Job.objects.filter(pk=scoring.pk).update(
        status=JobStatus.SUCCEEDED, progress=1.0, finished_at=timezone.now()
    )
    # The job list was drawn again.
    page.wait_for_function("() => !document.querySelector('details.jobs').open")
    assert page.locator(f"{first_tile} .tile-select").is_checked()
    assert page.locator(f"{first_tile} .score").count() == 0
    # Let go, the grid is drawn with the new score.
    page.keyboard.press("Escape")
    page.wait_for_selector(f"{first_tile} .score.score-above")
    assert page.locator(f"{first_tile} .score-value").inner_text() == "0.80"
    assert "not scored" not in page.inner_text("[data-live=grid]")
    assert page.evaluate("window.notReloaded") is True
    assert page.errors == []


def test_many_running_jobs_leave_the_first_tile_on_a_laptop_screen(page):
    team = factories.team()
    started = timezone.now() - timezone.timedelta(minutes=2)
    kinds = [JobKind.SCORE, JobKind.TRAIN, JobKind.IMPORT, JobKind.EVALUATE]
    for index in range(12):
        running = index % 2 == 0
        Job.objects.create(
            kind=kinds[index % len(kinds)],
            collection=team.collection,
            status=JobStatus.RUNNING if running else JobStatus.QUEUED,
            progress=0.1 * (index % 9) if running else 0.0,
            started_at=started if running else None,
            message=f"job {index} of a busy afternoon",
        )
    login(page, team.reviewer)
    page.set_viewport_size({"width": 1366, "height": 768})
    page.goto(f"/collections/{team.collection.pk}/")

    jobs = page.locator("details.jobs")
    assert jobs.get_attribute("open") is not None  # open: something runs
    assert page.locator("details.jobs tr[data-job-id]").count() >= 5
    # The summary counts every unfinished job, not only the five listed.
    assert "6 running, 6 queued" in page.inner_text("details.jobs summary")
    # The list scrolls in its own box, so the grid still starts on the first screen.
    tile = page.locator("li.tile").first.bounding_box()
    assert 0 <= tile["y"] < 768 - 40, tile
    assert jobs.bounding_box()["height"] < 768 / 2, jobs.bounding_box()
    screenshot(page, "collection-many-jobs.png")
    assert page.errors == []
