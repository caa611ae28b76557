"""Setting a project up in the browser: managers create and rename collections, add members, change
their roles and remove them (the last manager stays); other members read, and their POSTs change
nothing; another team's project or collection is a 404."""

import pytest
from django.urls import reverse

from annotations.models import Collection, Membership, Role
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def messages_of(response) -> str:
    return " ".join(str(message) for message in response.wsgi_request._messages)


# --- collections on the project page ---------------------------------------------------------


def test_an_empty_project_points_its_manager_to_the_new_collection_form(client, team):
    client.force_login(team.manager)
    client.post(reverse("project-list"), {"name": "Gearboxes"})
    project = team.manager.memberships.get(project__name="Gearboxes").project

    html = client.get(reverse("project-detail", args=[project.pk])).content.decode()

    assert "Images are added through the API or the import command" not in html
    assert "create the first one below" in html
    assert reverse("project-collection-create", args=[project.pk]) in html


def test_a_member_who_is_not_a_manager_gets_no_form_and_their_post_is_refused(client, team):
    client.force_login(team.reviewer)
    html = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    assert reverse("project-collection-create", args=[team.project.pk]) not in html
    assert reverse("project-member-add", args=[team.project.pk]) not in html

    response = client.post(reverse("project-collection-create", args=[team.project.pk]), {"name": "Nuts"})

    assert response.status_code == 403
    assert not Collection.objects.filter(name="Nuts").exists()


def test_a_manager_creates_a_collection_and_lands_on_its_settings(client, team):
    client.force_login(team.manager)

    response = client.post(
        reverse("project-collection-create", args=[team.project.pk]),
        {"name": "M8 screws", "description": "camera 2"},
    )

    collection = Collection.objects.get(project=team.project, name="M8 screws")
    assert collection.description == "camera 2"
    assert response.status_code == 302
    assert response["Location"] == reverse("collection-settings", args=[collection.pk])
    assert "add its defect types" in messages_of(response)


def test_a_collection_name_taken_in_the_project_is_refused_with_the_form_kept(client, team):
    client.force_login(team.manager)

    response = client.post(
        reverse("project-collection-create", args=[team.project.pk]),
        {"name": "Team tiles", "description": "x"},
    )

    assert response.status_code == 200
    assert "already has a collection" in response.content.decode()
    assert Collection.objects.filter(project=team.project).count() == 1


def test_the_same_collection_name_is_free_in_another_project(client, team, other_team):
    client.force_login(other_team.manager)
    client.post(reverse("project-collection-create", args=[other_team.project.pk]), {"name": "Team tiles"})
    assert Collection.objects.filter(name="Team tiles").count() == 2


def test_another_teams_project_is_a_404_for_every_setup_action(client, team, other_team):
    client.force_login(team.manager)
    manager_membership = Membership.objects.get(project=other_team.project, user=other_team.manager)
    posts = [
        (reverse("project-collection-create", args=[other_team.project.pk]), {"name": "Stolen"}),
        (
            reverse("project-member-add", args=[other_team.project.pk]),
            {"user": team.viewer.username, "role": "viewer"},
        ),
        (reverse("project-member-role", args=[other_team.project.pk, manager_membership.pk]), {}),
        (reverse("project-member-remove", args=[other_team.project.pk, manager_membership.pk]), {}),
        # A membership of another project, through one's own project's route.
        (reverse("project-member-remove", args=[team.project.pk, manager_membership.pk]), {}),
    ]
    for url, data in posts:
        assert client.post(url, data).status_code == 404, url
    assert not Collection.objects.filter(name="Stolen").exists()
    assert Membership.objects.filter(pk=manager_membership.pk, role=Role.MANAGER).exists()
    assert not Membership.objects.filter(project=other_team.project, user=team.viewer).exists()


# --- members -----------------------------------------------------------------------------------


def test_a_manager_adds_an_existing_user_by_username_or_email(client, team):
    newcomer = UserFactory(username="newcomer")
    by_mail = UserFactory(username="mailed", email="Quality.Engineer@example.com")
    client.force_login(team.manager)

    first = client.post(
        reverse("project-member-add", args=[team.project.pk]), {"user": "newcomer", "role": "reviewer"}
    )
    second = client.post(
        reverse("project-member-add", args=[team.project.pk]),
        {"user": "quality.engineer@example.com", "role": "annotator"},
    )

    assert first.status_code == second.status_code == 302
    assert Membership.objects.get(project=team.project, user=newcomer).role == Role.REVIEWER
    assert Membership.objects.get(project=team.project, user=by_mail).role == Role.ANNOTATOR
    assert "newcomer added as Reviewer" in messages_of(first)


