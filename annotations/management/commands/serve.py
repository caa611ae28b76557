import signal
import subprocess
import sys

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.celery_app import embedded_worker_command


class Command(BaseCommand):
    help = (
        "Run the web server, one Celery worker (both queues) and the inspection service together: the "
        "embedded platform."
    )

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")
        parser.add_argument(
            "--inspection",
            default="127.0.0.1:8001",
            help="where the inspection service (manage.py serve_inspection) listens; empty for none",
        )

    def handle(self, *args, addrport: str, inspection: str, **options):
        children = [subprocess.Popen(embedded_worker_command())]
        if inspection:
            manage = str(settings.BASE_DIR / "manage.py")
            children.append(subprocess.Popen([sys.executable, manage, "serve_inspection", inspection]))
        # Stopping the server by SIGTERM (not only Ctrl+C) must still stop its worker and service.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            for child in children:
                child.terminate()
            for child in children:
                child.wait(timeout=30)
