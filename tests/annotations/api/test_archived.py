"""The API refuses every write into an archived collection with a 409 that says why (images, labels,
defect types, the collection itself, jobs, review decisions) and changes nothing; reads still answer."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from annotations.models import Annotation, Collection, DefectType, Image
from annotations.services.projects import collection_archive
from inference.models import Job, Prediction, Review
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.inference.helpers import scored_version

pytestmark = pytest.mark.django_db

READ_ONLY = "is archived, so it is read-only"


@pytest.fixture
def archived(team) -> Collection:
    """The team's collection, with an image to train on and a scored model, archived."""
    Image.objects.filter(pk=team.image.pk).update(split="train")
    team.image.refresh_from_db()
    scored_version(team.collection, {team.image: 1.5}, test=False)
    return collection_archive(collection=team.collection)


def test_api_writes_into_an_archived_collection_are_a_409_and_change_nothing(team, archived, as_user):
    client = as_user(team.manager)
    image, scratch = team.image, team.defect_type
    version = Prediction.objects.get(image=image).model_version
    writes = [
        client.post(
            f"{API}/images/",
            {"collection": archived.pk, "files": [SimpleUploadedFile("n.png", png_bytes(seed=5))]},
            format="multipart",
        ),
        client.put(
            f"{API}/images/{image.pk}/annotation/",
            {"verdict": "defective", "regions": [], "version": 0},
            format="json",
        ),
        client.patch(f"{API}/images/{image.pk}/", {"split": "test"}, format="json"),
        client.post(f"{API}/images/bulk/", {"images": [image.pk], "verdict": "normal"}, format="json"),
        client.delete(f"{API}/images/{image.pk}/"),
        client.post(f"{API}/defect-types/", {"collection": archived.pk, "name": "dent"}, format="json"),
        client.patch(f"{API}/defect-types/{scratch.pk}/", {"name": "gouge"}, format="json"),
        client.delete(f"{API}/defect-types/{scratch.pk}/"),
        client.patch(f"{API}/collections/{archived.pk}/", {"name": "Renamed"}, format="json"),
        client.post(f"{API}/jobs/", {"kind": "train", "collection": archived.pk}, format="json"),
        client.post(f"{API}/jobs/", {"kind": "score", "model_version": version.pk}, format="json"),
    ]

    for response in writes:
        assert response.status_code == 409, (response.request["PATH_INFO"], response.content)
        assert READ_ONLY in response.json()["detail"]
    image.refresh_from_db()
    assert (image.split, Annotation.objects.get(image=image).version) == ("train", 0)
    assert Image.objects.filter(collection=archived).count() == 1
    assert list(DefectType.objects.filter(collection=archived).values_list("name", flat=True)) == ["scratch"]
    assert Collection.objects.get(pk=archived.pk).name == "Team tiles"
    assert not Job.objects.exists()
    # Reads still answer.
    assert client.get(f"{API}/images/{image.pk}/annotation/").status_code == 200
    assert client.get(f"{API}/collections/{archived.pk}/").status_code == 200


def test_a_review_decision_in_an_archived_collection_is_a_409(team, archived, as_user):
    prediction = Prediction.objects.get(image=team.image)

    response = as_user(team.reviewer).post(
        f"{API}/reviews/",
        {"prediction": prediction.pk, "decision": "true_defect", "version": 0},
        format="json",
    )

    assert response.status_code == 409, response.content
    assert READ_ONLY in response.json()["detail"]
    assert not Review.objects.exists()
    assert Annotation.objects.get(image=team.image).version == 0


def test_a_model_export_still_starts_it_only_reads_the_collection(team, archived, as_user):
    version = Prediction.objects.get(image=team.image).model_version
    response = as_user(team.manager).post(
        f"{API}/jobs/", {"kind": "export", "model_version": version.pk}, format="json"
    )
    assert response.status_code == 202, response.content
    assert Job.objects.get().kind == "export"


def test_managers_archive_and_restore_over_the_api_and_the_list_filters_by_it(team, as_user):
    url = f"{API}/collections/{team.collection.pk}/"
    assert as_user(team.reviewer).post(f"{url}archive/").status_code == 403
    archived = as_user(team.manager).post(f"{url}archive/")
    assert archived.status_code == 200 and archived.json()["archived_at"] is not None
    client = as_user(team.viewer)

    def names(query: dict) -> list[str]:
        return [row["name"] for row in client.get(f"{API}/collections/", query).json()["results"]]

    assert names({"archived": "true"}) == [team.collection.name] and names({"archived": "false"}) == []
    assert client.get(f"{API}/collections/", {"archived": "maybe"}).status_code == 400
    restored = as_user(team.manager).post(f"{url}restore/")
    assert restored.status_code == 200 and restored.json()["archived_at"] is None
    assert Collection.objects.get(pk=team.collection.pk).archived_at is None
