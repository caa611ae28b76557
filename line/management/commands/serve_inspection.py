"""``manage.py serve_inspection [ADDRPORT]``: the inspection service, a process of its own."""

import logging
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from gunicorn.app.base import BaseApplication

logger = logging.getLogger(__name__)


def _warm(_worker: Any) -> None:
    """Each worker process loads every promoted model before it takes a request."""
    from line.services.runtime import models_warm

    try:
        logger.info("inspection worker holds the models of collections %s", models_warm())
    except Exception:  # the service still answers: a model then loads on its first request
        logger.exception("could not load the promoted models at start")


class InspectionServer(BaseApplication):
    """Gunicorn running the platform's WSGI application with the inspection routes only."""

    def __init__(self, options: dict[str, Any]) -> None:
        self.options = options
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from config.wsgi import application

        return application


class Command(BaseCommand):
    help = (
        "Serve POST /api/v1/collections/{id}/inspect/ (and GET /healthz) in processes that keep each "
        "collection's promoted model loaded; a promotion switches models without a restart."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8001")
        parser.add_argument("--workers", type=int, default=1, help="processes, each with its own models")
        parser.add_argument("--threads", type=int, default=8, help="requests each process takes at once")

    def handle(self, *args: Any, addrport: str, workers: int, threads: int, **options: Any) -> None:
        # This process answers inspections and nothing else; the platform's other routes are not here.
        settings.ROOT_URLCONF = "line.inspection_urls"
        bind = addrport if ":" in addrport else f"127.0.0.1:{addrport}"
        self.stdout.write(f"Inspection service on http://{bind}/ ({workers} x {threads} threads)")
        InspectionServer(
            {
                "bind": bind,
                "workers": workers,
                "threads": threads,
                "worker_class": "gthread",
                "timeout": 120,
                "post_worker_init": _warm,
                "accesslog": None,
            }
        ).run()
