import io
import json

from django.contrib.auth import get_user_model
from django.core.management import call_command

from annotations.models import Image, Project
from inference.models import ModelVersion, Prediction, Review


def test_benchmark_gallery_times_every_case_and_leaves_nothing_behind(
    db, tmp_path, media_root, django_capture_on_commit_callbacks
):
    out = tmp_path / "gallery.json"

    with django_capture_on_commit_callbacks(execute=True):  # the files go once the deletion commits
        call_command("benchmark_gallery", images=700, repeat=1, json=out, stdout=io.StringIO())

    report = json.loads(out.read_text())
    assert report["images"] == 700 and 0 < report["scored"] < 700
    assert {"first page", "deep page", "verdict", "not reviewed", "highest score first"} <= set(
        report["requests"]
    )
    for result in report["requests"].values():
        assert result["ms"] > 0 and 10 <= result["queries"] <= 20, result
    for model in (Project, Image, ModelVersion, Prediction, Review, get_user_model()):
        assert not model.objects.exists(), model
    assert not [path for path in media_root.rglob("*") if path.is_file()]  # its files are gone too
