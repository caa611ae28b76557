"""``manage.py generate_collection``: a large made-up collection to measure Loupe on."""

import time
from typing import Any

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Collection
from annotations.services.projects import project_create
from inference.services.generated_collections import collection_generate


class Command(BaseCommand):
    help = (
        "Make a project with one collection of N generated images: small real PNG files with thumbnails, "
        "verdicts, boxes, polygons and masks with their revisions, two ready model versions with "
        "predictions and heatmaps, and reviews. Prints the collection's id."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, required=True, help="how many images")
        parser.add_argument("--project", default="", help="project name (default: generated-N)")
        parser.add_argument("--user", default="generator", help="the project's manager, made if missing")
        parser.add_argument("--seed", type=int, default=0)

    def handle(self, *args: Any, **options: Any) -> None:
        if options["images"] < 1:
            raise CommandError("--images must be at least 1")
        user, _ = get_user_model().objects.get_or_create(username=options["user"])
        name = options["project"] or f"generated-{options['images']}"
        project = project_create(name=name, created_by=user)
        collection = Collection.objects.create(project=project, name=name)
        started = time.monotonic()
        every = max(1, options["images"] // 20)

        def progress(stage: str, done: int, total: int) -> None:
            if done % every < 5000 or done == total:
                rate = done / max(time.monotonic() - started, 1e-9)
                self.stdout.write(f"{done:>9,} / {total:,} {stage} ({rate:,.0f}/s)")

        made = collection_generate(
            collection=collection, count=options["images"], user=user, seed=options["seed"], progress=progress
        )
        self.stdout.write(
            f"collection {collection.pk} of project {project.name!r}: {made.images:,} images, "
            f"{made.regions:,} regions, {made.revisions:,} revisions, {made.predictions:,} predictions "
            f"of versions {made.versions[0].pk} and {made.versions[1].pk}, {made.reviews:,} reviews, "
            f"in {time.monotonic() - started:.0f} s"
        )
        self.stdout.write(str(collection.pk))
