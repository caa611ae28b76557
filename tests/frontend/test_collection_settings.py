"""A collection's settings page: managers rename it, archive and restore it, add, change and delete its
defect types (hotkeys one key, free in the collection, none of the annotator's), and set what it does
by itself; other members read the page and their POSTs change nothing."""

import pytest
from django.urls import reverse

from annotations.models import Collection, DefectType
from annotations.services.projects import RESERVED_HOTKEYS
from inference.models import LearningSettings
from tests.frontend.helpers import label, mask_region
from tests.frontend.test_setup_pages import messages_of

pytestmark = pytest.mark.django_db


def type_post(prefix: str, name: str, color: str = "#123abc", hotkey: str = "") -> dict:
    return {f"{prefix}-name": name, f"{prefix}-color": color, f"{prefix}-hotkey": hotkey}


def test_a_manager_sees_every_form(client, team):
    client.force_login(team.manager)
    response = client.get(reverse("collection-settings", args=[team.collection.pk]))
    html = response.content.decode()
    assert response.status_code == 200
    for name in (
        "collection-rename",
        "collection-archive",
        "collection-defect-type-add",
        "collection-automation",
    ):
        assert reverse(name, args=[team.collection.pk]) in html, name
    assert 'type="color"' in html
    assert "Score new uploads with the production version" in html
    assert "Promote a better child automatically" in html
    assert "<kbd>b</kbd>" in html  # the annotator's own keys are listed


@pytest.mark.parametrize("who", ["reviewer", "annotator", "viewer"])
def test_other_members_read_the_settings_and_their_posts_change_nothing(client, team, who):
    client.force_login(getattr(team, who))
    collection, scratch = team.collection, team.defect_type

    html = client.get(reverse("collection-settings", args=[collection.pk])).content.decode()
    posts = [
        (reverse("collection-rename", args=[collection.pk]), {"name": "Renamed"}),
        (reverse("collection-archive", args=[collection.pk]), {}),
        (reverse("collection-defect-type-add", args=[collection.pk]), type_post("new", "dent")),
        (
            reverse("collection-defect-type-change", args=[collection.pk, scratch.pk]),
            type_post(f"type-{scratch.pk}", "gouge"),
        ),
        (reverse("collection-defect-type-delete", args=[collection.pk, scratch.pk]), {}),
        (reverse("collection-automation", args=[collection.pk]), {"score_new_uploads": "on"}),
    ]
    responses = [client.post(url, data) for url, data in posts]

    assert "scratch" in html and "Managers change these settings" in html
    assert reverse("collection-defect-type-add", args=[collection.pk]) not in html
    assert all(r.status_code == 302 for r in responses)
    assert "Only managers" in messages_of(responses[0])
    collection.refresh_from_db()
    assert (collection.name, collection.archived_at) == ("Team tiles", None)
    assert list(DefectType.objects.filter(collection=collection).values_list("name", flat=True)) == [
        "scratch"
    ]
    assert not LearningSettings.objects.exists()


def test_another_teams_collection_settings_are_a_404(client, team, other_team):
    client.force_login(team.manager)
    collection, scratch = other_team.collection, other_team.defect_type
    assert client.get(reverse("collection-settings", args=[collection.pk])).status_code == 404
    for url in (
        reverse("collection-rename", args=[collection.pk]),
        reverse("collection-archive", args=[collection.pk]),
        reverse("collection-defect-type-delete", args=[collection.pk, scratch.pk]),
        # Another collection's defect type through one's own collection's route.
        reverse("collection-defect-type-delete", args=[team.collection.pk, scratch.pk]),
    ):
        assert client.post(url, {"name": "x"}).status_code == 404, url
    assert DefectType.objects.filter(pk=scratch.pk).exists()
    assert Collection.objects.get(pk=collection.pk).archived_at is None


def test_a_manager_renames_the_collection_and_a_taken_name_is_refused(client, team):
    Collection.objects.create(project=team.project, name="Bolts")
    client.force_login(team.manager)
    url = reverse("collection-rename", args=[team.collection.pk])

    taken = client.post(url, {"name": "Bolts", "description": ""})
    renamed = client.post(url, {"name": "Floor tiles", "description": "line 2"})

    assert taken.status_code == 200 and "already has a collection" in taken.content.decode()
    assert renamed.status_code == 302
    team.collection.refresh_from_db()
    assert (team.collection.name, team.collection.description) == ("Floor tiles", "line 2")


def test_a_manager_adds_two_defect_types_with_colours_and_hotkeys(client, team):
    client.force_login(team.manager)
    url = reverse("collection-defect-type-add", args=[team.collection.pk])

    dent = client.post(url, type_post("new", "dent", "#00AA00", "k"))
    crack = client.post(url, type_post("new", "crack", "#0000ff"))

    assert dent.status_code == crack.status_code == 302
    made = {d.name: (d.color, d.hotkey) for d in DefectType.objects.filter(collection=team.collection)}
    # Left empty, the hotkey is the next digit no type holds ("1" is scratch's).
    assert made == {
        "scratch": (team.defect_type.color, "1"),
        "dent": ("#00aa00", "k"),
        "crack": ("#0000ff", "2"),
    }
    assert "“dent” added (key k)" in messages_of(dent)


