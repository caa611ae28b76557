"""`manage.py serve` (what `make demo` runs) starts the inspection service beside the web server and
its worker, and stops it with them; nothing is started here, the processes are stand-ins."""

import signal
import sys
import tomllib
from pathlib import Path
from types import SimpleNamespace

import pytest
from django.core.management import call_command

from annotations.management.commands import serve
from config.celery_app import embedded_worker_command

REPO = Path(__file__).resolve().parents[2]


class _Child:
    started: list["_Child"] = []

    def __init__(self, command: list[str]) -> None:
        self.command, self.stopped = command, False
        _Child.started.append(self)

    def terminate(self) -> None:
        self.stopped = True

    def wait(self, timeout: float) -> int:
        return 0


@pytest.fixture
def stand_ins(monkeypatch):
    """Popen and runserver replaced, the SIGTERM handler left alone: what serve would start."""
    _Child.started = []
    served: list[str] = []
    monkeypatch.setattr(serve, "subprocess", SimpleNamespace(Popen=_Child))
    monkeypatch.setattr(serve, "signal", SimpleNamespace(SIGTERM=signal.SIGTERM, signal=lambda *args: None))
    monkeypatch.setattr(
        serve, "call_command", lambda name, addrport, **options: served.append((name, addrport))
    )
    return served


def test_serve_starts_the_inspection_service_on_8001_and_stops_it(stand_ins):
    call_command("serve")
    assert stand_ins == [("runserver", "127.0.0.1:8000")]
    worker, inspection = _Child.started
    assert worker.command == embedded_worker_command()
    assert inspection.command == [
        sys.executable,
        str(REPO / "manage.py"),
        "serve_inspection",
        "127.0.0.1:8001",
    ]
    assert worker.stopped and inspection.stopped


def test_serve_starts_it_where_told_or_not_at_all(stand_ins):
    call_command("serve", "0.0.0.0:9000", "--inspection", "0.0.0.0:9001")
    assert stand_ins == [("runserver", "0.0.0.0:9000")]
    assert _Child.started[-1].command[-2:] == ["serve_inspection", "0.0.0.0:9001"]
    _Child.started = []
    call_command("serve", "--inspection", "")
    assert [child.command for child in _Child.started] == [embedded_worker_command()]


def test_the_platforms_process_files_run_the_inspection_service_on_8001():
    procfile = (REPO / "platform" / "Procfile").read_text()
    assert "inspection: python manage.py serve_inspection 0.0.0.0:${INSPECTION_PORT:-8001}" in procfile
    assert "serve_inspection 0.0.0.0:8001" in (REPO / "platform" / "compose.yaml").read_text()


def test_the_image_holds_every_package_the_project_installs():
    # The image runs `pip install .`: a package left out of its COPY lines is missing in production.
    dockerfile = (REPO / "platform" / "Dockerfile").read_text()
    found = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]["find"]
    packages = [pattern.rstrip("*") for pattern in found["include"]]
    assert "line" in packages
    for package in packages:
        assert f"\nCOPY {package} {package}\n" in dockerfile, package
