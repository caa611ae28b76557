"""Browser tests: the pages and the annotation canvas in a real Chromium (Debian's, driven by Playwright's
sync API) against pytest-django's live server.

They are skipped, with the reason, where Chromium or the built front end is missing (a laptop without
them still runs the rest of the suite); CI installs Chromium, builds the front end and sets
LOUPE_REQUIRE_BROWSER=1, which turns those skips into failures.
"""

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.factories import PASSWORD

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("LOUPE_CHROMIUM", "/usr/bin/chromium"))
BUNDLE = REPO / "frontend" / "static" / "frontend" / "dist" / "annotator.js"
OUTPUT = REPO / "tests" / "output"
VIEWPORT = {"width": 1366, "height": 768}


def _missing() -> str | None:
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    if not CHROMIUM.exists():
        return f"no Chromium at {CHROMIUM} (apt-get install chromium, or set LOUPE_CHROMIUM)"
    if not BUNDLE.exists():
        return f"the front end is not built ({BUNDLE.relative_to(REPO)}): run make install"
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """Chromium for one test module. Per module, not per session: while Playwright's sync API runs its
    event loop in this thread, Django needs DJANGO_ALLOW_ASYNC_UNSAFE for the ORM calls the tests make
    between browser steps, and that variable must not leak into the rest of the suite (subprocesses
    such as `check --deploy` refuse it)."""
    reason = _missing()
    if reason:
        if os.environ.get("LOUPE_REQUIRE_BROWSER"):
            pytest.fail(f"browser tests must run here (LOUPE_REQUIRE_BROWSER is set) but {reason}")
        pytest.skip(reason)
    from django.urls import get_resolver
    from playwright.sync_api import sync_playwright

    # Loaded now, not inside the first page load's timeout (importing every view takes seconds).
    get_resolver().url_patterns  # noqa: B018
    before = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM),
                headless=True,
                args=["--no-sandbox", "--disable-gpu", "--disable-background-networking"],
            )
            yield browser
            browser.close()
    finally:
        if before is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = before


class PageErrors(list):
    """Uncaught errors and console errors of a page, and any dialog it tried to open."""


@pytest.fixture
def page(browser, live_server) -> Iterator:
    context = browser.new_context(viewport=VIEWPORT, base_url=live_server.url)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = PageErrors()
    page.dialogs = []
    page.on("pageerror", lambda error: page.errors.append(f"page error: {error}"))

    def on_console(message) -> None:
        # Browsers ask for /favicon.ico on their own; Loupe has none.
        if message.type == "error" and not message.location.get("url", "").endswith("/favicon.ico"):
            page.errors.append(f"console: {message.text} ({message.location.get('url')})")

    page.on("console", on_console)

    def on_dialog(dialog) -> None:
        page.dialogs.append(f"{dialog.type}: {dialog.message}")
        dialog.dismiss()

    page.on("dialog", on_dialog)
    yield page
    context.close()


def login(page, user) -> None:
    """Log in through the login page, as a person would."""
    page.goto("/login/")
    page.fill("input[name=username]", user.username)
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/")


def screenshot(page, name: str) -> Path:
    OUTPUT.mkdir(parents=True, exist_ok=True)
    path = OUTPUT / name
    page.screenshot(path=str(path))
    return path
