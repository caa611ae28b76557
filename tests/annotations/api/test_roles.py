import pytest

from annotations.models import Annotation, Image, Membership, Project, Role
from tests.annotations.api.helpers import API, png_bytes, upload
from tests.factories import UserFactory


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("put", "/images/{image}/annotation/", {"verdict": "normal", "regions": [], "version": 0}),
        ("patch", "/images/{image}/annotation/", {"verdict": "normal", "version": 0}),
        ("patch", "/images/{image}/", {"split": "train"}),
        ("post", "/images/", {"collection": "{collection}"}),
    ],
)
def test_a_viewer_cannot_write(team, as_user, method, path, body):
    names = {"image": team.image.pk, "collection": team.collection.pk}
    body = {key: value.format(**names) if isinstance(value, str) else value for key, value in body.items()}
    kind = "json"
    if method == "post":
        body["files"], kind = [upload("new.png", png_bytes(seed=5))], "multipart"

    response = getattr(as_user(team.viewer), method)(API + path.format(**names), body, format=kind)

    assert response.status_code == 403
    assert (
        "needs the annotator role or above; your role in this project is viewer" in response.json()["detail"]
    )
    assert Image.objects.count() == 1
    assert Annotation.objects.get(image=team.image).version == 0


def test_an_annotator_labels_and_moves_images_between_splits(team, as_user):
    client = as_user(team.annotator)

    labeled = client.put(
        f"{API}/images/{team.image.pk}/annotation/",
        {"verdict": "normal", "regions": [], "version": 0},
        format="json",
    )
    moved = client.patch(f"{API}/images/{team.image.pk}/", {"split": "train"}, format="json")

    assert labeled.status_code == 200
    assert moved.status_code == 200
    assert moved.json()["split"] == "train"
    assert Image.objects.get(pk=team.image.pk).split == "train"


@pytest.mark.parametrize(
    "method, path, body",
    [
        ("post", "/memberships/", {"project": "{project}", "username": "newcomer", "role": "viewer"}),
        ("patch", "/memberships/{membership}/", {"role": "manager"}),
        ("delete", "/memberships/{membership}/", None),
        ("patch", "/projects/{project}/", {"description": "changed"}),
        ("post", "/collections/", {"project": "{project}", "name": "new"}),
        ("patch", "/collections/{collection}/", {"name": "renamed"}),
        ("delete", "/collections/{collection}/", None),
        ("post", "/defect-types/", {"collection": "{collection}", "name": "dent"}),
        ("patch", "/defect-types/{defect_type}/", {"name": "renamed"}),
        ("delete", "/defect-types/{defect_type}/", None),
        ("delete", "/images/{image}/", None),
    ],
)
@pytest.mark.parametrize("role", ["annotator", "reviewer"])
def test_only_a_manager_manages(team, as_user, role, method, path, body):
    UserFactory(username="newcomer")
    names = {
        "project": team.project.pk,
        "membership": Membership.objects.get(user=team.viewer).pk,
        "collection": team.collection.pk,
        "defect_type": team.defect_type.pk,
        "image": team.image.pk,
    }
    if body:
        body = {
            key: int(value.format(**names)) if value.startswith("{") else value for key, value in body.items()
        }

    response = getattr(as_user(getattr(team, role)), method)(API + path.format(**names), body, format="json")

    assert response.status_code == 403, response.content
    assert (
        f"needs the manager role or above; your role in this project is {role}" in response.json()["detail"]
    )


def test_a_manager_adds_changes_and_removes_a_member(team, as_user):
    newcomer = UserFactory(username="newcomer")
    client = as_user(team.manager)

    added = client.post(
        f"{API}/memberships/",
        {"project": team.project.pk, "username": "newcomer", "role": "viewer"},
        format="json",
    )
    assert added.status_code == 201, added.content
    assert (added.json()["username"], added.json()["role"]) == ("newcomer", "viewer")
    again = client.post(
        f"{API}/memberships/",
        {"project": team.project.pk, "username": "newcomer", "role": "viewer"},
        format="json",
    )
    assert again.status_code == 400
    assert "already a member" in str(again.json())

    changed = client.patch(f"{API}/memberships/{added.json()['id']}/", {"role": "annotator"}, format="json")
    assert changed.status_code == 200
    assert Membership.objects.get(user=newcomer).role == Role.ANNOTATOR

    removed = client.delete(f"{API}/memberships/{added.json()['id']}/")
    assert removed.status_code == 204
    assert not Membership.objects.filter(user=newcomer).exists()


def test_adding_an_unknown_user_says_so(team, as_user):
    response = as_user(team.manager).post(
        f"{API}/memberships/",
        {"project": team.project.pk, "username": "nobody", "role": "viewer"},
        format="json",
    )

    assert response.status_code == 400
    assert "no account has the username or e-mail 'nobody'" in str(response.json()["username"])


def test_the_last_manager_can_neither_leave_nor_step_down(team, as_user):
    client = as_user(team.manager)
    own = Membership.objects.get(user=team.manager)

    leave = client.delete(f"{API}/memberships/{own.pk}/")
    step_down = client.patch(f"{API}/memberships/{own.pk}/", {"role": "viewer"}, format="json")

    assert leave.status_code == 400
    assert step_down.status_code == 400
    assert "a project needs at least one manager" in leave.json()["detail"]
    assert "a project needs at least one manager" in step_down.json()["detail"]
    assert Membership.objects.get(pk=own.pk).role == Role.MANAGER

    client.patch(
        f"{API}/memberships/{Membership.objects.get(user=team.reviewer).pk}/",
        {"role": "manager"},
        format="json",
    )
    assert client.delete(f"{API}/memberships/{own.pk}/").status_code == 204


def test_anyone_signed_in_creates_a_project_and_manages_it(db, as_user):
    outsider = UserFactory(username="outsider")
    client = as_user(outsider)

    response = client.post(f"{API}/projects/", {"name": "Fresh", "description": "new line"}, format="json")

    assert response.status_code == 201, response.content
    project = Project.objects.get(pk=response.json()["id"])
    assert Membership.objects.get(project=project, user=outsider).role == Role.MANAGER
    assert client.post(f"{API}/projects/", {"name": "Fresh"}, format="json").status_code == 400
    renamed = client.patch(f"{API}/projects/{project.pk}/", {"description": "better"}, format="json")
    assert renamed.json()["description"] == "better"
