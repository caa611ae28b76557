import io
import json

import pytest
from django.core.management import call_command

from annotations.models import Image, Project
from inference.models import Job, JobKind, ScoreChunk

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def test_the_scoring_of_a_generated_collection_is_measured_chunk_by_chunk_and_removed(
    tmp_path, media_root, sent
):
    out = tmp_path / "scoring.json"
    call_command(
        "benchmark_scoring", images=60, chunk_images=25, train=12, json=str(out), stdout=io.StringIO()
    )

    report = json.loads(out.read_text())
    assert (report["images"], report["scored"], report["chunks"], report["chunk_images"]) == (60, 60, 3, 25)
    assert report["images_per_second"] > 0 and report["seconds"] > 0
    assert report["rss_peak_mb"] >= report["rss_before_mb"] > 0
    assert report["rss_growth_mb"] == pytest.approx(report["rss_peak_mb"] - report["rss_before_mb"], abs=0.2)
    assert not Project.objects.exists() and not Image.objects.exists()  # its project went with it
    assert not Job.objects.filter(kind=JobKind.SCORE).exists() and not ScoreChunk.objects.exists()


def test_fewer_images_than_the_fit_needs_are_refused(tmp_path):
    with pytest.raises(Exception, match="--images must be at least --train"):
        call_command("benchmark_scoring", images=5, train=10, json=str(tmp_path / "x.json"))
