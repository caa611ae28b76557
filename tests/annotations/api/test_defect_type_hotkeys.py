"""The API keeps the same hotkey rules as the collection settings page (one service): a hotkey taken by
another type of the collection, in any case, or one of the annotator's own keys is a 400 on `hotkey`."""

import pytest

from annotations.models import DefectType
from tests.annotations.api.helpers import API

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(("hotkey", "error"), [("1", "already the hotkey"), ("B", "annotator's own keys")])
def test_a_clashing_hotkey_is_refused_on_create_and_on_change(team, as_user, hotkey, error):
    client = as_user(team.manager)
    dent = DefectType.objects.create(collection=team.collection, name="dent", hotkey="7")

    created = client.post(
        f"{API}/defect-types/",
        {"collection": team.collection.pk, "name": "crack", "hotkey": hotkey},
        format="json",
    )
    changed = client.patch(f"{API}/defect-types/{dent.pk}/", {"hotkey": hotkey}, format="json")

    for response in (created, changed):
        assert response.status_code == 400, response.content
        assert error in response.json()["hotkey"][0]
    assert not DefectType.objects.filter(name="crack").exists()
    assert DefectType.objects.get(pk=dent.pk).hotkey == "7"


def test_a_new_type_without_a_hotkey_gets_the_next_free_digit(team, as_user):
    client = as_user(team.manager)
    DefectType.objects.create(collection=team.collection, name="dent", hotkey="2")

    created = client.post(
        f"{API}/defect-types/", {"collection": team.collection.pk, "name": "crack"}, format="json"
    )

    assert created.status_code == 201
    assert created.json()["hotkey"] == "3"  # "1" is scratch's, "2" dent's
