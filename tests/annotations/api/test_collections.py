from annotations.models import Collection, DefectType, Image
from tests.annotations.api.helpers import API, media_files, results


def test_a_manager_creates_and_renames_a_collection_with_defect_types(team, as_user):
    client = as_user(team.manager)

    created = client.post(
        f"{API}/collections/", {"project": team.project.pk, "name": "Bottles"}, format="json"
    )
    assert created.status_code == 201, created.content
    collection_id = created.json()["id"]
    clash = client.post(f"{API}/collections/", {"project": team.project.pk, "name": "Bottles"}, format="json")
    assert clash.status_code == 400
    renamed = client.patch(f"{API}/collections/{collection_id}/", {"name": "Jars"}, format="json")
    assert renamed.json()["name"] == "Jars"

    crack = client.post(f"{API}/defect-types/", {"collection": collection_id, "name": "crack"}, format="json")
    dent = client.post(
        f"{API}/defect-types/",
        {"collection": collection_id, "name": "dent", "color": "#00ff00"},
        format="json",
    )
    bad_color = client.post(
        f"{API}/defect-types/", {"collection": collection_id, "name": "x", "color": "red"}, format="json"
    )

    assert (crack.status_code, dent.status_code, bad_color.status_code) == (201, 201, 400)
    assert (crack.json()["color"], crack.json()["hotkey"]) == ("#e6194b", "1")
    assert (dent.json()["color"], dent.json()["hotkey"]) == ("#00ff00", "2")
    listed = results(client.get(f"{API}/defect-types/?collection={collection_id}"))
    assert sorted(d["name"] for d in listed) == ["crack", "dent"]


def test_a_defect_type_in_use_cannot_be_deleted(team, as_user):
    client = as_user(team.manager)
    client.put(
        f"{API}/images/{team.image.pk}/annotation/",
        {
            "verdict": "defective",
            "regions": [{"kind": "point", "geometry": {"x": 1, "y": 1}, "defect_type": team.defect_type.pk}],
            "version": 0,
        },
        format="json",
    )

    response = client.delete(f"{API}/defect-types/{team.defect_type.pk}/")

    assert response.status_code == 400
    assert "used by 1 labeled region" in response.json()["detail"]
    assert DefectType.objects.filter(pk=team.defect_type.pk).exists()


def test_deleting_a_collection_deletes_its_images_and_files(
    team, as_user, media_root, django_capture_on_commit_callbacks
):
    client = as_user(team.manager)
    client.put(
        f"{API}/images/{team.image.pk}/annotation/",
        {
            "verdict": "defective",
            "regions": [{"kind": "point", "geometry": {"x": 1, "y": 1}, "defect_type": team.defect_type.pk}],
            "version": 0,
        },
        format="json",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = client.delete(f"{API}/collections/{team.collection.pk}/")

    assert response.status_code == 204
    assert not Collection.objects.filter(pk=team.collection.pk).exists()
    assert not Image.objects.filter(pk=team.image.pk).exists()
    assert media_files(media_root) == set()


def test_a_manager_deletes_an_image_and_its_files(
    team, as_user, media_root, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = as_user(team.manager).delete(f"{API}/images/{team.image.pk}/")

    assert response.status_code == 204
    assert not Image.objects.filter(pk=team.image.pk).exists()
    assert media_files(media_root) == set()
