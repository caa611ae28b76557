"""The review queue in Chromium: decisions by hotkey land in the database as labels, the threshold
redraws what is flagged, and two reviewers never hold the same image."""

import pytest

from annotations.geometry import mask_decode
from annotations.models import Annotation, RevisionReason, Verdict
from inference.models import Disagreement, Review
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_annotator import picture
from tests.frontend.helpers import add_image, label
from tests.inference.helpers import prediction_add, scored_version

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = "#review"


@pytest.fixture
def queue(db):
    """Three 320×240 images scored 0.9, 1.1 and 1.9 against a threshold of 1.0, in that queue order."""
    team = factories.team("Review")
    images = [
        add_image(team.collection, f"plate-{seed}.png", seed=seed, content=picture(320, 240, seed=seed))
        for seed in (1, 2, 3)
    ]
    version = scored_version(team.collection, dict(zip(images, [0.9, 1.1, 1.9], strict=True)))
    return team, version, images


def current(page) -> int:
    page.wait_for_selector(f"{ROOT}[data-state='ready']")
    return int(page.locator(ROOT).get_attribute("data-image-id"))


def decide(page, key: str, before: int) -> None:
    """Press a decision key and wait for the next item (or the end of the queue)."""
    page.keyboard.press(key)
    page.wait_for_function(
        "before => { const r = document.querySelector('#review'); return r.dataset.state === 'empty'"
        " || (r.dataset.state === 'ready' && r.dataset.imageId != before); }",
        arg=str(before),
    )


def to_page(page, x: float, y: float) -> tuple[float, float]:
    stage = page.locator(".review-stage").last
    box = stage.bounding_box()
    view = stage.evaluate("e => ({s: +e.dataset.scale, x: +e.dataset.x, y: +e.dataset.y})")
    return box["x"] + view["x"] + x * view["s"], box["y"] + view["y"] + y * view["s"]


def score_shown(page) -> str:
    return page.locator(".review-info dt:text-is('Score') + dd").inner_text()


