import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _env_file(name: str) -> dict[str, str]:
    lines = (ROOT / "platform" / name).read_text().splitlines()
    pairs = (line.split("=", 1) for line in lines if "=" in line and not line.startswith("#"))
    return {key: value for key, value in pairs if value}


def test_check_deploy_passes_with_the_production_example_settings(tmp_path):
    env = {**os.environ, **_env_file("env.example"), "LOUPE_VAR_DIR": str(tmp_path)}
    env["DJANGO_SECRET_KEY"] = "x7#kq2!vz9" * 6
    # A check only: no database, broker or bucket needs to answer.
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_embedded_defaults_need_no_server(settings):
    if "DATABASE_URL" in os.environ:
        return
    assert settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3"
    assert settings.CELERY_BROKER_URL == "filesystem://"
    assert settings.STORAGES["staticfiles"]["BACKEND"].endswith("StaticFilesStorage")


def test_celery_speaks_json_only_and_acknowledges_late(settings):
    from config.celery_app import app

    assert app.conf.accept_content == ["json"]
    assert app.conf.task_serializer == "json"
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_static_files_are_served_without_collectstatic(client):
    # The embedded platform runs with DEBUG off and no collectstatic step.
    response = client.get("/static/frontend/loupe.css")
    assert response.status_code == 200
    assert b"{" in b"".join(response.streaming_content)
