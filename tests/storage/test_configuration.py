"""The media storage entry the settings build from the environment."""

from pathlib import Path

import environ

from config.storage import media_storage


def test_without_a_bucket_media_is_a_local_folder(monkeypatch, tmp_path):
    monkeypatch.delenv("S3_BUCKET")
    monkeypatch.delenv("MEDIA_ROOT", raising=False)
    assert media_storage(environ.Env(), default_root=tmp_path) == {
        "BACKEND": "django.core.files.storage.FileSystemStorage",
        "OPTIONS": {"location": str(tmp_path)},
    }
    monkeypatch.setenv("MEDIA_ROOT", "/srv/media")
    assert media_storage(environ.Env(), default_root=tmp_path)["OPTIONS"] == {"location": "/srv/media"}


def test_empty_s3_variables_mean_unset_as_the_example_env_file_leaves_them(monkeypatch):
    """platform/env.example sets S3_ENDPOINT_URL= and friends empty: boto3 must get None (AWS's own
    endpoint and the default credential chain), not an empty string it cannot connect to."""
    for name in ("S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "")
    monkeypatch.setenv("S3_BUCKET", "loupe")
    monkeypatch.setenv("S3_PREFIX", "team-a")
    storage = media_storage(environ.Env(), default_root=Path("/unused"))
    assert storage["BACKEND"] == "storages.backends.s3.S3Storage"
    options = storage["OPTIONS"]
    assert options["bucket_name"] == "loupe" and options["location"] == "team-a"
    assert [options[k] for k in ("endpoint_url", "region_name", "access_key", "secret_key")] == [None] * 4
    # Objects stay private and are never silently overwritten.
    assert options["default_acl"] is None and options["file_overwrite"] is False
