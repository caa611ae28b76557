"""``manage.py evaluate VERSION [--against OTHER]``: a model's metrics on the test split, in the workers."""

import json
import math
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.management.jobwait import job_wait
from inference.models import JobKind, JobStatus, ModelVersion, ModelVersionStatus, SnapshotRole
from inference.services.jobs import job_create
from inference.services.snapshots import snapshot_counts, snapshot_create

METRICS = ("image_auroc", "pixel_auroc", "aupro", "f1_max", "f1_max_threshold")


class Command(BaseCommand):
    help = (
        "Evaluate a model version on its collection's test split (image AUROC, pixel AUROC, AUPRO, F1-max "
        "and its threshold, figures at the model's threshold); with --against, two versions on the same "
        "frozen split. Runs in the workers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", type=int, help="model version id")
        parser.add_argument("--against", type=int, help="another version of the same collection to compare")
        parser.add_argument("--json", action="store_true", help="print the metrics as JSON only")

    def handle(self, *args: Any, **options: Any) -> None:
        versions = [self._version(options["version"])]
        if options["against"]:
            versions.append(self._version(options["against"]))
            if versions[1].collection_id != versions[0].collection_id:
                raise CommandError("both versions must belong to the same collection to share a test split")
        snapshot = snapshot_create(collection=versions[0].collection, test_only=True)
        n_test = snapshot_counts(snapshot=snapshot)[SnapshotRole.TEST]
        if not n_test:
            raise CommandError("the collection's test split is empty: nothing to evaluate on")
        jobs = [
            job_create(
                kind=JobKind.EVALUATE,
                collection=version.collection,
                model_version=version,
                parameters={"snapshot": snapshot.pk},
            )
            for version in versions
        ]
        show = options["verbosity"] > 0 and not options["json"]
        results = []
        for version, job in zip(versions, jobs, strict=True):
            job = job_wait(job.pk, show=show, label=f"evaluate {version.pk}")
            if job.status != JobStatus.SUCCEEDED:
                raise CommandError(f"evaluating model {version.pk} {job.status}: {job.failure_reason}")
            result = dict(job.result)
            result["threshold"] = version.threshold
            results.append(result)
        if len(results) == 1:
            out: dict[str, Any] = results[0]
        else:
            out = {
                "split": {"n_images": n_test, "snapshot": snapshot.pk},
                "versions": results,
                "difference": {
                    key: results[1][key] - results[0][key]
                    for key in METRICS
                    if key in results[0] and key in results[1] and not math.isnan(results[0][key])
                },
            }
        if options["json"]:
            self.stdout.write(json.dumps(out, indent=2))
            return
        for result in results:
            figures = ", ".join(f"{key} {result[key]:.4f}" for key in METRICS if key in result)
            self.stdout.write(f"model {result['model_version']}: {figures}")

    def _version(self, pk: int) -> ModelVersion:
        version = ModelVersion.objects.select_related("collection").filter(pk=pk).first()
        if version is None:
            raise CommandError(f"no model version {pk}")
        if version.status != ModelVersionStatus.READY:
            raise CommandError(f"model {pk} is {version.status}; only a ready model can be evaluated")
        return version
