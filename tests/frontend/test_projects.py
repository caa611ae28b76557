from django.urls import reverse

from annotations.models import Collection, Membership, Project, Role
from tests.frontend.helpers import add_image, label

XSS = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def test_project_list_shows_own_projects_with_collections_counts_and_role(client, team, other_team):
    add_image(team.collection, "second.png", seed=101)
    Collection.objects.create(project=team.project, name="Empty line")
    client.force_login(team.annotator)

    html = client.get(reverse("project-list")).content.decode()

    assert reverse("project-detail", args=[team.project.pk]) in html
    assert "Team tiles" in html
    assert "2 images" in html
    assert "0 images" in html
    assert "Annotator" in html
    assert "Other team" not in html
    assert reverse("project-detail", args=[other_team.project.pk]) not in html


def test_project_list_for_a_user_with_no_project(client, team, django_user_model):
    client.force_login(django_user_model.objects.create_user("loner", password="x"))
    html = client.get(reverse("project-list")).content.decode()
    assert "not a member of any project" in html
    assert "Team tiles" not in html


def test_create_project_makes_the_creator_manager(client, team):
    client.force_login(team.viewer)
    response = client.post(reverse("project-list"), {"name": "Gearboxes", "description": "Line 4"})
    project = Project.objects.get(name="Gearboxes")
    assert response.status_code == 302
    assert response["Location"] == reverse("project-detail", args=[project.pk])
    assert Membership.objects.get(project=project, user=team.viewer).role == Role.MANAGER
    page = client.get(response["Location"]).content.decode()
    assert "Gearboxes" in page and "created; you are its manager" in page


def test_create_project_with_a_taken_name_shows_an_error(client, team):
    client.force_login(team.viewer)
    response = client.post(reverse("project-list"), {"name": "team"})
    assert response.status_code == 200
    assert "already have a project" in response.content.decode()
    assert Project.objects.count() == 1


def test_project_page_counts_collections_and_lists_members(client, team):
    train = add_image(team.collection, "a.png", seed=1, split="train")
    add_image(team.collection, "b.png", seed=2, split="train")
    test = add_image(team.collection, "c.png", seed=3, split="test")
    label(train, author=team.annotator, verdict="defective")
    label(test, author=team.annotator, verdict="defective")
    label(team.image, author=team.annotator, verdict="normal")
    client.force_login(team.viewer)

    response = client.get(reverse("project-detail", args=[team.project.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'data-count="images">4<' in html
    assert 'data-count="train">2<' in html
    assert 'data-count="test">1<' in html
    assert 'data-count="labeled">3<' in html
    assert 'data-count="defective">2<' in html
    assert "scratch" in html
    for user, role in [
        (team.manager, "Manager"),
        (team.reviewer, "Reviewer"),
        (team.annotator, "Annotator"),
        (team.viewer, "Viewer"),
    ]:
        assert user.username in html and role in html
    members = html[html.index('class="members"') :]
    assert members.index(team.manager.username) < members.index(team.viewer.username)


def test_another_teams_project_is_a_404(client, team, other_team):
    client.force_login(team.manager)
    assert client.get(reverse("project-detail", args=[other_team.project.pk])).status_code == 404
    assert client.get(reverse("project-detail", args=[987654])).status_code == 404


def test_project_name_is_escaped(client, team):
    client.force_login(team.manager)
    client.post(reverse("project-list"), {"name": XSS, "description": XSS})
    project = Project.objects.get(name=XSS)
    for url in (reverse("project-list"), reverse("project-detail", args=[project.pk])):
        html = client.get(url).content.decode()
        assert XSS not in html
        assert ESCAPED in html
