"""The collection grid in Chromium: scores and review badges on the tiles, a Shift-click range of tiles,
and the action bar's bulk verdict and split changes."""

import pytest

from annotations.models import Annotation, AnnotationRevision, Image
from inference.models import Prediction
from inference.services.reviews import review_submit
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.inference.helpers import scored_version, synthetic_collection_fill

pytestmark = pytest.mark.django_db(transaction=True)


def box(page, image: Image):
    return page.locator(f".tile[data-image-id='{image.pk}'] .tile-select")


def selected_count(page) -> str:
    return page.locator("[data-selected-count]").inner_text()


def test_select_a_range_then_set_the_verdict_and_the_split(page):
    team = factories.team()
    made = synthetic_collection_fill(team.collection, train=6, test_normal=2, test_defective=2, size=96)
    images = [*made["train"], *made["test_normal"], *made["test_defective"]]
    # Raw scores 0 to 2: normalized, half of that; the defects score above the threshold.
    raw = [0.3, 0.6, 1.3, 0.2, 0.9, 1.1, 0.4, 0.7, 1.8, 1.5]
    scored_version(team.collection, dict(zip(images, raw, strict=True)), test=False)
    for image, decision in ((images[8], "true_defect"), (images[2], "false_positive")):
        review_submit(
            prediction=Prediction.objects.get(image=image),
            reviewer=team.reviewer,
            decision=decision,
            expected_version=Annotation.objects.get(image=image).version,
        )
    login(page, team.annotator)
    page.goto(f"/collections/{team.collection.pk}/")
    assert page.locator(".score-value").count() == 10
    assert page.locator(".review-true_defect").count() == 1
    bar = page.locator(".action-bar")
    assert not bar.is_visible()

    # The first four training images: a click, then a Shift-click.
    box(page, images[0]).click()
    box(page, images[3]).click(modifiers=["Shift"])
    assert selected_count(page) == "4"
    assert bar.is_visible()
    assert page.locator(".tile.selected").count() == 4
    with page.expect_navigation():
        bar.get_by_role("button", name="Defective").click()
    assert page.locator(".message-success").inner_text() == "4 images set to Defective."
    assert not bar.is_visible()

    targets = images[:4]
    for image in targets:
        annotation = Annotation.objects.get(image=image)
        assert (annotation.verdict, annotation.updated_by) == ("defective", team.annotator)
    assert AnnotationRevision.objects.filter(comment="bulk change").count() == 4

    # The same range from the other end, and one already in test: moved to test.
    box(page, images[3]).click()
    box(page, images[0]).click(modifiers=["Shift"])
    box(page, images[6]).click()
    assert selected_count(page) == "5"
    screenshot(page, "gallery.png")
    with page.expect_navigation():
        bar.get_by_role("button", name="Test").click()
    assert page.locator(".message-success").inner_text() == "4 images moved to Test; 1 image already was."
    moved = Image.objects.filter(pk__in=[image.pk for image in targets + [images[6]]])
    assert set(moved.values_list("split", flat=True)) == {"test"}

    # Select all on the page, then Esc clears.
    page.locator("[data-select-all]").check()
    assert selected_count(page) == "11"
    page.keyboard.press("Escape")
    assert not bar.is_visible()
    assert page.locator(".tile-select:checked").count() == 0
    assert page.errors == []
