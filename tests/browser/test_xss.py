"""Names people type are shown as text on every page, in Django templates and in the TypeScript alike:
markup in them never runs."""

import pytest

from annotations.models import Annotation, Collection, Membership, Role
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_create, project_create
from inference.services.reviews import review_submit
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_annotator import picture
from tests.frontend.helpers import add_image, label
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db(transaction=True)

FLAG = "window.__xss = (window.__xss || 0) + 1"
PROJECT = f'<script>{FLAG}; alert("project")</script><img src=x onerror="{FLAG}">'
DEFECT = f"<img src=x onerror='{FLAG}'><script>alert(1)</script>"
IMAGE = f'<svg onload="{FLAG}">"><script>{FLAG}</script>.png'
COMMENT = f"<b onmouseover='{FLAG}'>looks fine</b><script>{FLAG}</script>"


def assert_inert(page, *texts: str) -> None:
    """No script of ours ran, nothing asked for a dialog, and each text is on the page, literally."""
    page.wait_for_load_state("load")
    assert page.evaluate("window.__xss") is None, page.url
    assert page.dialogs == [], page.dialogs
    body = page.locator("body").inner_text()
    for text in texts:
        assert text in body, f"{text!r} is not shown as text on {page.url}"


def test_names_with_markup_stay_text(page):
    user = factories.UserFactory(username="mallory-neighbour")
    project = project_create(name=PROJECT, created_by=user)
    Membership.objects.filter(project=project, user=user).update(role=Role.MANAGER)
    collection = Collection.objects.create(project=project, name="tiles")
    defect = defect_type_create(collection=collection, name=DEFECT)
    image = add_image(collection, IMAGE, seed=0, content=picture(seed=5))
    label(
        image,
        author=user,
        verdict="defective",
        regions=[
            RegionInput(
                kind="box",
                geometry={"x": 40.0, "y": 40.0, "width": 80.0, "height": 60.0},
                defect_type_id=defect.pk,
            )
        ],
    )
    login(page, user)
    assert_inert(page, PROJECT)
    page.goto(f"/projects/{project.pk}/")
    assert_inert(page, PROJECT, DEFECT)
    page.goto(f"/collections/{collection.pk}/")
    assert_inert(page, PROJECT, DEFECT, IMAGE)
    page.goto(f"/images/{image.pk}/")
    assert_inert(page, PROJECT, DEFECT, IMAGE)

    page.goto(f"/images/{image.pk}/annotate/")
    page.wait_for_selector("#annotator[data-save-state='saved']")
    assert_inert(page, PROJECT, IMAGE)
    # Built by the TypeScript: the picker, the region list and the shortcut sheet.
    assert page.locator(".type-picker .type-name").first.inner_text() == DEFECT
    assert page.locator(".region-item .region-type").inner_text() == DEFECT
    page.keyboard.press("?")
    assert DEFECT in page.locator("dialog.shortcut-sheet").inner_text()
    page.keyboard.press("Escape")
    screenshot(page, "annotator-hostile-names.png")
    assert page.evaluate("window.__xss") is None

    # The review queue's recent decisions and the models page, built by the TypeScript too.
    version = scored_version(collection, {image: 1.5})
    review_submit(
        prediction=version.predictions.get(),
        reviewer=user,
        decision="false_positive",
        comment=COMMENT,
        expected_version=Annotation.objects.get(image=image).version,
    )
    page.goto(f"/collections/{collection.pk}/review/")
    page.wait_for_selector("#review[data-state='empty']")
    page.wait_for_function("() => document.querySelectorAll('.review-recent li q').length === 1")
    assert_inert(page, PROJECT, COMMENT, IMAGE)
    page.goto(f"/collections/{collection.pk}/models/")
    assert_inert(page, PROJECT)
    page.goto(f"/images/{image.pk}/")
    assert_inert(page, COMMENT)
    assert page.dialogs == []
    assert page.errors == [], page.errors
