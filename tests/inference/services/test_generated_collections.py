import hashlib
import io

import pytest
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.urls import reverse
from PIL import Image as PILImage

from annotations.geometry import validate_geometry
from annotations.models import AnnotationRevision, Collection, Image, Region, Verdict
from annotations.services.ingest import image_inspect
from inference.models import Prediction, Review
from inference.services import generated_collections
from inference.services.generated_collections import collection_generate

pytestmark = pytest.mark.django_db


def test_a_generated_collection_holds_real_files_labels_two_versions_and_reviews(team, monkeypatch, client):
    monkeypatch.setattr(generated_collections, "BATCH", 70)  # several batches
    seen = []
    made = collection_generate(
        collection=team.collection, count=300, user=team.manager, progress=lambda *a: seen.append(a)
    )
    assert seen[-1] == ("images", 300, 300) and len(seen) == 5
    images = list(Image.objects.filter(collection=team.collection, source="generated"))
    assert len(images) == made.images == 300
    assert len({image.sha256 for image in images}) == 300  # each a file of its own
    for image in images[::37]:
        content = default_storage.open(image.file.name).read()
        assert hashlib.sha256(content).hexdigest() == image.sha256
        inspected = image_inspect(content=content)  # the upload rules take it
        assert (inspected.width, inspected.height, inspected.format) == (image.width, image.height, "PNG")
        PILImage.open(default_storage.open(image.thumbnail.name)).verify()

    verdicts = {v: Image.objects.filter(annotation__verdict=v, source="generated").count() for v in Verdict}
    assert verdicts[Verdict.UNLABELED] > verdicts[Verdict.NORMAL] > verdicts[Verdict.DEFECTIVE] > 0
    regions = Region.objects.filter(annotation__image__in=images)
    assert regions.count() == made.regions >= verdicts[Verdict.DEFECTIVE]
    assert {r.kind for r in regions} == {"box", "polygon", "mask"}
    for region in regions:
        validate_geometry(region.kind, region.geometry, width=64, height=64)
    labeled = 300 - verdicts[Verdict.UNLABELED]
    assert (
        AnnotationRevision.objects.filter(annotation__image__in=images).count() == made.revisions == labeled
    )

    test_split = Image.objects.filter(collection=team.collection, split="test").count()
    for version in made.versions:
        assert version.snapshot.counts["test"] == test_split > 0
        predictions = Prediction.objects.filter(model_version=version)
        assert 180 < predictions.count() < 300
        heatmap = PILImage.open(io.BytesIO(default_storage.open(predictions.first().heatmap.name).read()))
        assert (heatmap.size, heatmap.mode) == ((64, 64), "L")
    assert Prediction.objects.filter(image__in=images).count() == made.predictions
    assert Review.objects.filter(prediction__model_version=made.versions[1]).count() == made.reviews > 0

    client.force_login(team.viewer)
    response = client.get(reverse("collection-detail", args=[team.collection.pk]), {"order": "-score"})
    assert response.status_code == 200 and b"generated-" in response.content


def test_the_command_makes_a_project_and_prints_the_collection(capsys):
    call_command("generate_collection", "--images", "12", "--project", "measured")
    collection_id = int(capsys.readouterr().out.strip().splitlines()[-1])
    collection = Collection.objects.get(pk=collection_id)
    assert (collection.project.name, collection.images.count()) == ("measured", 12)
