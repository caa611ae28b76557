import pytest

from annotations.models import Annotation, AnnotationRevision, Collection
from annotations.services.projects import defect_type_get_or_create
from tests.annotations.api.helpers import API, results

BOX = {"x": 2, "y": 3, "width": 10, "height": 8}


def url(image) -> str:
    return f"{API}/images/{image.pk}/annotation/"


def labels(team, version, verdict="defective", geometry=BOX):
    return {
        "verdict": verdict,
        "regions": [
            {"kind": "box", "geometry": geometry, "precision": "rough", "defect_type": team.defect_type.pk}
        ],
        "version": version,
    }


def test_get_carries_an_etag_of_the_image_and_version(team, as_user):
    response = as_user(team.viewer).get(url(team.image))

    assert response.status_code == 200
    assert response["ETag"] == f'"image-{team.image.pk}-v0"'
    assert response.json()["etag"] == response["ETag"]
    assert response.json()["verdict"] == "unlabeled"


def test_put_replaces_the_labels_and_answers_the_new_etag(team, as_user):
    response = as_user(team.annotator).put(url(team.image), labels(team, 0), format="json")

    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"image-{team.image.pk}-v1"'
    body = response.json()
    assert (body["verdict"], body["version"], body["updated_by"]) == ("defective", 1, team.annotator.username)
    assert [(r["kind"], r["precision"], r["defect_type"]) for r in body["regions"]] == [
        ("box", "rough", team.defect_type.pk)
    ]
    assert body["regions"][0]["geometry"] == {"x": 2.0, "y": 3.0, "width": 10.0, "height": 8.0}


def test_if_match_alone_names_the_version(team, as_user):
    client = as_user(team.annotator)
    etag = client.get(url(team.image))["ETag"]
    body = {"verdict": "normal", "regions": []}

    response = client.put(url(team.image), body, format="json", HTTP_IF_MATCH=etag)

    assert response.status_code == 200, response.content
    assert Annotation.objects.get(image=team.image).verdict == "normal"


def test_a_stale_write_is_a_412_and_loses_nothing(team, as_user, api_client):
    first = as_user(team.annotator).put(url(team.image), labels(team, 0), format="json")
    assert first.status_code == 200

    second = as_user(team.reviewer).put(url(team.image), labels(team, 0, verdict="normal"), format="json")

    assert second.status_code == 412
    assert second.json()["current_version"] == 1
    assert second.json()["etag"] == f'"image-{team.image.pk}-v1"'
    annotation = Annotation.objects.get(image=team.image)
    assert (annotation.verdict, annotation.version, annotation.updated_by) == ("defective", 1, team.annotator)
    assert annotation.regions.count() == 1
    assert AnnotationRevision.objects.filter(annotation=annotation).count() == 1


def test_a_stale_if_match_is_a_412(team, as_user):
    client = as_user(team.annotator)
    stale = client.get(url(team.image))["ETag"]
    assert client.put(url(team.image), labels(team, 0), format="json").status_code == 200

    response = client.patch(url(team.image), {"verdict": "normal"}, format="json", HTTP_IF_MATCH=stale)

    assert response.status_code == 412
    assert Annotation.objects.get(image=team.image).verdict == "defective"


@pytest.mark.parametrize(
    "if_match", ["*", '"image-999999-v0"', '"image-{image}-v99999999999999999999"', '"image-{image}-v²"']
)
def test_an_if_match_that_names_no_version_of_this_annotation_is_a_412(team, as_user, if_match):
    response = as_user(team.annotator).put(
        url(team.image),
        {"verdict": "normal", "regions": []},
        format="json",
        HTTP_IF_MATCH=if_match.format(image=team.image.pk),
    )

    assert response.status_code == 412
    assert Annotation.objects.get(image=team.image).version == 0


@pytest.mark.parametrize("if_match", ["garbage", "image-1-v0", '"image-1-v0", oops'])
def test_a_malformed_if_match_is_a_400_that_says_what_to_send(team, as_user, if_match):
    response = as_user(team.annotator).put(
        url(team.image), {"verdict": "normal", "regions": []}, format="json", HTTP_IF_MATCH=if_match
    )

    assert response.status_code == 400
    assert "quotes included" in response.json()["If-Match"][0]
    assert Annotation.objects.get(image=team.image).version == 0


def test_body_version_and_if_match_must_agree(team, as_user):
    response = as_user(team.annotator).put(
        url(team.image), labels(team, 3), format="json", HTTP_IF_MATCH=f'"image-{team.image.pk}-v0"'
    )

    assert response.status_code == 400
    assert Annotation.objects.get(image=team.image).version == 0


