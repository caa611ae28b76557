"""The authorization matrix: every operation of the generated OpenAPI schema and every page route of
the URL resolver, called against team A (`world.py`) as anonymous, as a user in no project, as team B's
manager with team A's ids in the path, the query and the body, as team A's members below the role a
write needs, and with station keys.

Expected: anonymous callers get 401 from the API and a login redirect from the pages; an outsider gets
404 for an object named in the path, and for anything named elsewhere exactly the answer an id nobody
ever used gets; a member below the role gets 403 (or, on a page, a redirect that changed nothing); a
revoked station key 401 and another station's key 404, everywhere. No answer names team A's objects
or holds their ids (in JSON or HTML), and no refused request changes the database or the media.

A route without an entry in `table.py` fails `test_every_route_has_an_entry`.
"""

import pytest
from django.conf import settings
from django.shortcuts import resolve_url

from annotations.models import ROLE_RANK, Role
from line.services.stations import KEY_PREFIX
from tests.authz.probe import Matrix, placeholders, same_answer
from tests.authz.routes import Operation, all_operations, api_operations, missing_entries
from tests.authz.world import ID_KINDS, NAMED_VALUES, NEVER_USED, World, world_seed

NAMING = set(ID_KINDS) | set(NAMED_VALUES)
NOT_ACCEPTABLE = 406  # text/html asked of an API that answers JSON only: nothing rendered


@pytest.fixture
def world(db, sent) -> World:
    return world_seed()


@pytest.fixture
def matrix(world, media_root) -> Matrix:
    return Matrix(target=world.a, media_root=media_root)


def _with_ids(names: dict, ids: dict) -> dict:
    """`names` with every placeholder that names something taken from `ids`."""
    return {**names, **{name: value for name, value in ids.items() if name in NAMING}}


def _rest(operation: Operation) -> bool:
    """Answers as the REST API does (401, 403, 404 in JSON), not as a page."""
    return operation.api or operation.urlconf is not None


def _finish(matrix: Matrix, what: str) -> None:
    print(f"\nauthz {what}: {matrix.requests} requests")  # the counts the note reports
    assert not matrix.failures, matrix.report()


def test_every_route_has_an_entry():
    problems = missing_entries()

    assert not problems, "\n".join(problems)
    operations = all_operations()
    print(
        f"\nauthz matrix: {len(api_operations())} API operations and "
        f"{len(operations) - len(api_operations())} page routes and methods"
    )


def test_anonymous_callers_are_asked_to_sign_in(world, matrix):
    client, a = matrix.client(), world.a.names
    unknown = _with_ids(a, NEVER_USED)
    login = resolve_url(settings.LOGIN_URL)
    for operation in all_operations():
        public = operation.entry.public
        reply = matrix.send(client, operation, path=a, body=a, unchanged=not public)
        matrix.learned(reply)
        if public:
            named = (placeholders(operation.entry.body) | placeholders(operation.entry.query)) & NAMING
            if named:
                twin = matrix.send(client, operation, path=a, body=unknown, unchanged=False)
                if not same_answer(reply.answer, twin.answer, [(unknown[n], a[n]) for n in named]):
                    matrix.fail(reply, f"answered otherwise ({twin.status}) than for a name nobody has")
        elif _rest(operation):
            if reply.status != 401:
                matrix.fail(reply, "expected 401")
        elif reply.status != 302 or not reply.answer.location.startswith(f"{login}?next="):
            matrix.fail(reply, f"expected a redirect to {login}")
        if operation.api:
            html = matrix.send(client, operation, path=a, body=a, html=True, unchanged=not public)
            matrix.learned(html)
            if not public and html.status not in (401, NOT_ACCEPTABLE):
                matrix.fail(html, "expected 401 (or 406: the API speaks JSON only)")
    _finish(matrix, "anonymous")


