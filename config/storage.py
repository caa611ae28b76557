"""Where media lives, from environment variables: local disk unless an S3 bucket is named. Settings
call it once; the S3 tests call it too, so they test the configuration the product runs."""

from pathlib import Path
from typing import Any

import environ


def media_storage(env: environ.Env, *, default_root: Path) -> dict[str, Any]:
    """The `STORAGES["default"]` entry: django-storages' S3 backend when `S3_BUCKET` is set (any
    S3-compatible server through `S3_ENDPOINT_URL`), else a folder (`MEDIA_ROOT`, or `default_root`)."""
    bucket = env.str("S3_BUCKET", default="")
    if not bucket:
        return {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": env.str("MEDIA_ROOT", default=str(default_root))},
        }
    # An empty variable (as platform/env.example leaves them) means unset: boto3's own default.
    return {
        "BACKEND": "storages.backends.s3.S3Storage",
        "OPTIONS": {
            "bucket_name": bucket,
            "endpoint_url": env.str("S3_ENDPOINT_URL", default="") or None,
            "region_name": env.str("S3_REGION", default="") or None,
            "access_key": env.str("S3_ACCESS_KEY_ID", default="") or None,
            "secret_key": env.str("S3_SECRET_ACCESS_KEY", default="") or None,
            "location": env.str("S3_PREFIX", default=""),
            "default_acl": None,
            "file_overwrite": False,
            "querystring_auth": True,
        },
    }
