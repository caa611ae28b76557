"""The Celery application: Celery only carries jobs, the database row is their truth."""

import os
import sys

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

app = Celery("loupe")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


def embedded_worker_command(*options: str) -> list[str]:
    """The command of one worker serving both queues, one job at a time: what `manage.py serve` and the
    tests start on a machine without a GPU."""
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "config",
        "worker",
        "--queues",
        "gpu,default",
        "--concurrency",
        "1",
        "--loglevel",
        "INFO",
        *options,
    ]
