"""Loupe settings, read from environment variables only.

With nothing set, Loupe runs embedded: SQLite, media on local disk and Celery over kombu's
filesystem transport, all under ``var/``. Production sets ``DATABASE_URL``, ``CELERY_BROKER_URL``
and ``S3_BUCKET`` (see ``platform/env.example``).
"""

from datetime import timedelta
from pathlib import Path

import environ

from config.storage import media_storage

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()

DEBUG = env.bool("DJANGO_DEBUG", default=False)
VAR_DIR = Path(env.str("LOUPE_VAR_DIR", default=str(BASE_DIR / "var")))
# The team's shared datasets (MVTec AD layout, a folder each): what `manage.py benchmark` runs by default.
LOUPE_DATASETS_DIR = Path(env.str("LOUPE_DATASETS_DIR", default=str(BASE_DIR.parent / "shared" / "datasets")))
# The embedded default is for one machine; production must set its own key (check --deploy says so).
SECRET_KEY = env.str("DJANGO_SECRET_KEY", default="insecure-embedded-default-key-set-DJANGO_SECRET_KEY")
ALLOWED_HOSTS = env.list("DJANGO_ALLOWED_HOSTS", default=["localhost", "127.0.0.1", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("DJANGO_CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "axes",
    "annotations",
    "inference",
    "line",
    "frontend",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "line.fence.StationFence",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # Last: it turns a login that django-axes refused into the lockout answer (config/lockout.py).
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "config.urls"
WSGI_APPLICATION = "config.wsgi.application"
ASGI_APPLICATION = "config.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

DATABASES = {"default": env.db("DATABASE_URL", default=f"sqlite:///{VAR_DIR / 'loupe.sqlite3'}")}
DATABASES["default"]["ATOMIC_REQUESTS"] = False
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A web process and a worker share the file: wait for the lock instead of failing at once.
    DATABASES["default"].setdefault("OPTIONS", {}).update({"timeout": 30, "transaction_mode": "IMMEDIATE"})
else:
    DATABASES["default"]["CONN_MAX_AGE"] = env.int("DATABASE_CONN_MAX_AGE", default=60)
    # A kept connection the server dropped (a restart, a terminated backend) is replaced at the next
    # request instead of failing it (tests/faults).
    DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
    # No parallel plans for Loupe's short keyset queries: a Gather's start-up is paid in full even
    # under LIMIT 61 (the gallery's "not reviewed" page: 212 ms parallel, 17 ms not, at 100,000 images),
    # and concurrent requests' parallel workers fight for the same cores.
    parallel = env.int("DATABASE_PARALLEL_WORKERS_PER_GATHER", default=0)
    DATABASES["default"].setdefault("OPTIONS", {}).setdefault(
        "options", f"-c max_parallel_workers_per_gather={parallel}"
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
# Brakes on password guessing (django-axes): after LOUPE_LOGIN_FAILURE_LIMIT wrong passwords for one
# username from one address, that pair is refused — even with the right password — until
# LOUPE_LOGIN_COOLOFF_MINUTES have passed without another try; other users and addresses are not
# affected. Password spraying (a few guesses at many usernames) locks the whole address instead, after
# LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT wrong passwords within the cool-off (config/lockout.py). Counted in
# the database, so every web process sees the same count. Applies to the login page, the admin's and
# POST /api/v1/auth/token/, all of which go through authenticate().
AUTHENTICATION_BACKENDS = [
    "config.lockout.LoginBrakes",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = env.int("LOUPE_LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.float("LOUPE_LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# And a whole address, after this many wrong passwords at any usernames within the cool-off.
LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT = env.int("LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT", default=30)
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "config.lockout.lockout_response"
# The client's address is REMOTE_ADDR unless a proxy in front says otherwise: a header the client
# could set itself (X-Forwarded-For) would give it a fresh address, and fresh guesses, per request.
AXES_IPWARE_META_PRECEDENCE_ORDER = env.list("LOUPE_CLIENT_IP_HEADERS", default=["REMOTE_ADDR"])
AXES_IPWARE_PROXY_COUNT = env.int("LOUPE_CLIENT_IP_PROXY_COUNT", default=None)

LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "project-list"
LOGOUT_REDIRECT_URL = "login"

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = Path(env.str("DJANGO_STATIC_ROOT", default=str(VAR_DIR / "static")))
# WhiteNoise serves static files in every mode; finders let the embedded platform skip collectstatic.
WHITENOISE_USE_FINDERS = True
STATIC_ROOT.mkdir(parents=True, exist_ok=True)

# Storage: local disk unless an S3 bucket is named. Media is never served straight from disk:
# the API streams it after checking membership.
STORAGES = {
    "default": media_storage(env, default_root=VAR_DIR / "media"),
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}

# Image ingest limits (see annotations/services/ingest.py).
LOUPE_MAX_IMAGE_PIXELS = env.int("LOUPE_MAX_IMAGE_PIXELS", default=100_000_000)
LOUPE_MAX_UPLOAD_BYTES = env.int("LOUPE_MAX_UPLOAD_BYTES", default=512 * 1024 * 1024)
# A request whose body is bigger than this has every file spooled to disk, so an upload batch is never
# held in memory; ingest then reads the files one at a time.
FILE_UPLOAD_MAX_MEMORY_SIZE = env.int("LOUPE_UPLOAD_MEMORY_BYTES", default=2_621_440)
LOUPE_THUMBNAIL_SIZE = env.int("LOUPE_THUMBNAIL_SIZE", default=256)
# A page counts a collection's images afresh below this many; above, it shows a count taken at most
# LOUPE_COUNT_FRESH_SECONDS ago, and says when (annotations/counts.py).
LOUPE_EXACT_COUNT_LIMIT = env.int("LOUPE_EXACT_COUNT_LIMIT", default=20_000)
LOUPE_COUNT_FRESH_SECONDS = env.int("LOUPE_COUNT_FRESH_SECONDS", default=60)
DATA_UPLOAD_MAX_NUMBER_FILES = env.int("DJANGO_MAX_UPLOAD_FILES", default=1000)
# Imports from the browser (inference/services/dataset_imports.py, annotations/services/archives.py):
# the most one import (a zip's uncompressed members and the files sent with it) may hold.
LOUPE_IMPORT_MAX_BYTES = env.int("LOUPE_IMPORT_MAX_BYTES", default=2 * 1024**3)
LOUPE_IMPORT_MAX_FILES = env.int("LOUPE_IMPORT_MAX_FILES", default=100_000)

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "rest_framework.authentication.TokenAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    # JSON only: DRF's browsable API rendered HTML forms whose dropdowns listed every team's
    # projects, users and models (related fields are not scoped there). /api/docs/ documents the API;
    # the file routes name their own renderers (config.api.FileNegotiation).
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    # JSON bodies nested past a few levels are a 400 before they are decoded (config/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "config.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "DEFAULT_PAGINATION_CLASS": "annotations.api.pagination.IdCursorPagination",
    # The services' refusals any route can meet (an archived collection: 409), answered in one place.
    "EXCEPTION_HANDLER": "annotations.api.permissions.api_exception_handler",
    "PAGE_SIZE": 50,
}
SPECTACULAR_SETTINGS = {
    "TITLE": "Loupe API",
    "DESCRIPTION": "Image collections, labels, training jobs and reviews for visual defect inspection.",
    "VERSION": "1",
    "SERVE_INCLUDE_SCHEMA": False,
    # The schema and docs are for signed-in users: they map every route of an instance.
    "SERVE_PERMISSIONS": ["rest_framework.permissions.IsAuthenticated"],
    "COMPONENT_SPLIT_REQUEST": True,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # The errors every operation can meet, documented once (config/api.py).
    "POSTPROCESSING_HOOKS": [
        "drf_spectacular.hooks.postprocess_schema_enums",
        "config.api.schema_error_responses",
    ],
    "ENUM_NAME_OVERRIDES": {
        "JobKindEnum": "inference.models.JobKind",
        "JobStatusEnum": "inference.models.JobStatus",
        "ModelVersionStatusEnum": "inference.models.ModelVersionStatus",
        "FalsePositiveReasonEnum": "inference.models.FalsePositiveReason",
        "RevisionReasonEnum": "annotations.models.RevisionReason",
        "InspectionDecisionEnum": ["defective", "normal"],
        "DecisionEnum": "inference.models.Decision",
    },
}

# Celery: JSON only, a job is acknowledged after it ran, one job at a time per worker process.
CELERY_BROKER_URL = env.str("CELERY_BROKER_URL", default="filesystem://")
if CELERY_BROKER_URL == "filesystem://":
    _broker_dir = VAR_DIR / "broker"
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        "data_folder_in": str(_broker_dir / "queue"),
        "data_folder_out": str(_broker_dir / "queue"),
        "processed_folder": str(_broker_dir / "processed"),
        "control_folder": str(_broker_dir / "control"),
        "store_processed": False,
    }
    for _folder in ("queue", "processed", "control"):
        (_broker_dir / _folder).mkdir(parents=True, exist_ok=True)
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_DEFAULT_QUEUE = "default"
CELERY_TASK_ALWAYS_EAGER = False
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Where `celery beat` runs; every worker also reaps on its own (see inference/tasks.py).
    "reap-stale-jobs": {
        "task": "inference.reap_stale_jobs",
        "schedule": 60.0,
        "options": {"queue": "default"},
    },
}

# Background jobs (inference/services/jobs.py): a worker's lease on a job lasts this long unless its
# heartbeat (every third of it) renews it; a queued job not started for this long is sent again.
LOUPE_JOB_LEASE_SECONDS = env.float("LOUPE_JOB_LEASE_SECONDS", default=60.0)
LOUPE_JOB_REQUEUE_SECONDS = env.float("LOUPE_JOB_REQUEUE_SECONDS", default=600.0)
LOUPE_JOB_MAX_ATTEMPTS = env.int("LOUPE_JOB_MAX_ATTEMPTS", default=3)
LOUPE_REAPER_INTERVAL_SECONDS = env.float("LOUPE_REAPER_INTERVAL_SECONDS", default=30.0)
# A scoring job is cut into chunks of this many images, which it and up to LOUPE_SCORE_HELPERS other
# workers of its queue take one at a time (inference/services/score_chunks.py): a worker holds one
# chunk's images at once, whatever the collection's size.
LOUPE_SCORE_CHUNK_IMAGES = env.int("LOUPE_SCORE_CHUNK_IMAGES", default=1000)
LOUPE_SCORE_HELPERS = env.int("LOUPE_SCORE_HELPERS", default=3)
# A model's test scores are sent in pages of this many (the models page follows them to the end).
LOUPE_SCORES_PAGE_SIZE = env.int("LOUPE_SCORES_PAGE_SIZE", default=5000)
LOUPE_TRAIN_TIME_LIMIT_SECONDS = env.int("LOUPE_TRAIN_TIME_LIMIT_SECONDS", default=6 * 3600)
LOUPE_ML_DEVICE = env.str("LOUPE_ML_DEVICE", default="auto")
# The review queue hands an item to one reviewer for this long (inference/services/reviews.py).
LOUPE_REVIEW_CLAIM_SECONDS = env.int("LOUPE_REVIEW_CLAIM_SECONDS", default=600)

# Behind a TLS-terminating proxy in production; the embedded default runs on plain localhost.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env.bool("DJANGO_SECURE_SSL_REDIRECT", default=False)
SESSION_COOKIE_SECURE = env.bool("DJANGO_SECURE_COOKIES", default=False)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_HSTS_SECONDS = env.int("DJANGO_SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env.bool("DJANGO_SECURE_HSTS_INCLUDE_SUBDOMAINS", default=False)
SECURE_HSTS_PRELOAD = env.bool("DJANGO_SECURE_HSTS_PRELOAD", default=False)
X_FRAME_OPTIONS = "DENY"
# Content-Security-Policy (django-csp): scripts only from Loupe's own files — no template has an
# inline script or event handler (tests/security/test_csp.py reads them all); JSON data blocks are not
# run. Styles allow inline attributes: the templates colour swatches and size the image stage with
# style="--swatch: …" custom properties.
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'", "'unsafe-inline'"],
        "img-src": ["'self'", "data:"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
    }
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": env.str("LOUPE_LOG_LEVEL", default="INFO")},
}
