"""The models page in Chromium: the threshold slider and number box move the confusion matrix, a
manager saves the threshold, two versions are compared; viewers look and use the keyboard."""

import pytest

from inference.models import ModelVersion, Prediction, SnapshotRole
from inference.truth import DEFECTIVE, UNLABELED, snapshot_labels
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.inference.helpers import labeled_test_images, scored_version

pytestmark = pytest.mark.django_db(transaction=True)

VERDICTS = ["normal"] * 6 + ["defective"] * 4 + ["unlabeled"]
OLDER = [0.2, 0.35, 0.5, 0.7, 0.9, 1.15, 0.8, 1.05, 1.3, 1.7, 1.0]
NEWER = [0.1, 0.3, 0.45, 0.6, 0.75, 0.95, 0.9, 1.2, 1.45, 1.8, 0.5]
CELLS = ("tp", "fn", "fp", "tn")


@pytest.fixture(autouse=True)
def scores_in_pages(settings):
    """The page reads a version's scores in pages of 4 here (5,000 by default), so every test follows
    `next` across three pages: whatever it counts from the scores covers them all."""
    settings.LOUPE_SCORES_PAGE_SIZE = 4


def two_versions(team) -> tuple[ModelVersion, ModelVersion]:
    """An older version and its child, the active one, scored on the same labeled test images."""
    images = labeled_test_images(team.collection, VERDICTS)
    older = scored_version(team.collection, dict(zip(images, OLDER, strict=True)))
    newer = scored_version(team.collection, dict(zip(images, NEWER, strict=True)))
    newer.parent = older
    newer.metrics = {"image_auroc": 0.9, "pixel_auroc": 0.95, "aupro": 0.8, "f1_max": 0.89}
    newer.fit_seconds, newer.peak_memory_bytes, newer.device = 12.5, 512 * 2**20, "cpu"
    newer.save()
    return older, newer


def expected(version: ModelVersion, threshold: float) -> dict[str, int]:
    """The confusion matrix at `threshold` from the database: the predictions on the version's test
    snapshot, against the images' verdicts at the snapshot (unlabeled ones do not count)."""
    labels = snapshot_labels(snapshot=version.snapshot, role=SnapshotRole.TEST)
    counts = dict.fromkeys(CELLS, 0)
    rows = Prediction.objects.filter(model_version=version).values_list("image_id", "score")
    for image_id, score in rows:
        if labels.get(image_id, UNLABELED) == UNLABELED:
            continue
        flagged = score >= threshold
        cell = ("tp" if flagged else "fn") if labels[image_id] == DEFECTIVE else ("fp" if flagged else "tn")
        counts[cell] += 1
    return counts


def matrix(page) -> dict[str, int]:
    return {cell: int(page.locator(f"[data-cell={cell}]").inner_text()) for cell in CELLS}


def open_models(page, team, version: ModelVersion) -> None:
    page.goto(f"/collections/{team.collection.pk}/models/")
    wait_for_version(page, version)


def wait_for_version(page, version: ModelVersion) -> None:
    page.wait_for_function(
        "name => document.querySelector('#detail-name').textContent.startsWith(name)"
        " && document.querySelector('[data-cell=tp]').textContent !== ''"
        " && document.querySelector('#models-status').textContent === ''",
        arg=f"model {version.pk} ",
    )


def threshold_shown(page) -> float:
    return float(page.input_value("#threshold-number"))


