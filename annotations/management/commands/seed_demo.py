from django.conf import settings
from django.core.management.base import BaseCommand

from annotations.services.demo import demo_seed, demo_user_get_or_create


class Command(BaseCommand):
    help = "Create the demo project (generated images with defects) and a demo user; safe to re-run."

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args, username: str, password: str, **options):
        user = demo_user_get_or_create(username=username, password=password)
        for summary in demo_seed(root=settings.VAR_DIR / "demo-dataset", user=user):
            self.stdout.write(f"{summary.name}: {summary.added} images added, {summary.masks} masks")
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: log in as {username!r} with password {password!r}.")
        )
