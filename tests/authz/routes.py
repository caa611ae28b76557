"""Every route the matrix attacks: the operations of the generated OpenAPI schema and the page routes
of the URL resolver, each joined to its entry in the table."""

import re
from dataclasses import dataclass
from functools import cache

from django.urls import URLPattern, URLResolver, get_resolver

from tests.authz.table import API, INSPECTION_PAGES, NOT_PAGES, PAGES, PATH_KINDS, PATH_VALUES, Entry
from tests.authz.world import ID_KINDS

SAFE = ("GET", "HEAD", "OPTIONS")
INSPECTION_URLCONF = "line.inspection_urls"


@dataclass(frozen=True)
class Operation:
    """One method of one route, its path with placeholders (`/api/v1/images/{image}/`)."""

    name: str
    method: str
    path: str
    entry: Entry
    api: bool
    id_params: tuple[str, ...] = ()
    """Query parameters that name an object (filled one at a time)."""
    urlconf: str | None = None

    @property
    def write(self) -> bool:
        return self.method not in SAFE

    def __str__(self) -> str:
        return f"{self.method} {self.path} [{self.name}]"


@cache
def schema_operations() -> dict[str, tuple[str, str, tuple[str, ...], tuple[str, ...]]]:
    """operation id → (method, path, path parameters, query parameters), from the generated schema."""
    # Imported here: importing DRF's viewsets before Django has loaded the URLconf is circular
    # (the default pagination class imports config.api, which needs the viewsets).
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    found = {}
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            parameters = operation.get("parameters", [])
            found[operation["operationId"]] = (
                method.upper(),
                path,
                tuple(p["name"] for p in parameters if p["in"] == "path"),
                tuple(p["name"] for p in parameters if p["in"] == "query"),
            )
    return found


def _placeholder_path(path: str, kind: str | None, where: str) -> str:
    """The path with each parameter named by the placeholder of what it names."""

    def name(match: re.Match) -> str:
        parameter = match[1]
        if parameter in PATH_VALUES:
            return PATH_VALUES[parameter]
        named = kind if parameter in ("id", "pk") else PATH_KINDS.get(parameter)
        if named is None:
            raise LookupError(f"{where}: the table says nothing of what path parameter {parameter!r} names")
        return "{" + named + "}"

    return re.sub(r"\{(\w+)\}", name, path)


def _entries(value: Entry | tuple[Entry, ...]) -> tuple[Entry, ...]:
    return value if isinstance(value, tuple) else (value,)


def api_operations() -> list[Operation]:
    operations = []
    for operation_id, (method, path, _, query) in schema_operations().items():
        for entry in _entries(API.get(operation_id, ())):
            id_params = tuple(name for name in query if name in ID_KINDS)
            placeholder = _placeholder_path(path, entry.kind, operation_id)
            operations.append(Operation(operation_id, method, placeholder, entry, True, id_params))
    return operations


def resolver_routes(urlconf: str | None = None) -> list[tuple[str, str]]:
    """(URL name, route) of every pattern the resolver knows, routes as `/projects/{project_id}/`."""
    found: list[tuple[str, str]] = []

    def walk(patterns: list, prefix: str, namespace: str) -> None:
        for pattern in patterns:
            route = prefix + str(pattern.pattern)
            if isinstance(pattern, URLResolver):
                inner = f"{namespace}{pattern.namespace}:" if pattern.namespace else namespace
                walk(pattern.url_patterns, route, inner)
            elif isinstance(pattern, URLPattern):
                found.append((f"{namespace}{pattern.name or ''}", route))

    walk(get_resolver(urlconf).url_patterns, "", "")
    return [(name, "/" + _as_placeholders(route)) for name, route in found]


def _as_placeholders(route: str) -> str:
    """A path() route or a router's regex, with its parameters as `{name}` (a router's pk as id)."""
    route = re.sub(r"\(\?P<(\w+)>[^)]*\)", r"{\1}", route)
    route = re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)
    return route.replace("^", "").replace("$", "").replace("{pk}", "{id}").replace("\\", "")


def _is_api(route: str, urlconf: str | None) -> bool:
    """A route of the REST API, which the schema's operations stand for (the inspection service's
    inspect route is a page of its own)."""
    return urlconf is None and route.startswith("/api/v1/")


def _page_operations(pages: dict[str, Entry], urlconf: str | None) -> list[Operation]:
    operations = []
    for name, route in resolver_routes(urlconf):
        if name not in pages or _is_api(route, urlconf):
            continue
        entry = pages[name]
        path = _placeholder_path(route, entry.kind, name)
        operations += [
            Operation(name, method, path, entry, False, urlconf=urlconf) for method in entry.methods
        ]
    return operations


def page_operations() -> list[Operation]:
    return _page_operations(PAGES, None) + _page_operations(INSPECTION_PAGES, INSPECTION_URLCONF)


def all_operations() -> list[Operation]:
    return api_operations() + page_operations()


def missing_entries() -> list[str]:
    """What the schema or the resolver holds that the table does not, and table lines naming nothing."""
    problems = []
    operation_ids = schema_operations()
    problems += [
        f"API operation {name!r} has no entry in tests/authz/table.py API"
        for name in operation_ids
        if name not in API
    ]
    problems += [
        f"API entry {name!r} is no operation of the schema" for name in API if name not in operation_ids
    ]
    schema_paths = {path for _, path, _, _ in operation_ids.values()}
    for urlconf, pages in ((None, PAGES), (INSPECTION_URLCONF, INSPECTION_PAGES)):
        routes = resolver_routes(urlconf)
        for name, route in routes:
            if _is_api(route, urlconf):
                if "{format}" in route or name == "api-root" or route in schema_paths:
                    continue
                problems.append(f"API route {route} ({name}) is in no operation of the schema")
            elif not name.startswith(NOT_PAGES) and name not in pages:
                problems.append(f"page route {name!r} ({route}) has no entry in tests/authz/table.py")
        named = {name for name, _ in routes}
        problems += [
            f"page entry {name!r} is no route of {urlconf or 'config.urls'}"
            for name in pages
            if name not in named
        ]
    for name, entries in API.items():
        for entry in _entries(entries):
            if entry.methods != ("GET",):
                problems.append(f"API entry {name!r}: its method comes from the schema, not `methods`")
    return problems
