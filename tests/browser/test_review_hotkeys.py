"""The review queue's keys in Chromium: a missed defect's box carries the defect type picked (Shift and
the type's key), false-positive reasons go by key one image after another, and the queue's keys keep
working after a control was clicked; typing in the comment box still types."""

import pytest

from annotations.models import Annotation, Verdict
from annotations.services.projects import defect_type_get_or_create
from inference.models import Review
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_annotator import picture
from tests.browser.test_review import ROOT, current, decide, to_page
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def queue(db):
    """Four 320×240 images in a queue; the collection's defect types are scratch (key 1) and dent (2)."""
    team = factories.team("Hotkeys")
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    images = [
        add_image(team.collection, f"part-{seed}.png", seed=seed, content=picture(320, 240, seed=seed))
        for seed in (1, 2, 3, 4)
    ]
    version = scored_version(team.collection, dict(zip(images, [0.9, 1.1, 1.3, 1.9], strict=True)))
    return team, dent, version


def pressed(page, selector: str) -> list[str]:
    return page.locator(f"{selector}[aria-pressed='true']").all_inner_texts()


def test_a_missed_defect_box_carries_the_defect_type_picked(page, queue):
    team, dent, version = queue
    login(page, team.reviewer)
    page.goto(f"/collections/{team.collection.pk}/review/")
    image_id = current(page)

    # The picker lists the types with their keys (Shift and the annotator's key; the digits decide).
    assert page.locator(".type-button").all_inner_texts() == ["dent\n⇧2", "scratch\n⇧1", "No defect type"]
    assert pressed(page, ".type-button") == ["dent\n⇧2"]
    page.keyboard.press("Shift+1")
    assert pressed(page, ".type-button") == ["scratch\n⇧1"]
    assert page.locator(ROOT).get_attribute("data-image-id") == str(image_id)  # no decision was taken
    page.keyboard.press("Shift+2")
    assert pressed(page, ".type-button") == ["dent\n⇧2"]

    page.keyboard.press("b")
    page.mouse.move(*to_page(page, 40, 30))
    page.mouse.down()
    page.mouse.move(*to_page(page, 120, 90), steps=8)
    page.mouse.up()
    assert page.locator(".review-side").inner_text().count("1 box drawn") == 1
    screenshot(page, "review-missed.png")
    decide(page, "3", image_id)

    annotation = Annotation.objects.get(image_id=image_id)
    assert annotation.verdict == Verdict.DEFECTIVE
    (box,) = annotation.regions.all()
    assert (box.kind, box.precision, box.defect_type_id) == ("box", "rough", dent.pk)
    assert abs(box.geometry["x"] - 40) < 3 and abs(box.geometry["width"] - 80) < 3, box.geometry
    # The type picked stays for the next image (a run of like defects).
    current(page)
    assert pressed(page, ".type-button") == ["dent\n⇧2"]
    assert page.errors == []


def test_reasons_by_key_across_images_and_keys_that_keep_working(page, queue):
    team, dent, version = queue
    login(page, team.reviewer)
    page.goto(f"/collections/{team.collection.pk}/review/")
    keys = [text.split("\n")[-1] for text in page.locator(".reason-button").all_inner_texts()]
    assert keys == ["q", "w", "e", "r"]

    # 1. A reason picked with the mouse: the decision's key still works.
    first = current(page)
    page.click(".reason-button[data-reason='dust']")
    assert pressed(page, ".reason-button") == ["Dust on the lens\nw"]
    decide(page, "2", first)

    # 2. The next image starts with no reason; its key picks one, pressing it again drops it.
    second = current(page)
    assert pressed(page, ".reason-button") == []
    page.keyboard.press("e")
    page.keyboard.press("e")
    assert pressed(page, ".reason-button") == []
    page.keyboard.press("e")
    decide(page, "f", second)

    # 3. Another reason by key; the comment box types what is typed, even a reason's key.
    third = current(page)
    page.keyboard.press("w")
    page.keyboard.press("q")
    assert pressed(page, ".reason-button") == ["Acceptable cosmetic variation\nq"]
    page.keyboard.press("c")
    page.keyboard.type("we saw it")
    assert page.locator("textarea[aria-label=Comment]").input_value() == "we saw it"
    assert pressed(page, ".reason-button") == ["Acceptable cosmetic variation\nq"]
    page.keyboard.press("Enter")  # back to the queue's keys
    decide(page, "2", third)

    # 4. A slider clicked a moment ago does not keep the keys either.
    fourth = current(page)
    page.click("input[aria-label='Heatmap opacity']")
    page.keyboard.press("r")
    assert pressed(page, ".reason-button") == ["Ground truth was wrong\nr"]
    decide(page, "2", fourth)

    page.wait_for_selector(f"{ROOT}[data-state='empty']")
    reviews = Review.objects.order_by("id")
    assert [(r.prediction.image_id, r.decision, r.reason, r.comment) for r in reviews] == [
        (first, "false_positive", "dust", ""),
        (second, "false_positive", "lighting", ""),
        (third, "false_positive", "cosmetic", "we saw it"),
        (fourth, "false_positive", "label_wrong", ""),
    ]
    assert Annotation.objects.get(image_id=third).verdict == Verdict.NORMAL
    # The recent decisions name each reason.
    page.wait_for_function("() => document.querySelectorAll('.review-recent li').length === 4")
    recent = page.locator(".review-recent").inner_text()
    assert "false positive (dust on the lens)" in recent and "(ground truth was wrong)" in recent
    assert not page.dialogs and not page.errors
