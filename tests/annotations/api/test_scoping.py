"""Another team's objects do not exist for you: every route and action answers 404 and changes nothing.

To cover a new route or action, add one line to DETAIL_ROUTES (or BODY_REFERENCES for an id sent in a
request body); `test_every_routed_action_is_covered` fails until you do.
"""

import pytest

from annotations.api.urls import router
from annotations.models import (
    Annotation,
    AnnotationRevision,
    Collection,
    DefectType,
    Image,
    Membership,
    Project,
)
from config.urls import images_router
from tests.annotations.api.helpers import API, png_bytes, results, upload

# (basename, action, method, path, body): {project} {membership} {collection} {defect_type} {image}
# are the other team's; {my_image} and {my_collection} are the caller's own.
DETAIL_ROUTES = [
    ("project", "retrieve", "get", "/projects/{project}/", None),
    ("project", "partial_update", "patch", "/projects/{project}/", {"description": "mine now"}),
    ("membership", "retrieve", "get", "/memberships/{membership}/", None),
    ("membership", "partial_update", "patch", "/memberships/{membership}/", {"role": "viewer"}),
    ("membership", "destroy", "delete", "/memberships/{membership}/", None),
    ("collection", "retrieve", "get", "/collections/{collection}/", None),
    ("collection", "partial_update", "patch", "/collections/{collection}/", {"name": "renamed"}),
    ("collection", "destroy", "delete", "/collections/{collection}/", None),
    ("collection", "archive", "post", "/collections/{collection}/archive/", None),
    ("collection", "restore", "post", "/collections/{collection}/restore/", None),
    ("defect-type", "retrieve", "get", "/defect-types/{defect_type}/", None),
    ("defect-type", "partial_update", "patch", "/defect-types/{defect_type}/", {"name": "renamed"}),
    ("defect-type", "destroy", "delete", "/defect-types/{defect_type}/", None),
    ("image", "retrieve", "get", "/images/{image}/", None),
    ("image", "partial_update", "patch", "/images/{image}/", {"split": "test"}),
    ("image", "destroy", "delete", "/images/{image}/", None),
    ("image", "file", "get", "/images/{image}/file/", None),
    ("image", "thumbnail", "get", "/images/{image}/thumbnail/", None),
    ("image", "annotation", "get", "/images/{image}/annotation/", None),
    (
        "image",
        "annotation",
        "put",
        "/images/{image}/annotation/",
        {"verdict": "normal", "regions": [], "version": 0},
    ),
    ("image", "annotation", "patch", "/images/{image}/annotation/", {"verdict": "normal", "version": 0}),
    ("image", "revisions", "get", "/images/{image}/revisions/", None),
    # One of theirs among the caller's own: nothing changes, the caller's image neither.
    (
        "image",
        "bulk",
        "post",
        "/images/bulk/",
        {"images": ["{my_image}", "{image}"], "verdict": "defective", "split": "test"},
    ),
]

# (basename, action, method, path, body, field): an id of the other team's in the body of a request
# to a route the caller may use gets exactly the answer a never-used id gets.
BODY_REFERENCES = [
    (
        "membership",
        "create",
        "post",
        "/memberships/",
        {"project": "{project}", "username": "{me}", "role": "viewer"},
    ),
    ("collection", "create", "post", "/collections/", {"project": "{project}", "name": "intruder"}),
    ("defect-type", "create", "post", "/defect-types/", {"collection": "{collection}", "name": "intruder"}),
    ("image", "create", "post", "/images/", {"collection": "{collection}", "files": "<png>"}),
    (
        "image",
        "annotation",
        "put",
        "/images/{my_image}/annotation/",
        {
            "verdict": "defective",
            "regions": [{"kind": "point", "geometry": {"x": 1, "y": 1}, "defect_type": "{defect_type}"}],
            "version": 0,
        },
    ),
]

# (basename, path): lists filtered by another team's id are empty.
LIST_FILTERS = [
    ("project", "/projects/"),
    ("membership", "/memberships/?project={project}"),
    ("collection", "/collections/?project={project}"),
    ("defect-type", "/defect-types/?collection={collection}"),
    ("image", "/images/?collection={collection}"),
    ("image", "/images/?defect_type={defect_type}"),
    ("image", "/images/?reviewed=false&collection={collection}"),
]

# Actions that take no object's id at all.
UNSCOPED = [("project", "create", "post")]

NEVER_USED = 987654