@pytest.mark.parametrize(
    ("named", "error"),
    [("nobody", "no account has the username or e-mail"), ("team-viewer", "already a member")],
)
def test_adding_an_unknown_user_or_a_member_again_says_why(client, team, named, error):
    client.force_login(team.manager)
    before = Membership.objects.count()

    response = client.post(
        reverse("project-member-add", args=[team.project.pk]), {"user": named, "role": "viewer"}
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert Membership.objects.count() == before


def test_a_manager_changes_a_role_and_removes_a_member(client, team):
    client.force_login(team.manager)
    annotator = Membership.objects.get(project=team.project, user=team.annotator)
    viewer = Membership.objects.get(project=team.project, user=team.viewer)

    changed = client.post(
        reverse("project-member-role", args=[team.project.pk, annotator.pk]),
        {f"member-{annotator.pk}-role": "reviewer"},
    )
    removed = client.post(reverse("project-member-remove", args=[team.project.pk, viewer.pk]))

    assert changed.status_code == removed.status_code == 302
    annotator.refresh_from_db()
    assert annotator.role == Role.REVIEWER
    assert not Membership.objects.filter(pk=viewer.pk).exists()
    assert "team-viewer removed" in messages_of(removed)


def test_the_last_manager_can_neither_step_down_nor_leave(client, team):
    client.force_login(team.manager)
    mine = Membership.objects.get(project=team.project, user=team.manager)

    demoted = client.post(
        reverse("project-member-role", args=[team.project.pk, mine.pk]), {f"member-{mine.pk}-role": "viewer"}
    )
    left = client.post(reverse("project-member-remove", args=[team.project.pk, mine.pk]))

    assert Membership.objects.get(pk=mine.pk).role == Role.MANAGER
    assert "at least one manager" in messages_of(demoted)
    assert "at least one manager" in messages_of(left)
    page = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    assert "at least one manager" in page


def test_a_manager_who_is_not_the_last_may_leave(client, team):
    Membership.objects.filter(project=team.project, user=team.reviewer).update(role=Role.MANAGER)
    client.force_login(team.manager)
    mine = Membership.objects.get(project=team.project, user=team.manager)

    response = client.post(reverse("project-member-remove", args=[team.project.pk, mine.pk]))

    assert response["Location"] == reverse("project-list")
    assert client.get(reverse("project-detail", args=[team.project.pk])).status_code == 404


@pytest.mark.parametrize("who", ["reviewer", "annotator", "viewer"])
def test_members_below_manager_read_the_member_list_and_change_nothing(client, team, who):
    client.force_login(getattr(team, who))
    viewer = Membership.objects.get(project=team.project, user=team.viewer)

    html = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    added = client.post(
        reverse("project-member-add", args=[team.project.pk]), {"user": "team-manager", "role": "viewer"}
    )
    promoted = client.post(
        reverse("project-member-role", args=[team.project.pk, viewer.pk]),
        {f"member-{viewer.pk}-role": "manager"},
    )
    removed = client.post(reverse("project-member-remove", args=[team.project.pk, viewer.pk]))

    assert team.manager.username in html and "Remove" not in html
    assert reverse("project-member-role", args=[team.project.pk, viewer.pk]) not in html
    assert added.status_code == promoted.status_code == removed.status_code == 403
    assert Membership.objects.get(pk=viewer.pk).role == Role.VIEWER


def test_a_manager_sees_the_role_controls(client, team):
    client.force_login(team.manager)
    viewer = Membership.objects.get(project=team.project, user=team.viewer)
    html = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    assert reverse("project-member-role", args=[team.project.pk, viewer.pk]) in html
    assert f'name="member-{viewer.pk}-role"' in html


# --- accounts ----------------------------------------------------------------------------------


def test_there_is_no_sign_up_route(client, db):
    from django.urls import get_resolver

    names = {name for name in get_resolver().reverse_dict if isinstance(name, str)}
    assert not {name for name in names if "signup" in name or "sign-up" in name or "register" in name}
    for path in ("/signup/", "/sign-up/", "/register/", "/accounts/signup/", "/accounts/register/"):
        assert client.get(path).status_code == 404, path
    assert "sign up" not in client.get(reverse("login")).content.decode().lower()


def test_the_first_administrator_is_made_by_createsuperuser_and_adds_accounts_in_the_admin(
    client, db, monkeypatch, django_user_model
):
    from django.core.management import call_command

    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", "a long enough password")
    call_command("createsuperuser", "--noinput", username="root", email="root@example.com", verbosity=0)
    root = django_user_model.objects.get(username="root")
    assert root.is_superuser and root.is_staff

    client.force_login(root)
    assert client.get("/admin/auth/user/add/").status_code == 200
