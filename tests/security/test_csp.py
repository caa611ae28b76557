"""The Content-Security-Policy: scripts only from Loupe's own files, nothing framed, no plugins.

Every template is read for what the policy would block — an inline script that runs, an inline event
handler, a javascript: URL — so a new one fails here before it fails in a browser; the page tests in
tests/browser record any violation the browser reports as a console error, and the API docs (Swagger
UI) and Django's admin, which no page test opens, are loaded here in Chromium.
"""

import re
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests import factories
from tests.browser.conftest import browser, login, page  # noqa: F401 (fixtures)

pytestmark = pytest.mark.django_db

TEMPLATES = Path(__file__).resolve().parents[2] / "frontend" / "templates"
DATA_TYPES = {"application/json", "application/ld+json", "text/template"}


class _Blocked(HTMLParser):
    """What in a template the policy would refuse to run."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        named = dict(attrs)
        if tag == "script" and not named.get("src") and (named.get("type") or "") not in DATA_TYPES:
            self.found.append(f"inline <script> at line {self.getpos()[0]}")
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(f"event handler {name}= on <{tag}> at line {self.getpos()[0]}")
            if value and value.strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: URL in {name}= at line {self.getpos()[0]}")


def _blocked(source: str) -> list[str]:
    parser = _Blocked()
    # Template tags are not HTML: `{% … %}` and `{{ … }}` become spaces, so attributes still parse.
    parser.feed(re.sub(r"\{[%{#].*?[%}#]\}", " ", source, flags=re.DOTALL))
    return parser.found


def test_the_checker_finds_what_the_policy_blocks():
    assert _blocked('<script>alert(1)</script><button onclick="go()">') == [
        "inline <script> at line 1",
        "event handler onclick= on <button> at line 1",
    ]
    assert _blocked('<a href="javascript:void(0)">') == ["javascript: URL in href= at line 1"]
    assert _blocked('<script id="d" type="application/json">{"a": 1}</script><script src="/s.js">') == []


def test_no_template_has_an_inline_script_or_handler():
    templates = sorted(TEMPLATES.rglob("*.html"))
    assert len(templates) > 10
    found = {str(t.relative_to(TEMPLATES)): _blocked(t.read_text()) for t in templates}

    assert {name: blocked for name, blocked in found.items() if blocked} == {}


def _policy(response) -> dict[str, set[str]]:
    header = response["Content-Security-Policy"]
    return {part.split()[0]: set(part.split()[1:]) for part in header.split(";") if part.strip()}


def test_pages_and_the_docs_carry_the_policy(team, client):
    anonymous = _policy(client.get("/login/"))
    client.force_login(team.viewer)

    for policy in (anonymous, _policy(client.get("/")), _policy(client.get("/api/docs/"))):
        assert policy["default-src"] == {"'self'"}
        assert policy["script-src"] == {"'self'"}  # no 'unsafe-inline', no 'unsafe-eval'
        assert policy["object-src"] == {"'none'"}
        assert policy["frame-ancestors"] == {"'none'"}
        assert policy["base-uri"] == {"'self'"}
        # Inline style attributes only (style="--swatch: …"): no scripts ride on them.
        assert policy["style-src"] == {"'self'", "'unsafe-inline'"}


@pytest.mark.django_db(transaction=True)  # the live server's thread sees the rows
def test_the_api_docs_run_under_the_policy(page):  # noqa: F811 (the fixture)
    page.set_default_timeout(30_000)  # Swagger UI's bundle is large; CI's machine is small
    login(page, factories.team().viewer)
    page.goto("/api/docs/")
    page.wait_for_selector(".swagger-ui .opblock-tag", timeout=20_000)

    assert page.locator(".swagger-ui .opblock").count() > 30
    assert page.errors == []


@pytest.mark.django_db(transaction=True)
def test_the_admin_runs_under_the_policy(page):  # noqa: F811 (the fixture)
    """Django's admin, opened as an administrator would: its pages carry the policy, and its own
    scripts (the changelist's select-all, the change form's) run without a violation."""
    team = factories.team()
    admin_user = factories.UserFactory(username="root", is_staff=True, is_superuser=True)
    page.goto("/admin/login/")
    page.fill("input[name=username]", admin_user.username)
    page.fill("input[name=password]", factories.PASSWORD)
    page.click("input[type=submit]")
    page.wait_for_selector("#site-name")

    for model in ("project", "collection", "image", "annotation", "annotationrevision"):
        answer = page.goto(f"/admin/annotations/{model}/")
        assert answer.status == 200 and "script-src 'self'" in answer.headers["content-security-policy"]
    page.goto("/admin/annotations/image/")
    page.check("#action-toggle")  # actions.js: ticks every row and counts them
    assert page.locator("input.action-select:checked").count() == 1
    page.wait_for_selector(".action-counter:has-text('1 of 1 selected')")
    page.goto(f"/admin/annotations/collection/{team.collection.pk}/change/")
    assert page.locator("input[name=name]").input_value() == team.collection.name

    assert page.errors == []
