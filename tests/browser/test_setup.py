"""A team's first day in Chromium, from an empty database: log in, create a project, a collection and
two defect types, and add a teammate as reviewer — every step in the pages, nothing through the API."""

import pytest

from annotations.models import Collection, DefectType, Membership, Project, Role
from tests import factories
from tests.browser.conftest import login, screenshot

pytestmark = pytest.mark.django_db(transaction=True)


def test_a_project_is_set_up_from_the_browser_alone(page):
    assert not Project.objects.exists()
    engineer = factories.UserFactory(username="quality-engineer")
    factories.UserFactory(username="teammate", email="teammate@example.com")
    login(page, engineer)

    # A project, from the projects page.
    page.fill("input[name=name]", "Gearbox housings")
    page.fill("textarea[name=description]", "Line 4, end of line camera")
    with page.expect_navigation():
        page.get_by_role("button", name="Create project").click()
    assert "you are its manager" in page.locator(".message-success").inner_text()
    assert "create the first one below" in page.locator(".empty").inner_text()

    # A collection, from the project page's empty state.
    page.fill("#new-collection input[name=name]", "Housing top")
    with page.expect_navigation():
        page.get_by_role("button", name="Create collection").click()
    collection = Collection.objects.get(name="Housing top")
    assert page.url.endswith(f"/collections/{collection.pk}/settings/")

    # Two defect types, one with its own colour and key, one with the next ones.
    form = page.locator("form.new-type")
    form.locator("input[name=new-name]").fill("scratch")
    form.locator("input[name=new-color]").fill("#2a7de1")
    form.locator("input[name=new-hotkey]").fill("k")
    with page.expect_navigation():
        form.get_by_role("button", name="Add defect type").click()
    form = page.locator("form.new-type")
    form.locator("input[name=new-name]").fill("dent")
    with page.expect_navigation():
        form.get_by_role("button", name="Add defect type").click()
    assert page.locator("table.defect-types tbody tr").count() == 2
    made = {d.name: (d.color, d.hotkey) for d in DefectType.objects.filter(collection=collection)}
    assert made["scratch"] == ("#2a7de1", "k") and made["dent"][1] == "1"
    # A key the annotator keeps for itself is refused where it was typed.
    form = page.locator("form.new-type")
    form.locator("input[name=new-name]").fill("crack")
    form.locator("input[name=new-hotkey]").fill("b")
    with page.expect_navigation():
        form.get_by_role("button", name="Add defect type").click()
    assert "annotator's own keys" in page.locator(".field-error").inner_text()
    assert not DefectType.objects.filter(name="crack").exists()
    assert (
        page.locator("table.defect-types tbody tr").first.locator("input[name$=-name]").input_value()
        == "dent"
    )
    screenshot(page, "setup-collection.png")

    # A teammate as reviewer, by e-mail, on the project page.
    page.get_by_role("link", name="Gearbox housings").click()
    page.fill("#members input[name=user]", "teammate@example.com")
    page.select_option("#members select[name=role]", "reviewer")
    with page.expect_navigation():
        page.get_by_role("button", name="Add member").click()
    assert "teammate added as Reviewer" in page.locator(".message-success").inner_text()
    assert Membership.objects.get(user__username="teammate").role == Role.REVIEWER
    assert page.locator("[data-member=teammate]").is_visible()
    assert page.locator(f"tr[data-collection='{collection.pk}']").inner_text().count("scratch") == 1
    page.evaluate("window.scrollTo(0, 0)")
    screenshot(page, "setup-project.png")
    assert page.errors == [], page.errors
