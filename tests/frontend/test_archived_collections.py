"""Archived collections on the pages: out of the lists and pickers unless asked for, open read-only,
every write refused with the reason, restorable as they were (tests/annotations/api/test_archived.py:
the API's refusals)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from annotations.models import Collection, DefectType, Image
from annotations.services.projects import collection_archive
from inference.models import Job
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.frontend.test_setup_pages import messages_of
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db

READ_ONLY = "is archived, so it is read-only"


@pytest.fixture
def archived(team) -> Collection:
    """The team's collection, archived, beside an open one."""
    Collection.objects.create(project=team.project, name="Open line")
    return collection_archive(collection=team.collection)


def test_archiving_through_the_settings_page_hides_the_collection_from_the_lists(client, team):
    client.force_login(team.manager)

    response = client.post(reverse("collection-archive", args=[team.collection.pk]))

    assert response["Location"] == reverse("project-detail", args=[team.project.pk])
    assert Collection.objects.get(pk=team.collection.pk).archived_at is not None
    project_page = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    listing = client.get(reverse("project-list")).content.decode()
    link = reverse("collection-detail", args=[team.collection.pk])
    assert link not in project_page and link not in listing
    assert "Show archived (1)" in project_page


def test_show_archived_lists_it_with_a_restore_button_for_managers(client, team, archived):
    client.force_login(team.manager)
    html = client.get(reverse("project-detail", args=[team.project.pk]) + "?archived=1").content.decode()
    assert reverse("collection-detail", args=[archived.pk]) in html
    assert "archived</span>" in html
    assert reverse("collection-restore", args=[archived.pk]) in html
    assert "Hide archived" in html


def test_the_station_picker_offers_open_collections_only(client, team, archived):
    client.force_login(team.manager)
    html = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    picker = html[html.index('name="collection"') : html.index("</select>", html.index('name="collection"'))]
    assert "Open line" in picker and archived.name not in picker


def test_the_collection_page_opens_read_only(client, team, archived):
    client.force_login(team.manager)
    html = client.get(reverse("collection-detail", args=[archived.pk])).content.decode()
    assert "read-only" in html
    assert reverse("collection-upload", args=[archived.pk]) not in html
    assert "first.png" in html  # everything is kept and shown
    settings_page = client.get(reverse("collection-settings", args=[archived.pk])).content.decode()
    assert reverse("collection-defect-type-add", args=[archived.pk]) not in settings_page
    assert reverse("collection-rename", args=[archived.pk]) not in settings_page
    assert reverse("collection-restore", args=[archived.pk]) in settings_page


def test_page_writes_into_an_archived_collection_are_refused_and_say_why(client, team, archived):
    client.force_login(team.manager)
    upload = SimpleUploadedFile("new.png", png_bytes(seed=77), content_type="image/png")

    uploaded = client.post(reverse("collection-upload", args=[archived.pk]), {"files": [upload]})
    typed = client.post(
        reverse("collection-defect-type-add", args=[archived.pk]),
        {"new-name": "dent", "new-color": "#00ff00", "new-hotkey": ""},
    )
    renamed = client.post(reverse("collection-rename", args=[archived.pk]), {"name": "Other"})
    trained = client.post(
        reverse("collection-train", args=[archived.pk]), {"algorithm": "patchcore", "image_size": 64}
    )
    toggled = client.post(reverse("collection-automation", args=[archived.pk]), {"score_new_uploads": "on"})

    for response in (uploaded, typed, renamed, trained, toggled):
        assert response.status_code == 302
        assert READ_ONLY in messages_of(response)
    assert Image.objects.filter(collection=archived).count() == 1
    assert not DefectType.objects.filter(name="dent").exists()
    assert Collection.objects.get(pk=archived.pk).name == "Team tiles"
    assert not Job.objects.exists()


def test_restoring_opens_it_again_as_it_was(client, team, archived, api_client):
    client.force_login(team.manager)

    response = client.post(reverse("collection-restore", args=[archived.pk]))

    assert response["Location"] == reverse("collection-detail", args=[archived.pk])
    assert Collection.objects.get(pk=archived.pk).archived_at is None
    assert (
        reverse("collection-detail", args=[archived.pk])
        in client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    )
    api_client.force_authenticate(user=team.manager)
    typed = api_client.post(
        f"{API}/defect-types/", {"collection": archived.pk, "name": "dent"}, format="json"
    )
    assert typed.status_code == 201


@pytest.mark.parametrize("who", ["reviewer", "annotator"])
def test_only_managers_archive_and_restore(client, team, who):
    client.force_login(getattr(team, who))
    client.post(reverse("collection-archive", args=[team.collection.pk]))
    assert Collection.objects.get(pk=team.collection.pk).archived_at is None
    collection_archive(collection=team.collection)
    client.post(reverse("collection-restore", args=[team.collection.pk]))
    assert Collection.objects.get(pk=team.collection.pk).archived_at is not None


def test_the_pages_of_an_archived_collection_offer_no_edits(client, team, archived):
    scored_version(archived, {team.image: 1.5})
    client.force_login(team.manager)
    models = client.get(reverse("collection-models", args=[archived.pk])).content.decode()
    assert 'id="promote"' not in models and "train-form" not in models
    annotate = client.get(reverse("image-annotate", args=[team.image.pk])).content.decode()
    assert '"canEdit": false' in annotate
    review = client.get(reverse("collection-review", args=[archived.pk])).content.decode()
    assert '"canReview": false' in review
