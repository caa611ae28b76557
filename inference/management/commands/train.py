"""``manage.py train COLLECTION``: start training a collection in the workers (and wait for it)."""

import json
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Collection
from inference.management.jobwait import job_wait
from inference.management.params import params_parse
from inference.ml.catalogue import ALGORITHMS, parameters_check
from inference.models import Job, JobKind, JobStatus, SnapshotRole
from inference.services.snapshots import snapshot_counts
from inference.services.versions import NothingToTrainOn, training_start

WORKER_HINT = "a worker must be running: `manage.py serve`, or `celery -A config worker -Q gpu,default`"


def collection_find(name_or_id: str, project: str | None) -> Collection:
    collections = Collection.objects.select_related("project")
    if project:
        collections = collections.filter(project__name=project)
    found = list(collections.filter(pk=int(name_or_id))) if name_or_id.isdigit() else []
    found = found or list(collections.filter(name=name_or_id))
    if not found:
        raise CommandError(f"no collection {name_or_id!r}" + (f" in project {project!r}" if project else ""))
    if len(found) > 1:
        projects = ", ".join(sorted(c.project.name for c in found))
        raise CommandError(
            f"{len(found)} collections are named {name_or_id!r} (projects {projects}): add --project"
        )
    return found[0]


class Command(BaseCommand):
    help = "Train a model on a collection's normal training images, in the workers. " + WORKER_HINT

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("collection", help="collection name or id")
        parser.add_argument("--project", help="the collection's project, when its name is not unique")
        parser.add_argument("--algorithm", choices=list(ALGORITHMS), default="patchcore")
        parser.add_argument("--image-size", type=int, help="canvas side, px (multiple of 32)")
        parser.add_argument(
            "--param", action="append", default=[], metavar="NAME=JSON", help="any algorithm parameter"
        )
        parser.add_argument("--no-score", action="store_true", help="do not score the collection afterwards")
        parser.add_argument(
            "--wait", action="store_true", help="wait for training (and scoring), with progress"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        collection = collection_find(options["collection"], options["project"])
        parameters: dict[str, Any] = {}
        if options["image_size"]:
            parameters["image_size"] = options["image_size"]
        parameters.update(params_parse(options["param"]))
        try:
            parameters = parameters_check(options["algorithm"], parameters, web=False)
        except ValueError as error:
            raise CommandError(str(error)) from None
        try:
            job = training_start(
                collection=collection,
                algorithm=options["algorithm"],
                parameters=parameters,
                score_after=not options["no_score"],
            )
        except NothingToTrainOn as error:
            raise CommandError(str(error)) from None
        version = job.model_version
        counts = snapshot_counts(snapshot=version.snapshot)
        self.stdout.write(
            f"Training model {version.pk} of {collection.name!r} on {counts[SnapshotRole.TRAIN]} images "
            f"(test split: {counts[SnapshotRole.TEST]}): job {job.pk}"
        )
        if not options["wait"]:
            self.stdout.write(f"Follow it at /api/v1/jobs/{job.pk}/ ({WORKER_HINT})")
            return
        show = options["verbosity"] > 0
        job = job_wait(job.pk, show=show, label="train")
        if job.status != JobStatus.SUCCEEDED:
            raise CommandError(f"training {job.status}: {job.failure_reason or job.message}")
        version.refresh_from_db()
        self.stdout.write(
            f"Model {version.pk} trained in {version.fit_seconds:.1f} s on {version.device}; "
            f"threshold {version.threshold:.4g} ({version.threshold_method})"
        )
        self.stdout.write(json.dumps(_headline(version.metrics), indent=2))
        score = Job.objects.filter(kind=JobKind.SCORE, model_version=version).first()
        if score is not None:
            score = job_wait(score.pk, show=show, label="score")
            if score.status != JobStatus.SUCCEEDED:
                raise CommandError(f"scoring {score.status}: {score.failure_reason or score.message}")
            self.stdout.write(f"Scored {score.result.get('predictions')} images.")
        self.stdout.write(self.style.SUCCESS(f"Model {version.pk} is ready."))


def _headline(metrics: dict[str, Any]) -> dict[str, Any]:
    keys = ("n_images", "n_defective", "image_auroc", "pixel_auroc", "aupro", "f1_max", "f1_max_threshold")
    return {key: metrics[key] for key in keys if key in metrics}