def test_hotkeys_walk_the_queue_and_write_labels(page, queue):
    team, version, images = queue
    # An image an annotator labeled defective: outside the default queue, served with "all".
    labeled = add_image(team.collection, "plate-labeled.png", seed=4, content=picture(320, 240, seed=4))
    label(labeled, author=team.annotator, verdict="defective")
    prediction_add(version, labeled, score=0.2)
    login(page, team.reviewer)
    page.goto(f"/collections/{team.collection.pk}/review/")
    assert page.inner_text(".queue-scope") == (
        "Serving images with no human label, outside the train split (3) · "
        "include labeled and training images (4)"
    )

    # 1. The most uncertain image first; "2" (false positive) makes it normal.
    first = current(page)
    assert first == images[0].pk
    # Its score as every page says it: normalised (raw 0.9 under threshold 1.0), the raw one beside.
    assert score_shown(page) == "0.45 (below 0.5; raw 0.9000)"
    screenshot(page, "review-scope.png")
    page.fill("textarea[aria-label=Comment]", "glare <script>alert(1)</script>")
    page.keyboard.press("Escape")
    page.locator(".review-stage").last.focus()
    decide(page, "2", first)
    annotation = Annotation.objects.get(image=images[0])
    assert annotation.verdict == Verdict.NORMAL
    revision = annotation.revisions.get(version=annotation.version)
    assert revision.reason == RevisionReason.REVIEW and revision.author == team.reviewer

    # 2. A missed defect, with a box drawn where it is.
    second = current(page)
    assert second == images[1].pk
    page.keyboard.press("b")
    page.mouse.move(*to_page(page, 40, 30))
    page.mouse.down()
    page.mouse.move(*to_page(page, 120, 90), steps=8)
    page.mouse.up()
    decide(page, "3", second)
    annotation = Annotation.objects.get(image=images[1])
    assert annotation.verdict == Verdict.DEFECTIVE
    (box,) = annotation.regions.all()
    assert box.kind == "box" and box.precision == "rough"
    assert abs(box.geometry["x"] - 40) < 3 and abs(box.geometry["width"] - 80) < 3

    # 3. The threshold: raising it flags fewer pixels; a true defect saves what is flagged as a mask.
    third = current(page)
    assert score_shown(page) == "0.95 (at or above 0.5; raw 1.900)"
    page.locator(".review-stage").last.focus()
    page.keyboard.press("b")  # back to looking
    flagged = int(page.locator(ROOT).get_attribute("data-flagged"))
    page.keyboard.press("Shift+ArrowRight")
    raised = int(page.locator(ROOT).get_attribute("data-flagged"))
    assert 0 < raised < flagged
    page.keyboard.press("v")
    page.wait_for_selector(".review-panes.side-by-side")
    page.wait_for_function("() => document.querySelectorAll('.review-stage').length === 2")
    screenshot(page, "review-queue.png")
    decide(page, "1", third)
    annotation = Annotation.objects.get(image=images[2])
    assert annotation.verdict == Verdict.DEFECTIVE
    (mask,) = annotation.regions.all()
    assert mask.kind == "mask" and mask.precision == "rough"
    assert int(mask_decode(mask.geometry).sum()) == raised

    page.wait_for_selector(f"{ROOT}[data-state='empty']")
    assert [r.decision for r in Review.objects.order_by("id")] == [
        "false_positive",
        "missed_defect",
        "true_defect",
    ]
    page.wait_for_function("() => document.querySelectorAll('.review-recent li').length === 3")
    assert "<script>" in page.locator(".review-recent").inner_text()  # the comment shows as text

    # 4. With labeled images included, the labeled one: "normal" against its label is a disagreement,
    # listed on the review page and shown on the image's page with its score and heatmap.
    page.click(".queue-scope a")
    assert current(page) == labeled.pk
    assert page.inner_text(".queue-scope").startswith("Serving every undecided image (1)")
    assert score_shown(page) == "0.10 (below 0.5; raw 0.2000)"
    page.locator(".review-stage").last.focus()
    decide(page, "2", labeled.pk)
    assert Disagreement.objects.filter(review__prediction__image=labeled).count() == 1
    assert Annotation.objects.get(image=labeled).verdict == Verdict.DEFECTIVE  # the label stays
    page.reload()
    with page.expect_navigation():
        page.locator(".queue-disagreements a", has_text="plate-labeled.png").click()
    assert page.inner_text(".model-panel .score-value") == "0.10"
    assert page.inner_text(".model-panel .score-raw") == "raw 0.2000"
    assert "the label (v1) says defective" in page.inner_text(".disagreements").replace("\n", " ")
    page.click("label[for=show-heatmap]")
    page.wait_for_function("() => document.querySelector('img.heatmap-layer').naturalWidth > 0")
    assert page.locator("img.heatmap-layer").is_visible()
    screenshot(page, "image-page.png")
    assert not page.dialogs and not page.errors


def test_two_reviewers_hold_different_images(browser, live_server, queue):
    team, version, images = queue
    pages = []
    for user in (team.reviewer, team.manager):
        context = browser.new_context(base_url=live_server.url)
        page = context.new_page()
        login(page, user)
        page.goto(f"/collections/{team.collection.pk}/review/")
        pages.append(page)

    held = {current(page) for page in pages}

    assert held == {images[0].pk, images[1].pk}
    for page in pages:
        page.context.close()


def test_a_viewer_can_look_but_not_decide(page, queue):
    team, version, images = queue
    login(page, team.viewer)

    page.goto(f"/collections/{team.collection.pk}/review/")

    assert "deciding takes the reviewer" in page.inner_text("main")
    assert page.locator("button.decision").first.is_disabled()


def test_the_queue_fits_a_laptop_and_a_4k_screen(page, queue):
    team, version, images = queue
    login(page, team.reviewer)
    page.goto(f"/collections/{team.collection.pk}/review/")
    current(page)

    for size in ({"width": 1366, "height": 768}, {"width": 3840, "height": 2160}):
        page.set_viewport_size(size)
        assert page.evaluate("document.documentElement.scrollWidth - window.innerWidth") <= 0, size
        stage = page.locator(".review-stage").last.bounding_box()
        side = page.locator(".review-side").bounding_box()
        assert stage["width"] >= size["width"] / 2 and stage["height"] >= size["height"] / 2, (size, stage)
        assert side["x"] >= stage["x"] + stage["width"], (size, side)  # beside the image, not over it
        for button in page.locator("button.decision").all():
            assert button.is_visible()
    assert page.errors == []
