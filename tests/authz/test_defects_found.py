"""Defects the matrix found, each pinned where it was fixed."""

from django.core.files.uploadedfile import SimpleUploadedFile

from inference.services.versions import artifact_prefix, model_version_promote
from line.services.runtime import models_forget
from tests.annotations.api.helpers import API
from tests.conftest import png_bytes
from tests.inference.helpers import scored_version


def test_a_promoted_model_whose_files_are_gone_is_a_409_that_says_so_not_a_500(team, as_user):
    version = scored_version(team.collection, {team.image: 1.5})
    version.artifact_prefix = artifact_prefix(collection_id=team.collection.pk, version_id=version.pk)
    version.save(update_fields=["artifact_prefix"])
    model_version_promote(version=version, by=team.manager)
    models_forget()

    image = SimpleUploadedFile("part.png", png_bytes(seed=5), content_type="image/png")
    answer = as_user(team.manager).post(
        f"{API}/collections/{team.collection.pk}/inspect/", {"images": [image]}, format="multipart"
    )

    assert answer.status_code == 409, answer.content
    assert f"the files of model {version.pk} are missing from storage" in answer.json()["detail"]