def test_the_threshold_moves_the_confusion_matrix_and_a_manager_saves_it(page):
    team = factories.team()
    older, newer = two_versions(team)
    login(page, team.manager)
    page.goto(f"/collections/{team.collection.pk}/")
    # The gallery shows the active version's normalised score: raw 0.9 is 0.45 under threshold 1.0.
    at_09 = Prediction.objects.get(model_version=newer, score=0.9).image_id
    assert page.inner_text(f"li.tile[data-image-id='{at_09}'] .score-value") == "0.45"
    page.click("a:text('Models')")
    page.wait_for_url(f"**/collections/{team.collection.pk}/models/**")
    wait_for_version(page, newer)  # the active version by default

    assert threshold_shown(page) == 1.0
    assert page.inner_text("#threshold-score") == "a score at it shows as 0.50 (at or above 0.5; raw 1.000)"
    assert matrix(page) == expected(newer, 1.0) == {"tp": 3, "fn": 1, "fp": 0, "tn": 6}
    assert page.inner_text("#detail-counts").startswith("11 scored test images: 4 labeled defective")

    # An exact value in the number box; a score equal to it counts as flagged.
    page.fill("#threshold-number", "0.9")
    assert matrix(page) == expected(newer, 0.9) == {"tp": 4, "fn": 0, "fp": 1, "tn": 5}
    # The threshold tried, said as the gallery says that image's score.
    assert page.inner_text("#threshold-score") == "a score at it shows as 0.45 (below 0.5; raw 0.9000)"
    assert page.inner_text("[data-rate=precision]") == "80.0%"
    assert page.inner_text("[data-rate=fpr]") == "16.7%"

    # The slider, by keyboard: from the lowest score up, step by step; the matrix follows each step.
    page.focus("#threshold-range")
    page.keyboard.press("Home")
    assert matrix(page) == expected(newer, threshold_shown(page)) == {"tp": 4, "fn": 0, "fp": 6, "tn": 0}
    seen = set()
    for _ in range(12):
        for _ in range(25):
            page.keyboard.press("ArrowRight")
        threshold = threshold_shown(page)
        assert matrix(page) == expected(newer, threshold), threshold
        seen.add(tuple(matrix(page).values()))
    assert len(seen) > 4  # it went through many different matrices

    # Save the number box's threshold: a confirmation says what changes; cancelled, nothing does.
    page.fill("#threshold-number", "0.7")
    page.click("#threshold-save")
    dialog = page.locator("dialog.confirm-dialog")
    assert "Of its 11 scored test images, 6 are flagged defective at it (3 now)." in dialog.inner_text()
    screenshot(page, "models-confirm-threshold.png")
    dialog.get_by_role("button", name="Cancel").click()
    dialog.wait_for(state="detached")  # closed: it is gone from the page
    newer.refresh_from_db()
    assert newer.threshold == 1.0
    # Confirmed: every prediction is decided by it.
    page.click("#threshold-save")
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Save threshold").click()
    page.wait_for_function("() => document.querySelector('#models-status').textContent.includes('saved')")
    newer.refresh_from_db()
    assert (newer.threshold, newer.threshold_method, newer.threshold_set_by) == (0.7, "manual", team.manager)
    for score, flagged in Prediction.objects.filter(model_version=newer).values_list("score", "is_defective"):
        assert flagged == (score >= 0.7)
    assert page.inner_text(f"tr[data-version-id='{newer.pk}'] [data-field=threshold]") == "0.7000 (manual)"
    # Saved, it is the new 0.5 (it read 0.35 under the old threshold).
    assert page.inner_text("#threshold-score") == "a score at it shows as 0.50 (at or above 0.5; raw 0.7000)"
    assert page.is_disabled("#threshold-save")
    page.evaluate("document.querySelector('#model-detail').scrollIntoView()")
    screenshot(page, "models-page.png")

    # Compare: the parent is preselected; both scored the same labeled images, so it is computed.
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#compare-table tbody tr")
    note = page.inner_text("#compare-note")
    assert "Computed from both versions' scores on the 10 labeled test images" in note
    first = page.locator("#compare-table tbody tr").first
    assert first.locator("th").inner_text() == "Image AUROC"
    # Defective above normal in 21 and 23 of the 24 pairs.
    assert [cell.inner_text() for cell in first.locator("td").all()] == ["0.875", "0.958", "+0.083 ▲ better"]
    screenshot(page, "models-compare.png")

    # Promote the older version, confirmed: the page draws itself again with it in production,
    # without a reload (the marker below survives only in this page's document).
    page.click(f"button[data-show-version='{older.pk}']")
    wait_for_version(page, older)
    page.evaluate("window.notReloaded = true")
    page.click("#promote")
    dialog = page.locator("dialog.confirm-dialog")
    asked = dialog.inner_text()
    assert f"model {older.pk}" in asked and "No model is in production yet." in asked
    dialog.get_by_role("button", name="Promote").click()
    page.wait_for_function("() => document.querySelector('#promote').textContent === 'In production'")
    assert page.evaluate("window.notReloaded") is True
    assert f"In production: model {older.pk}" in page.inner_text("[data-field=production]")
    wait_for_version(page, older)
    older.refresh_from_db()
    assert older.promoted_by == team.manager
    assert page.errors == [] and page.dialogs == []


def test_viewers_see_no_controls_and_compare_stored_metrics(page):
    team = factories.team()
    older, newer = two_versions(team)
    # A third version scored only the team's unlabeled image: nothing to compute from.
    lone = scored_version(team.collection, {team.image: 0.5})
    lone.metrics = {"image_auroc": 0.7}
    lone.save(update_fields=["metrics"])
    login(page, team.viewer)
    open_models(page, team, lone)
    assert page.locator("#threshold-save").count() == 0 and page.locator("#promote").count() == 0
    assert page.locator("form.train-form").count() == 0

    # The keyboard picks a version from the table.
    page.focus(f"button[data-show-version='{older.pk}']")
    page.keyboard.press("Enter")
    wait_for_version(page, older)
    assert page.get_attribute(f"button[data-show-version='{older.pk}']", "aria-pressed") == "true"
    assert matrix(page) == expected(older, 1.0)
    page.fill("#threshold-number", "0.5")
    assert matrix(page) == expected(older, 0.5)

    page.select_option("#compare-a", str(lone.pk))
    page.select_option("#compare-b", str(newer.pk))
    page.click("#compare-form button[type=submit]")
    page.wait_for_selector("#compare-table tbody tr")
    assert "metrics stored at training" in page.inner_text("#compare-note")
    first = page.locator("#compare-table tbody tr").first
    assert first.locator("th").inner_text() == "Image AUROC (stored)"
    assert [cell.inner_text() for cell in first.locator("td").all()] == ["0.700", "0.900", "+0.200 ▲ better"]

    # On a laptop and on a 4K screen nothing is wider than the window (the versions table scrolls in
    # its own box) and the charts keep a readable size.
    for size in ({"width": 1366, "height": 768}, {"width": 3840, "height": 2160}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, size
        for chart in ("#roc-chart", "#histogram-chart", "#compare-chart"):
            box = page.locator(chart).bounding_box()
            assert box["width"] >= 250 and 200 <= box["height"] <= 300, (size, chart, box)
    assert page.errors == []
