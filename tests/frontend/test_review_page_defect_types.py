"""The review page hands the queue its collection's defect types (for missed-defect boxes), no others."""

from django.urls import reverse

from annotations.models import Collection
from annotations.services.projects import defect_type_get_or_create
from tests.frontend.helpers import page_config
from tests.inference.helpers import scored_version


def test_the_page_carries_its_collections_defect_types_by_name(client, team):
    scored_version(team.collection, {team.image: 1.5})
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    sibling = Collection.objects.create(project=team.project, name="Other tiles")
    defect_type_get_or_create(collection=sibling, name="crack")
    client.force_login(team.reviewer)

    config = page_config(client.get(reverse("collection-review", args=[team.collection.pk])), "review-config")

    assert config["defectTypes"] == [
        {"id": dent.pk, "name": "dent", "color": dent.color, "hotkey": dent.hotkey},
        {
            "id": team.defect_type.pk,
            "name": "scratch",
            "color": team.defect_type.color,
            "hotkey": team.defect_type.hotkey,
        },
    ]
    assert [value for value, _ in config["reasons"]] == ["cosmetic", "dust", "lighting", "label_wrong"]
