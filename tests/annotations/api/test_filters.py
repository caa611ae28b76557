"""Every list's query parameters are typed: a bad value is a 400 that names the parameter (never a
500, never an unfiltered list), and a good one filters."""

import pytest

from annotations.models import Role
from annotations.services.projects import membership_create
from tests.annotations.api.helpers import API, results

BEYOND_64_BITS = str(2**64)

BAD = [
    ("/memberships/", "project", "abc"),
    ("/memberships/", "project", BEYOND_64_BITS),
    ("/collections/", "project", "1.5"),
    ("/collections/", "project", "-3"),
    ("/defect-types/", "collection", "x"),
    ("/defect-types/", "collection", BEYOND_64_BITS),
    ("/images/", "collection", BEYOND_64_BITS),
    ("/images/", "defect_type", "0"),
    ("/images/", "split", "validation"),
    ("/images/", "verdict", "maybe"),
]


@pytest.mark.parametrize("path, name, value", BAD, ids=[f"{p}?{n}={v}" for p, n, v in BAD])
def test_a_bad_filter_value_is_a_400_naming_it(team, as_user, path, name, value):
    response = as_user(team.viewer).get(f"{API}{path}", {name: value})

    assert response.status_code == 400, response.content
    assert list(response.json()) == [name]
    assert response.json()[name][0]


@pytest.mark.parametrize(
    "path, name",
    [("/memberships/", "project"), ("/collections/", "project"), ("/defect-types/", "collection")],
)
def test_a_good_filter_filters(team, other_team, as_user, path, name):
    # The other team's manager joins this team too, so that unfiltered they see both teams' objects.
    membership_create(project=team.project, identifier=other_team.manager.username, role=Role.VIEWER)
    client = as_user(other_team.manager)
    value = team.project.pk if name == "project" else team.collection.pk

    everything = {item[name] for item in results(client.get(f"{API}{path}"))}
    filtered = {item[name] for item in results(client.get(f"{API}{path}", {name: value}))}

    assert filtered == {value} and len(everything) == 2


def test_a_detail_route_takes_no_filters(team, as_user):
    response = as_user(team.viewer).get(f"{API}/images/{team.image.pk}/", {"collection": "x"})

    assert response.status_code == 200
