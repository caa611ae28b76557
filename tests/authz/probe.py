"""Sending the matrix's requests and judging their answers: what the caller learned (team A's strings
and ids in JSON or HTML), whether it matches the answer to ids nobody ever used, and whether anything
in the database or the media folder changed. Each request runs in a savepoint that is rolled back, so
a wrongly accepted write is reported once and leaves nothing for the next request to trip on."""

import json
import re
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection, transaction
from django.http import HttpResponse
from django.test import override_settings
from rest_framework.test import APIClient

from tests.authz.routes import Operation
from tests.authz.table import PNG
from tests.authz.world import ID_KINDS, Side
from tests.conftest import png_bytes

# What a request could change: the apps' own tables, the accounts and their API tokens (not Django's
# permission and content-type tables, which no request writes).
CHECKED_APPS = ("annotations", "inference", "line")
CHECKED_MODELS = ("auth.User", "authtoken.Token")
_PLACEHOLDER = re.compile(r"\{(\w+)\}")
_TEXT_TYPES = ("json", "html", "text", "xml", "javascript")
# A JSON key, and the kind of object its number names (`parent` is a model version).
KEY_KINDS = {kind: kind for kind in ID_KINDS} | {
    "parent": "model_version",
    "user": "user",
    "label_export_job": "job",
}


def fill(template: Any, names: dict[str, Any], keys: dict[str, Any] | None = None) -> Any:
    """The template with its placeholders put in: a whole-string placeholder keeps the value's type.
    Dictionary keys are filled from `keys`: a form field named after the object in the path
    (`member-{membership}-role`) names what the path names."""
    if isinstance(template, dict):
        return {fill(k, keys or names): fill(v, names, keys) for k, v in template.items()}
    if isinstance(template, list):
        return [fill(value, names, keys) for value in template]
    if template == PNG:
        return SimpleUploadedFile("intruder.png", png_bytes(seed=99), content_type="image/png")
    if isinstance(template, str):
        whole = _PLACEHOLDER.fullmatch(template)
        if whole:
            return names[whole[1]]
        return _PLACEHOLDER.sub(lambda match: str(names[match[1]]), template)
    return template


def placeholders(template: Any, *, keys: bool = True) -> set[str]:
    """The placeholders of a template (`keys=False`: of its values only)."""
    if isinstance(template, dict):
        return set().union(
            *((placeholders(k) if keys else set()) | placeholders(v, keys=keys) for k, v in template.items())
        )
    if isinstance(template, list):
        return set().union(*(placeholders(value, keys=keys) for value in template))
    return set(_PLACEHOLDER.findall(template)) if isinstance(template, str) else set()


@dataclass
class Answer:
    status: int
    text: str
    content_type: str
    location: str
    exception: str

    @property
    def json(self) -> Any:
        if "json" not in self.content_type:
            return None
        try:
            return json.loads(self.text)
        except ValueError:
            return None


def _answer(response: HttpResponse) -> Answer:
    # Read to the end, which closes a streamed file; never response.close(), which outside the test
    # client would fire request_finished and close the test's database connection.
    content = b"".join(response.streaming_content) if response.streaming else response.content
    content_type = response.get("Content-Type", "")
    text = content.decode(errors="replace") if any(t in content_type for t in _TEXT_TYPES) else ""
    exc_info = getattr(response, "exc_info", None)
    return Answer(
        status=response.status_code,
        text=text,
        content_type=content_type,
        location=response.get("Location", ""),
        exception=repr(exc_info[1]) if exc_info else "",
    )


def _rows() -> dict[str, list[tuple]]:
    """Every row of every table a request could change (sessions aside: logging in writes them), in
    plain SQL: the ORM's compiling would cost more than the requests do."""
    quote = connection.ops.quote_name
    tables = sorted(
        {
            model._meta.db_table
            for model in apps.get_models(include_auto_created=True)
            if model._meta.app_label in CHECKED_APPS or model._meta.label in CHECKED_MODELS
        }
    )
    with connection.cursor() as cursor:
        rows = {}
        for table in tables:
            cursor.execute(f"SELECT * FROM {quote(table)} ORDER BY 1")  # our own tables' names
            rows[table] = cursor.fetchall()
    return rows


def _files(root: Path) -> set[str]:
    return (
        {str(path.relative_to(root)) for path in root.rglob("*") if path.is_file()}
        if root.exists()
        else set()
    )


@dataclass
class Reply:
    label: str
    answer: Answer
    used: list[tuple[str, Any]]
    """(placeholder, value) of what the request was filled with."""

    @property
    def status(self) -> int:
        return self.answer.status