@pytest.mark.parametrize("caller", ["no project", "team B's manager"])
def test_outsiders_learn_nothing_and_change_nothing(world, matrix, caller):
    user = world.loner if caller == "no project" else world.b.users[Role.MANAGER]
    client, a, b = matrix.client(user), world.a.names, world.b.names
    unknown = _with_ids(a, NEVER_USED)
    seen_paths = set()
    for operation in all_operations():
        entry = operation.entry
        if entry.public or entry.role is None:  # names nothing: only what it answers is checked
            # On a client of its own: logging out (or in) must not sign the caller's client out.
            once = matrix.client(user, fresh=True)
            matrix.learned(matrix.send(once, operation, path=a, body=a, unchanged=False))
            continue
        in_path = placeholders(operation.path)
        elsewhere = (placeholders(entry.body, keys=False) | placeholders(entry.query)) & NAMING
        # (path names, body and query names, their twins with ids nobody used, an extra query)
        variants = [(a, a, unknown, unknown, {})]
        if in_path and elsewhere and caller != "no project":
            variants.append((b, _with_ids(b, a), b, _with_ids(b, NEVER_USED), {}))
        variants += [(a, a, unknown, unknown, {name: "{" + name + "}"}) for name in operation.id_params]
        for path, body, path_twin, body_twin, query in variants:
            _outsider_call(matrix, client, operation, (path, body), (path_twin, body_twin), query, a)
        if operation.api and operation.path not in seen_paths:
            seen_paths.add(operation.path)
            matrix.learned(matrix.send(client, operation, path=a, body=a, method="OPTIONS"))
    _finish(matrix, f"outsider ({caller})")


def _outsider_call(matrix, client, operation, names, twin_names, query, a) -> None:
    """One request naming team A's objects, and the same request naming objects nobody made."""
    (path, body), (path_twin, body_twin) = names, twin_names
    reply = matrix.send(client, operation, path=path, body=body, query=query)
    matrix.learned(reply)
    naming = [(name, value) for name, value in reply.used if name in NAMING and value == a.get(name)]
    if not naming:  # the caller's own list: nothing of team A in it
        return
    twin = matrix.send(client, operation, path=path_twin, body=body_twin, query=query)
    pairs = [
        (value, own) for (name, value), (_, own) in zip(twin.used, reply.used, strict=True) if value != own
    ]
    if not same_answer(reply.answer, twin.answer, pairs):
        matrix.fail(
            reply, f"answered otherwise than for ids nobody used ({twin.status}: {twin.answer.text[:150]})"
        )
    names_target_in_path = path is a and placeholders(operation.path)
    if names_target_in_path and reply.status != 404 and not (reply.status == 400 and reply.answer.json):
        matrix.fail(reply, "expected 404 for another team's object")
    elif operation.api and operation.write and reply.status < 400:
        matrix.fail(reply, "a write naming another team's objects was accepted")
    if operation.api and operation.method == "GET":  # what the browsable API would render
        html = matrix.send(client, operation, path=path, body=body, query=query, html=True)
        matrix.learned(html)
        if html.status not in (reply.status, NOT_ACCEPTABLE):
            matrix.fail(html, f"answered {reply.status} in JSON")
    if operation.api and names_target_in_path and operation.method == "GET":
        suffixed = matrix.send(client, operation, path=path, body=body, query=query, suffix=".json")
        matrix.learned(suffixed)
        if suffixed.status != 404:
            matrix.fail(suffixed, "expected 404 for another team's object")


def test_members_below_the_role_are_refused(world, matrix):
    a = world.a.names
    for operation in all_operations():
        role = operation.entry.role
        if role is None or operation.entry.public:
            continue
        for below in (r for r in Role if ROLE_RANK[r] < ROLE_RANK[role]):
            reply = matrix.send(matrix.client(world.a.users[below]), operation, path=a, body=a)
            redirected = not _rest(operation) and reply.status == 302
            if reply.status != 403 and not redirected:
                matrix.fail(reply, f"a {below.value} got this; expected 403 ({role.value} needed)")
        # The role the table names is enough (what it does is the other tests' business).
        reply = matrix.send(matrix.client(world.a.users[role]), operation, path=a, body=a, unchanged=False)
        if reply.status in (401, 403, 404):
            matrix.fail(reply, f"a {role.value}, the role the table names, was refused")
    _finish(matrix, "members")


def test_station_keys_reach_their_own_inspect_route_only(world, matrix):
    a = world.a.names
    keys = {
        "a revoked key": (world.a.revoked_station_key, 401),
        "a key nobody issued": (KEY_PREFIX + "x" * 43, 401),
        "another team's station": (world.b.station_key, 404),
        "the team's own station": (world.a.station_key, 404),
    }
    for operation in all_operations():
        for who, (key, expected) in keys.items():
            if operation.entry.station and key == world.a.station_key:
                continue  # the one route it may call
            if who == "a key nobody issued" and not operation.entry.station:
                continue  # refused where a revoked key is, by the same lookup: its route is enough
            reply = matrix.send(matrix.client(station_key=key), operation, path=a, body=a)
            matrix.learned(reply)
            if reply.status != expected:
                matrix.fail(reply, f"{who}: expected {expected}")
    _finish(matrix, "station keys")
