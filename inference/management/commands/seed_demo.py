from django.conf import settings
from django.core.management.base import BaseCommand

from annotations.models import Collection
from inference.services.demo import DEMO_CATEGORY, DEMO_PROJECT, demo_seed, demo_user_get_or_create
from inference.services.versions import training_start

DEMO_TRAINING = {"algorithm": "patchcore_ss", "parameters": {"image_size": 256}}


class Command(BaseCommand):
    help = (
        "Create the demo project (generated images with defects) and a demo user, and queue the first "
        "model's training; safe to re-run."
    )

    def add_arguments(self, parser):
        parser.add_argument("--username", default="demo")
        parser.add_argument("--password", default="demo")

    def handle(self, *args, username: str, password: str, **options):
        user = demo_user_get_or_create(username=username, password=password)
        for summary in demo_seed(root=settings.VAR_DIR / "demo-dataset", user=user):
            self.stdout.write(f"{summary.name}: {summary.added} images added, {summary.masks} masks")
        collection = Collection.objects.get(project__name=DEMO_PROJECT, name=DEMO_CATEGORY)
        if not collection.model_versions.exists():
            # The worker `serve` starts picks it up: the models page and the review queue fill in a minute.
            training_start(collection=collection, created_by=user, **DEMO_TRAINING)
            self.stdout.write("The first model is queued for training; watch it on the collection page.")
        self.stdout.write(
            self.style.SUCCESS(f"Demo ready: log in as {username!r} with password {password!r}.")
        )