@pytest.mark.parametrize(
    ("hotkey", "error"),
    [
        ("1", "already the hotkey of defect type &#x27;scratch&#x27;"),
        ("b", "one of the annotator&#x27;s own keys"),
        ("N", "one of the annotator&#x27;s own keys"),  # keys are read ignoring case
        (" ", "one of the annotator&#x27;s own keys"),
    ],
)
def test_a_hotkey_that_clashes_is_refused_and_nothing_is_made(client, team, hotkey, error):
    client.force_login(team.manager)

    response = client.post(
        reverse("collection-defect-type-add", args=[team.collection.pk]),
        type_post("new", "dent", hotkey=hotkey),
    )

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not DefectType.objects.filter(name="dent").exists()


def test_a_hotkey_of_two_characters_is_refused_by_the_form(client, team):
    client.force_login(team.manager)
    response = client.post(
        reverse("collection-defect-type-add", args=[team.collection.pk]),
        type_post("new", "dent", hotkey="ab"),
    )
    assert response.status_code == 200
    assert not DefectType.objects.filter(name="dent").exists()


def test_a_defect_type_name_taken_in_the_collection_is_refused(client, team):
    client.force_login(team.manager)
    response = client.post(
        reverse("collection-defect-type-add", args=[team.collection.pk]), type_post("new", "scratch")
    )
    assert response.status_code == 200
    assert "already has a defect type" in response.content.decode()
    assert DefectType.objects.filter(collection=team.collection).count() == 1


def test_a_manager_renames_recolours_and_rekeys_a_defect_type(client, team):
    scratch = team.defect_type
    client.force_login(team.manager)

    response = client.post(
        reverse("collection-defect-type-change", args=[team.collection.pk, scratch.pk]),
        type_post(f"type-{scratch.pk}", "deep scratch", "#FF8800", "7"),
    )

    assert response.status_code == 302
    scratch.refresh_from_db()
    assert (scratch.name, scratch.color, scratch.hotkey) == ("deep scratch", "#ff8800", "7")


def test_a_defect_type_keeps_its_own_hotkey_when_saved_again(client, team):
    scratch = team.defect_type
    client.force_login(team.manager)
    client.post(
        reverse("collection-defect-type-change", args=[team.collection.pk, scratch.pk]),
        type_post(f"type-{scratch.pk}", "scratch", "#123456", "1"),
    )
    scratch.refresh_from_db()
    assert (scratch.color, scratch.hotkey) == ("#123456", "1")


def test_a_defect_type_in_use_is_not_deleted_and_an_unused_one_is(client, team):
    import numpy as np

    mask = np.zeros((24, 32), bool)
    mask[2:6, 3:9] = True
    label(
        team.image,
        author=team.annotator,
        verdict="defective",
        regions=[mask_region(mask, team.defect_type.pk)],
    )
    unused = DefectType.objects.create(collection=team.collection, name="dent", hotkey="2")
    client.force_login(team.manager)

    in_use = client.post(
        reverse("collection-defect-type-delete", args=[team.collection.pk, team.defect_type.pk])
    )
    deleted = client.post(reverse("collection-defect-type-delete", args=[team.collection.pk, unused.pk]))

    assert "is used by 1 labeled region(s): relabel them before deleting it" in messages_of(in_use)
    assert DefectType.objects.filter(pk=team.defect_type.pk).exists()
    assert "“dent” deleted" in messages_of(deleted)
    assert not DefectType.objects.filter(pk=unused.pk).exists()


def test_the_two_automation_toggles_are_saved_and_shown(client, team):
    client.force_login(team.manager)
    url = reverse("collection-automation", args=[team.collection.pk])

    client.post(url, {"score_new_uploads": "on"})
    first = LearningSettings.objects.get(collection=team.collection)
    client.post(url, {"promote_better_child": "on"})
    second = LearningSettings.objects.get(collection=team.collection)

    assert (first.score_new_uploads, first.promote_better_child) == (True, False)
    assert (second.score_new_uploads, second.promote_better_child) == (False, True)
    html = client.get(reverse("collection-settings", args=[team.collection.pk])).content.decode()
    assert 'name="promote_better_child" id="id_promote_better_child" checked' in html


def test_the_reserved_keys_include_every_annotator_tool_and_verdict():
    assert {"v", "b", "p", "r", "e", "s", "o", "n", "d", "u"} <= RESERVED_HOTKEYS
    assert not set("123456789") & RESERVED_HOTKEYS
