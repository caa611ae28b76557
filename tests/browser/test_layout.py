"""Every page fits a 1366 × 768 laptop and a 4K screen: nothing wider than the window."""

import pytest

from tests import factories
from tests.browser.conftest import login
from tests.browser.test_annotator import picture
from tests.frontend.helpers import add_image
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db(transaction=True)

SIZES = ({"width": 1366, "height": 768}, {"width": 3840, "height": 2160})


def test_no_page_is_wider_than_the_window(page):
    team = factories.team("Layout")
    images = [
        add_image(team.collection, f"wide-name-{'x' * 60}-{seed}.png", seed=seed, content=picture(seed=seed))
        for seed in range(1, 4)
    ]
    scored_version(team.collection, dict(zip(images, [0.4, 1.2, 1.8], strict=True)))
    login(page, team.manager)
    pages = [
        "/",
        f"/projects/{team.project.pk}/",
        f"/collections/{team.collection.pk}/",
        f"/images/{images[0].pk}/",
        f"/images/{images[0].pk}/annotate/",
        f"/collections/{team.collection.pk}/review/",
        f"/collections/{team.collection.pk}/models/",
    ]
    for size in SIZES:
        page.set_viewport_size(size)
        for url in pages:
            page.goto(url)
            page.wait_for_load_state("networkidle")
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            assert overflow <= 0, (size, url, overflow)
    assert page.errors == [], page.errors
