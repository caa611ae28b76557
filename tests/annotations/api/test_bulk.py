"""POST /images/bulk/: the grid's bulk verdict and split changes."""

import pytest

from annotations.models import Annotation, AnnotationRevision, Image, Membership, Role
from annotations.services import bulk
from annotations.services.annotations import RegionInput
from annotations.services.bulk import images_bulk_update
from tests.annotations.api.helpers import API
from tests.frontend.helpers import add_image, label

BOX = {"x": 1.0, "y": 1.0, "width": 4.0, "height": 3.0}


@pytest.fixture
def images(team):
    """team.image plus three more; the last one is already defective and in test."""
    more = [add_image(team.collection, f"{n}.png", seed=n + 10) for n in range(3)]
    label(more[2], author=team.reviewer, verdict="defective")
    Image.objects.filter(pk=more[2].pk).update(split="test")
    return [team.image, *more]


def versions(images) -> list[int]:
    return [Annotation.objects.get(image=image).version for image in images]


def test_a_bulk_verdict_writes_a_revision_per_changed_image(team, images, as_user):
    response = as_user(team.annotator).post(
        f"{API}/images/bulk/", {"images": [i.pk for i in images], "verdict": "defective"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 3, "unchanged": 1}
    assert versions(images) == [1, 1, 1, 1]
    for image in images[:3]:
        annotation = Annotation.objects.get(image=image)
        assert (annotation.verdict, annotation.updated_by) == ("defective", team.annotator)
        revision = AnnotationRevision.objects.get(annotation=annotation)
        assert (revision.version, revision.verdict, revision.author) == (1, "defective", team.annotator)
        assert (revision.reason, revision.comment) == ("manual_edit", "bulk change")
    # Already defective: left alone, no revision of ours.
    assert AnnotationRevision.objects.get(annotation__image=images[3]).author == team.reviewer


def test_a_bulk_move_changes_the_split(team, images, as_user):
    response = as_user(team.annotator).post(
        f"{API}/images/bulk/", {"images": [i.pk for i in images], "split": "test"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json() == {"changed": 3, "unchanged": 1}
    assert set(Image.objects.values_list("split", flat=True)) == {"test"}
    assert not AnnotationRevision.objects.filter(author=team.annotator).exists()


def test_verdict_and_split_together(team, images, as_user):
    body = {"images": [images[2].pk, images[3].pk], "verdict": "defective", "split": "test"}
    response = as_user(team.reviewer).post(f"{API}/images/bulk/", body, format="json")
    assert response.json() == {"changed": 1, "unchanged": 1}
    assert Image.objects.get(pk=images[2].pk).split == "test"


def test_a_viewer_cannot_bulk_change(team, images, as_user):
    response = as_user(team.viewer).post(
        f"{API}/images/bulk/", {"images": [i.pk for i in images], "verdict": "normal"}, format="json"
    )
    assert response.status_code == 403
    assert "needs the annotator role or above" in response.json()["detail"]
    assert versions(images) == [0, 0, 0, 1]


@pytest.mark.parametrize("foreign", ["other team", "missing"])
def test_one_image_that_does_not_exist_for_you_and_nothing_changes(
    team, other_team, images, as_user, foreign
):
    stranger = other_team.image.pk if foreign == "other team" else 10**9
    body = {"images": [images[0].pk, stranger], "verdict": "normal", "split": "train"}

    response = as_user(team.manager).post(f"{API}/images/bulk/", body, format="json")

    assert response.status_code == 404
    assert versions([images[0], other_team.image]) == [0, 0]
    assert set(Image.objects.values_list("split", flat=True)) == {"unassigned", "test"}


def test_images_of_two_projects_are_refused(team, other_team, images, as_user):
    Membership.objects.create(project=other_team.project, user=team.manager, role=Role.MANAGER)
    body = {"images": [images[0].pk, other_team.image.pk], "verdict": "normal"}
    response = as_user(team.manager).post(f"{API}/images/bulk/", body, format="json")
    assert response.status_code == 400
    assert "several projects" in str(response.json())
    assert versions([images[0], other_team.image]) == [0, 0]


@pytest.mark.parametrize(
    "body",
    [
        {"images": []},
        {"images": [1]},
        {"images": [1], "verdict": "broken"},
        {"images": [1], "split": "validation"},
        {"images": "1", "verdict": "normal"},
    ],
)
def test_bad_requests_are_refused(team, as_user, body):
    response = as_user(team.manager).post(f"{API}/images/bulk/", body, format="json")
    assert response.status_code == 400, response.content


def test_an_edit_made_meanwhile_stays_in_the_history(team, as_user):
    """Someone labels an image after the grid was loaded: the bulk change lands on top of their
    labels (their box is kept) and both changes are revisions."""
    image = team.image
    label(
        image,
        author=team.reviewer,
        verdict="defective",
        regions=[RegionInput(kind="box", geometry=BOX, defect_type_id=team.defect_type.pk)],
    )

    response = as_user(team.annotator).post(
        f"{API}/images/bulk/", {"images": [image.pk], "verdict": "unsure"}, format="json"
    )

    assert response.json() == {"changed": 1, "unchanged": 0}
    annotation = Annotation.objects.get(image=image)
    assert (annotation.verdict, annotation.version) == ("unsure", 2)
    assert list(annotation.regions.values_list("kind", "geometry")) == [("box", BOX)]
    history = AnnotationRevision.objects.filter(annotation=annotation).order_by("version")
    assert [(r.version, r.verdict, r.author, r.comment) for r in history] == [
        (1, "defective", team.reviewer, ""),
        (2, "unsure", team.annotator, "bulk change"),
    ]
    assert [len(r.regions) for r in history] == [1, 1]


def test_a_failure_half_way_changes_nothing(team, images, monkeypatch):
    calls = []

    def failing(**kwargs):
        calls.append(kwargs["annotation_id"])
        if len(calls) == 2:
            raise RuntimeError("the database went away")
        return real(**kwargs)

    real = bulk.annotation_update
    monkeypatch.setattr(bulk, "annotation_update", failing)
    with pytest.raises(RuntimeError):
        images_bulk_update(
            image_ids=[i.pk for i in images], author=team.annotator, verdict="normal", split="train"
        )

    assert len(calls) == 2
    assert versions(images) == [0, 0, 0, 1]
    assert not AnnotationRevision.objects.filter(author=team.annotator).exists()
