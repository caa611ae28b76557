"""Media on S3: uploads land in the bucket, the app streams images, thumbnails and heatmaps back from it
after checking membership, and deleting a collection deletes all of its objects."""

import io

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client
from PIL import Image as PILImage

from annotations.models import Image
from inference.models import Prediction
from inference.services.heatmaps import heatmap_key
from inference.services.versions import artifact_prefix
from tests.annotations.api.helpers import API, png_bytes, results, upload
from tests.inference.helpers import ready_export, scored_version
from tests.storage.conftest import local_files

pytestmark = pytest.mark.django_db


def _body(response) -> bytes:
    return b"".join(response.streaming_content) if response.streaming else response.content


def _browser(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_uploads_are_stored_in_the_bucket_and_streamed_back_to_members_only(
    team, other_team, api_client, s3_storage, media_root
):
    contents = {"a.png": png_bytes(40, 30, seed=1), "b.png": png_bytes(40, 30, seed=2, mode="RGB")}
    api_client.force_authenticate(team.annotator)
    response = api_client.post(
        f"{API}/images/",
        {"collection": team.collection.pk, "files": [upload(n, c) for n, c in contents.items()]},
        format="multipart",
    )
    assert response.status_code == 201, response.content

    images = {image.original_name: image for image in Image.objects.filter(original_name__in=contents)}
    assert set(images) == set(contents)
    for name, image in images.items():
        assert image.file.name.startswith(f"images/{team.collection.pk}/")
        assert s3_storage.read(image.file.name) == contents[name]
        with PILImage.open(io.BytesIO(s3_storage.read(image.thumbnail.name))) as thumbnail:
            assert thumbnail.format == "JPEG"
    assert local_files(media_root) == []

    image = images["b.png"]
    original = api_client.get(f"{API}/images/{image.pk}/file/")
    assert original.status_code == 200 and _body(original) == contents["b.png"]
    thumbnail = api_client.get(f"{API}/images/{image.pk}/thumbnail/")
    assert thumbnail.status_code == 200 and _body(thumbnail) == s3_storage.read(image.thumbnail.name)

    browser = _browser(team.viewer)
    page_thumbnail = browser.get(f"/images/{image.pk}/thumbnail.jpg")
    assert page_thumbnail.status_code == 200
    assert _body(page_thumbnail) == s3_storage.read(image.thumbnail.name)
    display = browser.get(f"/images/{image.pk}/display/")
    assert display.status_code == 200 and _body(display) == contents["b.png"]

    # Another team's member learns nothing, on either route: the bucket is never handed out.
    api_client.force_authenticate(other_team.manager)
    assert api_client.get(f"{API}/images/{image.pk}/file/").status_code == 404
    assert _browser(other_team.manager).get(f"/images/{image.pk}/thumbnail.jpg").status_code == 404


def test_heatmaps_in_the_bucket_are_streamed_and_overlaid(team, api_client, s3_storage):
    version = scored_version(team.collection, {team.image: 1.5})
    prediction = Prediction.objects.get(model_version=version, image=team.image)
    assert prediction.heatmap.name == heatmap_key(version=version, image_id=team.image.pk)
    stored = s3_storage.read(prediction.heatmap.name)

    api_client.force_authenticate(team.viewer)
    [listed] = results(api_client.get(f"{API}/predictions/", {"model_version": version.pk}))
    heatmap = api_client.get(listed["heatmap"])
    assert heatmap.status_code == 200 and _body(heatmap) == stored
    overlay = api_client.get(f"{API}/model-versions/{version.pk}/images/{team.image.pk}/overlay/")
    assert overlay.status_code == 200
    with PILImage.open(io.BytesIO(_body(overlay))) as picture:  # drawn once, then kept in the bucket
        assert (picture.mode, picture.size) == ("RGB", (team.image.width, team.image.height))


def test_deleting_a_collection_deletes_every_object_it_has(
    team, other_team, api_client, s3_storage, django_capture_on_commit_callbacks
):
    mine, theirs = team.collection.pk, other_team.collection.pk
    for collection in (team.collection, other_team.collection):
        version = scored_version(collection, {collection.images.get(): 0.5})
        version.artifact_prefix = artifact_prefix(collection_id=collection.pk, version_id=version.pk)
        version.save(update_fields=["artifact_prefix"])
        default_storage.save(f"{version.artifact_prefix}/model.json", ContentFile(b"{}"))
        ready_export(version)
    areas = ("images", "thumbnails", "models", "predictions")
    before = s3_storage.keys()
    # Every area holds something of each collection, so the deletion below has something to miss.
    assert all(any(k.startswith(f"{area}/{mine}/") for k in before) for area in areas)
    kept = {key for key in before if key.split("/")[1] == str(theirs)}
    assert kept and {key.split("/")[1] for key in before} == {str(mine), str(theirs)}

    api_client.force_authenticate(team.manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = api_client.delete(f"{API}/collections/{mine}/")

    assert response.status_code == 204
    assert s3_storage.keys() == kept