def ids(team, other_team) -> dict[str, object]:
    return {
        "project": other_team.project.pk,
        "membership": Membership.objects.get(user=other_team.annotator).pk,
        "collection": other_team.collection.pk,
        "defect_type": other_team.defect_type.pk,
        "image": other_team.image.pk,
        "my_image": team.image.pk,
        "me": team.viewer.username,
    }


def fill(value, names: dict[str, object]):
    """The value with {placeholders} put in: whole-string placeholders keep the id's type."""
    if isinstance(value, dict):
        return {key: fill(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [fill(item, names) for item in value]
    if isinstance(value, str) and value.startswith("{") and value.endswith("}") and value.count("{") == 1:
        return names[value[1:-1]]
    if value == "<png>":
        return [upload("intruder.png", png_bytes(seed=99))]
    return value.format(**names) if isinstance(value, str) else value


def request(client, method: str, path: str, body):
    kind = "multipart" if isinstance(body, dict) and "files" in body else "json"
    return getattr(client, method)(API + path, body, format=kind)


def snapshot(other_team) -> tuple:
    """Everything a cross-team write could change."""
    return (
        list(Project.objects.values_list("id", "name", "description")),
        list(Membership.objects.values_list("id", "role")),
        list(Collection.objects.values_list("id", "name")),
        list(DefectType.objects.values_list("id", "name")),
        list(Image.objects.values_list("id", "split")),
        list(Annotation.objects.values_list("id", "verdict", "version")),
        AnnotationRevision.objects.count(),
    )


@pytest.mark.parametrize(
    "basename, action, method, path, body", DETAIL_ROUTES, ids=[f"{r[2]} {r[3]}" for r in DETAIL_ROUTES]
)
def test_another_teams_object_is_a_404_and_stays_unchanged(
    team, other_team, as_user, basename, action, method, path, body
):
    names = ids(team, other_team)
    before = snapshot(other_team)

    # A manager of their own team: only the scoping can stop them.
    response = request(as_user(team.manager), method, fill(path, names), fill(body, names))

    assert response.status_code == 404, response.content
    assert snapshot(other_team) == before


@pytest.mark.parametrize(
    "basename, action, method, path, body", BODY_REFERENCES, ids=[f"{r[2]} {r[3]}" for r in BODY_REFERENCES]
)
def test_another_teams_id_in_a_body_is_answered_like_an_id_never_used(
    team, other_team, as_user, basename, action, method, path, body
):
    names = ids(team, other_team)
    never_used = {**names, **{key: NEVER_USED for key in ("project", "collection", "defect_type")}}
    client = as_user(team.manager)
    before = snapshot(other_team)

    foreign = request(client, method, fill(path, names), fill(body, names))
    unknown = request(client, method, fill(path, never_used), fill(body, never_used))

    assert foreign.status_code == unknown.status_code == 400, foreign.content
    referenced = {names[key] for key in ("project", "collection", "defect_type")}
    foreign_text = foreign.content.decode()
    for value in referenced:
        foreign_text = foreign_text.replace(str(value), str(NEVER_USED))
    assert foreign_text == unknown.content.decode()
    assert snapshot(other_team) == before


@pytest.mark.parametrize("basename, path", LIST_FILTERS, ids=[r[1] for r in LIST_FILTERS])
def test_lists_hold_nothing_of_another_team(team, other_team, as_user, basename, path):
    listed = results(as_user(team.manager).get(API + fill(path, ids(team, other_team))))

    expected = [] if "?" in path else [team.project.pk]
    assert [item["id"] for item in listed] == expected


def test_every_routed_action_is_covered():
    covered = {(r[0], r[1], r[2]) for r in DETAIL_ROUTES + BODY_REFERENCES}
    covered |= {(basename, "list", "get") for basename, _ in LIST_FILTERS} | set(UNSCOPED)
    routed = set()
    # The images route is config.urls' (inference's ViewSet on top of annotations' own).
    for each in (router, images_router):
        for _, viewset, basename in each.registry:
            for route in each.get_routes(viewset):
                for method, action in route.mapping.items():
                    if hasattr(viewset, action):
                        routed.add((basename, action, method))
    assert {basename for basename, _, _ in routed} >= {"project", "image"}
    assert routed - covered == set()


@pytest.mark.parametrize(
    "method, path", [("get", "/projects/"), ("get", "/images/1/"), ("post", "/projects/")]
)
def test_anonymous_requests_are_refused(db, api_client, method, path):
    response = getattr(api_client, method)(API + path)

    assert response.status_code == 401
