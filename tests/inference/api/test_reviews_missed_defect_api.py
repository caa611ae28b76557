"""A missed defect's boxes carry a defect type of the image's collection, and nothing else."""

import pytest

from annotations.models import Annotation, Verdict
from annotations.services.projects import defect_type_get_or_create
from inference.models import Review
from tests.annotations.api.helpers import API
from tests.inference.helpers import scored_version


@pytest.fixture
def item(team, as_user):
    version = scored_version(team.collection, {team.image: 0.8})
    return as_user(team.reviewer).post(f"{API}/reviews/next/", {"model_version": version.pk}).json()


def missed(item, defect_type: int | None) -> dict:
    box = {"x": 2, "y": 3, "width": 5, "height": 4}
    return {
        "prediction": item["prediction"]["id"],
        "decision": "missed_defect",
        "version": item["annotation"]["version"],
        "regions": [{"kind": "box", "geometry": box, "precision": "rough", "defect_type": defect_type}],
    }


def test_a_missed_defect_box_is_stored_with_its_defect_type(team, item, as_user):
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")

    response = as_user(team.reviewer).post(f"{API}/reviews/", missed(item, dent.pk), format="json")

    assert response.status_code == 201, response.content
    annotation = Annotation.objects.get(image=team.image)
    assert annotation.verdict == Verdict.DEFECTIVE
    (region,) = annotation.regions.all()
    assert (region.kind, region.precision, region.defect_type_id) == ("box", "rough", dent.pk)
    assert region.geometry == {"x": 2.0, "y": 3.0, "width": 5.0, "height": 4.0}


def test_another_collections_defect_type_is_a_400_and_changes_nothing(team, other_team, item, as_user):
    response = as_user(team.reviewer).post(
        f"{API}/reviews/", missed(item, other_team.defect_type.pk), format="json"
    )

    assert response.status_code == 400
    assert "do not exist in this image's collection" in str(response.json()["regions"])
    assert not Review.objects.exists()
    annotation = Annotation.objects.get(image=team.image)
    assert (annotation.version, annotation.verdict) == (0, Verdict.UNLABELED)
    assert not annotation.regions.exists()
