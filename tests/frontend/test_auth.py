import pytest
from django.urls import reverse

PASSWORD = "correct horse battery staple"


def test_login_page_renders(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    assert b'name="username"' in response.content
    assert b'name="password"' in response.content


def test_login_then_logout(client, team):
    response = client.post(reverse("login"), {"username": team.viewer.username, "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == reverse("project-list")
    page = client.get(reverse("project-list"))
    assert page.status_code == 200
    assert team.viewer.username in page.content.decode()
    # The top bar logs out with a POST form, never a link.
    assert f'method="post" action="{reverse("logout")}"' in page.content.decode()

    assert client.get(reverse("logout")).status_code == 405
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert response["Location"] == reverse("login")
    assert client.get(reverse("project-list")).status_code == 302


def test_wrong_password_is_refused(client, team):
    response = client.post(reverse("login"), {"username": team.viewer.username, "password": "nope"})
    assert response.status_code == 200
    assert "_auth_user_id" not in client.session
    assert b"form-errors" in response.content


def test_login_follows_next(client, team):
    target = reverse("collection-detail", args=[team.collection.pk])
    response = client.post(
        f"{reverse('login')}?next={target}",
        {"username": team.viewer.username, "password": PASSWORD, "next": target},
    )
    assert response["Location"] == target


@pytest.mark.parametrize(
    "name, arg",
    [
        ("project-list", None),
        ("project-detail", "project"),
        ("collection-detail", "collection"),
        ("image-detail", "image"),
        ("image-thumbnail", "image"),
        ("image-display", "image"),
        ("image-labels", "image"),
    ],
)
def test_pages_need_a_login(client, team, name, arg):
    url = reverse(name, args=[getattr(team, arg).pk] if arg else [])
    response = client.get(url)
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={url}"
