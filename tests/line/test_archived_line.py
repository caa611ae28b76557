"""An archived collection still answers its line (archiving in the browser must not stop production;
revoking the station does) but keeps nothing: no image, prediction or ranking job lands in it."""

import pytest

from annotations.models import Image
from annotations.services.projects import collection_archive, collection_restore
from inference.models import Job, JobKind
from line.models import Inspection, LinePolicy
from line.services.inspection import PRODUCTION_SOURCE, inspect_images
from tests.line.conftest import line_images

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def test_an_archived_collection_inspects_and_keeps_nothing_until_restored(line_version, team):
    LinePolicy.objects.create(collection=team.collection, keep_passed_share=1.0)  # keep everything
    images_before = Image.objects.filter(collection=team.collection).count()
    collection_archive(collection=team.collection)
    parts = line_images(3, seed=31, defective=1)

    outcome = inspect_images(collection=team.collection, uploads=parts)

    assert [r["name"] for r in outcome.results] == [name for name, _ in parts]
    assert Inspection.objects.filter(collection=team.collection, image__isnull=True).count() == 3
    assert Image.objects.filter(collection=team.collection).count() == images_before
    assert not Job.objects.filter(kind=JobKind.RANK).exists()

    collection_restore(collection=team.collection)
    inspect_images(collection=team.collection, uploads=parts)
    assert Image.objects.filter(collection=team.collection, source=PRODUCTION_SOURCE).count() == 3