@pytest.mark.parametrize("method", ["put", "patch"])
def test_a_write_without_a_version_is_a_428(team, as_user, method):
    body = labels(team, 0)
    del body["version"]

    response = getattr(as_user(team.annotator), method)(url(team.image), body, format="json")

    assert response.status_code == 428
    assert "version" in response.json()["detail"]
    assert Annotation.objects.get(image=team.image).version == 0


def test_patch_changes_only_what_it_names(team, as_user):
    client = as_user(team.annotator)
    client.put(url(team.image), labels(team, 0), format="json")

    response = client.patch(url(team.image), {"verdict": "unsure", "version": 1}, format="json")

    assert response.status_code == 200
    assert response.json()["verdict"] == "unsure"
    assert len(response.json()["regions"]) == 1


def test_put_needs_the_whole_state(team, as_user):
    response = as_user(team.annotator).put(
        url(team.image), {"verdict": "normal", "version": 0}, format="json"
    )

    assert response.status_code == 400
    assert "regions" in response.json()


@pytest.mark.parametrize(
    "geometry, message",
    [
        ({"x": 30, "y": 3, "width": 10, "height": 8}, "outside the 32×24 image"),
        ({"x": 2, "y": 3, "width": 0, "height": 8}, "positive width"),
        ("not an object", "geometry must be an object"),
    ],
)
def test_bad_geometry_is_a_400_with_its_message(team, as_user, geometry, message):
    response = as_user(team.annotator).put(url(team.image), labels(team, 0, geometry=geometry), format="json")

    assert response.status_code == 400
    assert message in str(response.json()["regions"])
    assert Annotation.objects.get(image=team.image).version == 0


def test_a_defect_type_of_another_collection_is_a_400(team, as_user):
    elsewhere = Collection.objects.create(project=team.project, name="elsewhere")
    foreign, _ = defect_type_get_or_create(collection=elsewhere, name="dent")
    body = labels(team, 0)
    body["regions"][0]["defect_type"] = foreign.pk

    response = as_user(team.annotator).put(url(team.image), body, format="json")

    assert response.status_code == 400
    assert "do not exist in this image's collection" in str(response.json()["regions"])
    assert Annotation.objects.get(image=team.image).version == 0


def test_every_change_leaves_a_revision_in_order_with_author_and_reason(team, as_user):
    as_user(team.annotator).put(url(team.image), labels(team, 0), format="json")
    as_user(team.reviewer).patch(url(team.image), {"verdict": "unsure", "version": 1}, format="json")
    as_user(team.manager).put(
        url(team.image), {"verdict": "normal", "regions": [], "version": 2}, format="json"
    )

    revisions = results(as_user(team.viewer).get(f"{API}/images/{team.image.pk}/revisions/"))

    assert [(r["version"], r["verdict"], r["author"], r["reason"]) for r in revisions] == [
        (1, "defective", team.annotator.username, "manual_edit"),
        (2, "unsure", team.reviewer.username, "manual_edit"),
        (3, "normal", team.manager.username, "manual_edit"),
    ]
    assert [len(r["regions"]) for r in revisions] == [1, 1, 0]
    assert revisions[0]["regions"][0]["defect_type_name"] == "scratch"


def test_revisions_page_oldest_first(team, as_user):
    client = as_user(team.annotator)
    for version in range(3):
        client.patch(
            url(team.image), {"verdict": ["normal", "unsure"][version % 2], "version": version}, format="json"
        )

    first = client.get(f"{API}/images/{team.image.pk}/revisions/?page_size=2").json()
    second = client.get(first["next"]).json()

    assert [r["version"] for r in first["results"] + second["results"]] == [1, 2, 3]


def test_a_patch_writes_its_regions_whole_with_their_defaults_and_refuses_half_regions(team, as_user):
    client = as_user(team.annotator)
    box = {"kind": "box", "geometry": {"x": 1, "y": 1, "width": 4, "height": 3}}
    response = client.patch(url(team.image), {"regions": [box], "version": 0}, format="json")
    assert response.status_code == 200, response.content
    (region,) = response.json()["regions"]
    assert (region["precision"], region["defect_type"]) == ("exact", None)
    half = client.patch(
        url(team.image), {"regions": [{"geometry": box["geometry"]}], "version": 1}, format="json"
    )
    assert half.status_code == 400 and "kind" in str(half.json())
    assert Annotation.objects.get(image=team.image).version == 1