@dataclass
class Matrix:
    """The requests of one test, the defects they found, and what the database held before."""

    target: Side
    media_root: Path
    failures: list[str] = field(default_factory=list)
    requests: int = 0

    def __post_init__(self) -> None:
        self.clients: dict[Any, APIClient] = {}
        self.rows = _rows()
        self.files = _files(self.media_root)

    def client(self, user: Any = None, *, station_key: str | None = None, fresh: bool = False) -> APIClient:
        """A client signed in as `user` (None: anonymous) or sending a station key; `fresh`: a new
        one, not kept. Signing in writes the user's last login, so the rows are read again after."""
        key = (getattr(user, "pk", None), station_key)
        if fresh or key not in self.clients:
            client = APIClient(raise_request_exception=False)
            if user is not None:
                client.force_login(user)
                self.rows = _rows()
            if station_key is not None:
                client.credentials(HTTP_AUTHORIZATION=f"Token {station_key}")
            self.clients[key] = client
        return self.clients[key]

    def send(
        self,
        client: APIClient,
        operation: Operation,
        *,
        path: dict[str, Any],
        body: dict[str, Any],
        query: dict[str, Any] | None = None,
        html: bool = False,
        method: str | None = None,
        suffix: str = "",
        unchanged: bool = True,
    ) -> "Reply":
        """Send the operation with its path filled from `path` and its body and query from `body`.
        `unchanged`: the database and the media must be as they were; `suffix` ends the path instead of
        its slash."""
        query_template = {**operation.entry.query, **(query or {})}
        url = fill(operation.path, path)
        if suffix:  # a format suffix (`/images/1.json`), which the API's routers also route
            url = url.removesuffix("/") + suffix
        parameters = fill(query_template, body)
        if parameters:
            url += "?" + urlencode(parameters)
        data = fill(operation.entry.body, body, keys=path)
        method = method or operation.method
        headers = {"HTTP_ACCEPT": "text/html,application/xhtml+xml"} if html else {}
        kind = "multipart" if operation.entry.multipart or not operation.api else "json"
        self.requests += 1
        urlconf = override_settings(ROOT_URLCONF=operation.urlconf) if operation.urlconf else nullcontext()
        with urlconf, transaction.atomic():
            if method in ("GET", "OPTIONS"):
                response = client.generic(method, url, **headers)
            else:
                response = getattr(client, method.lower())(url, data, format=kind, **headers)
            answer = _answer(response)
            changed = unchanged and _rows() != self.rows
            transaction.set_rollback(True)
        in_path = placeholders(operation.path) | (
            placeholders(operation.entry.body) - placeholders(operation.entry.body, keys=False)
        )
        in_body = placeholders(operation.entry.body, keys=False) | placeholders(query_template)
        used = [(name, path[name]) for name in sorted(in_path)] + [
            (name, body[name]) for name in sorted(in_body)
        ]
        reply = Reply(f"{method} {url} [{operation.name}]{' as HTML' if html else ''}", answer, used)
        if answer.status >= 500:
            self.fail(reply, f"a server error {answer.exception}")
        if changed:
            self.fail(reply, "the database changed")
        files = _files(self.media_root)
        if unchanged and files != self.files:
            self.fail(reply, f"the media changed: {sorted(files ^ self.files)[:3]}")
        self.files = files
        return reply

    def fail(self, reply: "Reply", why: str) -> None:
        answer = reply.answer
        body = (answer.text or answer.content_type)[:300].replace("\n", " ")
        self.failures.append(f"{reply.label} → {answer.status}: {why} — {body}")

    def learned(self, reply: "Reply") -> None:
        """Fail when the answer holds one of the target's strings, or, in JSON, one of its ids
        (under a key that names that kind: `collection`, `model_version`, ...), that the request
        did not send."""
        answer = reply.answer
        sent = {str(value) for _, value in reply.used}
        found = [secret for secret in self.target.secrets if secret in answer.text and secret not in sent]
        if found:
            self.fail(reply, f"it names the other team's {found}")
        sent_ids = {(KEY_KINDS.get(name, name), value) for name, value in reply.used}
        leaked = sorted(
            (kind, value)
            for kind, value in _ids_in(answer.json, context=None)
            if value in self.target.ids.get(kind, ()) and (kind, value) not in sent_ids
        )
        if leaked:
            self.fail(reply, f"it holds the other team's ids {leaked[:5]}")
        if "html" in answer.content_type:
            linked = [
                url for url, named in self.target.links if f'"{url}' in answer.text and named not in sent_ids
            ]
            if linked:
                self.fail(reply, f"it links to the other team's pages {linked[:5]}")

    def report(self) -> str:
        return f"{len(self.failures)} defects in {self.requests} requests:\n" + "\n".join(self.failures)


def _ids_in(value: Any, *, context: str | None) -> set[tuple[str, int]]:
    """(kind, id) of every number a JSON body holds under a key that names a kind (`id` under the
    kind of the object around it)."""
    found: set[tuple[str, int]] = set()
    if isinstance(value, list):
        for item in value:
            found |= _ids_in(item, context=context)
    elif isinstance(value, dict):
        for key, item in value.items():
            kind = KEY_KINDS.get(key.removesuffix("_id")) if key != "id" else context
            if isinstance(item, int) and not isinstance(item, bool) and kind:
                found.add((kind, item))
            elif isinstance(item, dict | list):
                found |= _ids_in(item, context=KEY_KINDS.get(key, context))
    return found


def same_answer(foreign: Answer, unknown: Answer, pairs: list[tuple[Any, Any]]) -> bool:
    """Whether the answer to the target's ids is the answer to ids nobody used, once each unknown id
    in the latter is read as the target's (`pairs`: unknown value, target's value). A JSON body must
    match exactly; other answers (pages, with their CSRF tokens) by status."""
    if foreign.status != unknown.status:
        return False
    if foreign.json is None or unknown.json is None:
        return True
    text = unknown.text
    for unknown_value, value in sorted(pairs, key=lambda pair: -len(str(pair[0]))):
        text = text.replace(str(unknown_value), str(value))
    return json.loads(text) == foreign.json
