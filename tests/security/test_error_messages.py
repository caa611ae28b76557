"""Error messages tell a user nothing they may not see.

- Adding a member: only a manager of the project learns whether an account exists; anyone else gets
  the same answer for an account that exists and one that does not (API and project page).
- Creating or renaming a project: names are unique only among the projects the user can see, so
  another team's project name is accepted, and the refusal never names a project the user cannot see.
"""

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from rest_framework.test import APIClient

from annotations.models import Membership, Project, Role
from annotations.services.projects import ProjectNameTaken, project_create, project_update
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

EXISTING, MISSING = "someone-real", "nobody-at-all"


@pytest.fixture
def accounts(db) -> None:
    UserFactory(username=EXISTING)


def _as(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user=user)
    return client


def _api_add(client, project_id: int, username: str):
    body = {"project": project_id, "username": username, "role": "viewer"}
    return client.post(f"{API}/memberships/", body, format="json")


@pytest.mark.parametrize("caller", ["viewer", "annotator", "reviewer", "outsider", "nobody's"])
def test_the_api_answers_a_non_manager_alike_for_real_and_unknown_accounts(
    team, other_team, accounts, caller
):
    user = {"outsider": other_team.manager, "nobody's": UserFactory()}.get(caller) or getattr(team, caller)
    client = _as(user)

    real, unknown = _api_add(client, team.project.pk, EXISTING), _api_add(client, team.project.pk, MISSING)

    assert (real.status_code, real.json()) == (unknown.status_code, unknown.json())
    assert real.status_code in (400, 403, 404)
    assert EXISTING not in real.content.decode() and "no account" not in real.content.decode()
    assert not Membership.objects.filter(user__username=EXISTING).exists()


def test_a_manager_is_told_which_accounts_exist(team, accounts):
    client = _as(team.manager)

    unknown = _api_add(client, team.project.pk, MISSING)
    added = _api_add(client, team.project.pk, EXISTING)

    assert unknown.status_code == 400 and "no account has the username" in unknown.json()["username"][0]
    assert added.status_code == 201 and added.json()["username"] == EXISTING


@pytest.mark.parametrize("caller", ["viewer", "reviewer", "outsider"])
def test_the_project_page_answers_a_non_manager_alike_for_real_and_unknown_accounts(
    team, other_team, accounts, client, caller
):
    client.force_login(other_team.manager if caller == "outsider" else getattr(team, caller))
    url = reverse("project-member-add", args=[team.project.pk])

    real = client.post(url, {"user": EXISTING, "role": "viewer"})
    unknown = client.post(url, {"user": MISSING, "role": "viewer"})

    assert real.status_code == unknown.status_code and real.status_code in (403, 404)
    assert real.content.replace(EXISTING.encode(), b"") == unknown.content.replace(MISSING.encode(), b"")
    assert not Membership.objects.filter(user__username=EXISTING).exists()


# --- project names -------------------------------------------------------------------------------


def test_another_teams_project_name_is_free_in_the_api_and_the_page(team, other_team, client):
    taken_elsewhere = team.project.name.upper()

    created = _as(other_team.manager).post(f"{API}/projects/", {"name": taken_elsewhere}, format="json")
    client.force_login(other_team.viewer)
    page = client.post(reverse("project-list"), {"name": team.project.name.lower()})

    assert created.status_code == 201, created.content
    assert page.status_code == 302
    assert Project.objects.filter(name__iexact=team.project.name).count() == 3


def test_renaming_onto_another_teams_name_is_allowed_onto_ones_own_refused(team, other_team):
    client = _as(other_team.manager)
    own = client.post(f"{API}/projects/", {"name": "Spare"}, format="json").json()

    onto_theirs = client.patch(f"{API}/projects/{own['id']}/", {"name": team.project.name}, format="json")
    onto_own = client.patch(f"{API}/projects/{own['id']}/", {"name": other_team.project.name}, format="json")

    assert onto_theirs.status_code == 200
    assert onto_own.status_code == 400 and "you already have a project" in onto_own.json()["name"][0]


def test_the_refusal_speaks_of_the_users_own_projects_only(team):
    with pytest.raises(ProjectNameTaken, match="you already have a project named 'TEAM'"):
        project_create(name="TEAM", created_by=team.viewer)  # a member of "Team"
    spare = project_create(name="Spare", created_by=team.viewer)
    with pytest.raises(ProjectNameTaken):
        project_update(project=spare, changed_by=team.viewer, name="team")


def test_import_dataset_finds_the_project_among_the_owners(team, other_team, tmp_path):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(seed=5))
    project_create(name=team.project.name, created_by=other_team.manager)  # two projects named "Team"

    with pytest.raises(CommandError, match="2 projects are named 'team'.*--owner"):
        call_command("import_dataset", str(folder), project="team", verbosity=0)
    call_command("import_dataset", str(folder), project="team", owner=team.manager.username, verbosity=0)

    assert team.project.collections.filter(name="plain").exists()
    assert not Project.objects.exclude(pk=team.project.pk).filter(collections__name="plain").exists()
    assert Membership.objects.get(project=team.project, user=team.manager).role == Role.MANAGER
