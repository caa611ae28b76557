"""``manage.py benchmark_scoring``: a worker's memory and speed scoring a large collection, as JSON."""

import json
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Collection, Split
from annotations.services.projects import collection_delete, project_create
from inference.ml.experiments.memory import PeakMemory
from inference.models import Job, JobKind, JobStatus
from inference.services.generated_collections import collection_generate
from inference.services.jobs import job_create, job_run
from inference.services.scoring import score_execute
from inference.services.training import train_execute
from inference.services.versions import training_start

FIT = {"image_size": 64, "coreset_ratio": 0.1, "batch_size": 16}


def _job_ran(job: Job, work: Any) -> Job:
    job_run(job_id=job.pk, work=work)
    job.refresh_from_db()
    if job.status != JobStatus.SUCCEEDED:
        raise CommandError(f"the {job.kind} job ended {job.status}: {job.failure_reason or job.message}")
    return job


class Command(BaseCommand):
    help = (
        "Measure a worker scoring a large collection: make a throwaway project of N generated images, fit a "
        "small PatchCore on a few of them, then run the scoring job of all N in this process as a worker "
        "runs it (chunks of --chunk-images) and report its resident memory before and at its peak, the "
        "time and images/s as JSON; delete it all again. Run it with no worker on the same database."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--images", type=int, required=True, help="how many images to score")
        parser.add_argument(
            "--chunk-images",
            type=int,
            default=settings.LOUPE_SCORE_CHUNK_IMAGES,
            help="images per chunk (default LOUPE_SCORE_CHUNK_IMAGES); --images holds them all at once",
        )
        parser.add_argument("--train", type=int, default=40, help="images the model is fitted on")
        parser.add_argument("--json", required=True, help="where to write the result")
        parser.add_argument("--keep", action="store_true", help="keep the project afterwards")

    def handle(self, *args: Any, **options: Any) -> None:
        count, chunk = options["images"], options["chunk_images"]
        if count < options["train"] or chunk < 1:
            raise CommandError("--images must be at least --train, and --chunk-images at least 1")
        settings.LOUPE_SCORE_CHUNK_IMAGES, settings.LOUPE_SCORE_HELPERS = chunk, 0
        user, _ = get_user_model().objects.get_or_create(username="benchmark")
        project = project_create(name=f"scoring-benchmark-{uuid.uuid4().hex[:8]}", created_by=user)
        collection = Collection.objects.create(project=project, name="scored")
        try:
            result = self._measure(collection, user, count, options["train"])
        finally:
            if not options["keep"]:
                collection_delete(collection=collection)
                project.delete()
        result |= {
            "images": count,
            "chunk_images": chunk,
            "database": settings.DATABASES["default"]["ENGINE"],
        }
        Path(options["json"]).write_text(json.dumps(result, indent=2) + "\n")
        self.stdout.write(json.dumps(result))

    def _measure(self, collection: Collection, user: Any, count: int, train: int) -> dict[str, Any]:
        collection_generate(collection=collection, count=count, user=user)
        images = collection.images.order_by("pk")
        images.update(split=Split.UNASSIGNED)
        images.filter(pk__in=list(images.values_list("pk", flat=True)[:train])).update(split=Split.TRAIN)
        fitted = _job_ran(
            training_start(collection=collection, algorithm="patchcore", parameters=FIT, score_after=False),
            train_execute,
        )
        job = job_create(kind=JobKind.SCORE, collection=collection, model_version=fitted.model_version)
        with PeakMemory() as memory:
            started = time.monotonic()
            scored = _job_ran(job, score_execute)
            seconds = time.monotonic() - started
        before, peak = memory.start_bytes, memory.peak_bytes
        return {
            "scored": scored.result["scored"],
            "chunks": scored.result["chunks"],
            "seconds": round(seconds, 1),
            "images_per_second": round(scored.result["scored"] / seconds, 1),
            "rss_before_mb": round(before / 2**20, 1),
            "rss_peak_mb": round(peak / 2**20, 1),
            "rss_growth_mb": round((peak - before) / 2**20, 1),
        }
