import signal
import subprocess
import sys

from django.core.management import call_command
from django.core.management.base import BaseCommand

from config.celery_app import embedded_worker_command


class Command(BaseCommand):
    help = "Run the web server and one Celery worker (both queues) together: the embedded platform."

    def add_arguments(self, parser):
        parser.add_argument("addrport", nargs="?", default="127.0.0.1:8000")

    def handle(self, *args, addrport: str, **options):
        worker = subprocess.Popen(embedded_worker_command())
        # Stopping the server by SIGTERM (not only Ctrl+C) must still stop its worker.
        signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(0))
        try:
            call_command("runserver", addrport, use_reloader=False)
        finally:
            worker.terminate()
            worker.wait(timeout=30)
