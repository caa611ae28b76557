import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotations.models import Image
from frontend.views import annotate as views
from tests.conftest import png_bytes
from tests.frontend.helpers import add_image, page_config


def config_of(response) -> dict:
    return page_config(response, "annotator-config")


def test_annotator_page_carries_its_configuration(client, team):
    second = add_image(team.collection, "second.png", seed=5)
    client.force_login(team.annotator)
    response = client.get(reverse("image-annotate", args=[team.image.pk]))
    assert response.status_code == 200
    config = config_of(response)
    assert config["imageId"] == team.image.pk
    assert (config["width"], config["height"]) == (32, 24)
    assert config["canEdit"] is True
    assert config["annotationUrl"] == f"/api/v1/images/{team.image.pk}/annotation/"
    assert config["displayUrl"] == reverse("image-display", args=[team.image.pk])
    assert config["previousUrl"] is None
    assert config["nextUrl"] == reverse("image-annotate", args=[second.pk])
    assert config["defectTypes"] == [
        {"id": team.defect_type.pk, "name": "scratch", "color": team.defect_type.color, "hotkey": "1"}
    ]
    # The image page and the grid link here.
    assert (
        reverse("image-annotate", args=[team.image.pk])
        in client.get(reverse("image-detail", args=[team.image.pk])).content.decode()
    )
    assert (
        reverse("image-annotate", args=[team.image.pk])
        in client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    )


def test_viewers_get_it_read_only_and_other_teams_a_404(client, team, other_team):
    client.force_login(team.viewer)
    config = config_of(client.get(reverse("image-annotate", args=[team.image.pk])))
    assert config["canEdit"] is False
    assert config["role"] == "viewer"
    assert client.get(reverse("image-annotate", args=[other_team.image.pk])).status_code == 404


def test_unbuilt_front_end_is_named(client, team, monkeypatch):
    monkeypatch.setattr(views, "ANNOTATOR_BUNDLE", "frontend/dist/not-there.js")
    client.force_login(team.annotator)
    html = client.get(reverse("image-annotate", args=[team.image.pk])).content.decode()
    assert "not built" in html
    assert "make install" in html


def test_grid_upload_stores_good_files_and_names_bad_ones(client, team):
    client.force_login(team.annotator)
    url = reverse("collection-upload", args=[team.collection.pk])
    files = [
        SimpleUploadedFile("new.png", png_bytes(seed=11), content_type="image/png"),
        SimpleUploadedFile("again.png", png_bytes(seed=sum(map(ord, "Team"))), content_type="image/png"),
        SimpleUploadedFile("broken.png", b"\x89PNG not really", content_type="image/png"),
    ]
    response = client.post(url, {"files": files}, follow=True)
    html = response.content.decode()
    assert "1 image added; 1 was already in the collection." in html
    assert "broken.png: the file is not an image in an accepted format" in html
    assert Image.objects.filter(collection=team.collection, original_name="new.png").exists()
    assert Image.objects.filter(collection=team.collection).count() == 2
    # The upload form is on the grid for annotators.
    assert url in html


@pytest.mark.parametrize("member", ["viewer"])
def test_grid_upload_needs_an_annotator(client, team, member):
    client.force_login(getattr(team, member))
    url = reverse("collection-upload", args=[team.collection.pk])
    assert url not in client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    files = [SimpleUploadedFile("new.png", png_bytes(seed=11), content_type="image/png")]
    response = client.post(url, {"files": files}, follow=True)
    assert "Only annotators, reviewers and managers can upload images." in response.content.decode()
    assert Image.objects.filter(collection=team.collection).count() == 1


def test_grid_upload_of_another_team_is_a_404(client, team, other_team):
    client.force_login(team.manager)
    url = reverse("collection-upload", args=[other_team.collection.pk])
    files = [SimpleUploadedFile("new.png", png_bytes(seed=11), content_type="image/png")]
    assert client.post(url, {"files": files}).status_code == 404
