"""``manage.py benchmark_inspection``: latency and throughput of the inspection service, as JSON."""

import json
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from annotations.models import Collection
from inference.ml.data.mvtec import discover_categories
from inference.selectors import production_version
from line.benchmark import benchmark_cleanup, benchmark_collection, benchmark_table, inspection_benchmark


class Command(BaseCommand):
    help = (
        "Start the inspection service on loopback and time one image and batches of 16 per request, "
        "with 1, 4 and 20 clients at once: p50/p95/p99 latency, the model's own time, the service's "
        "overhead and images/s. Writes JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            type=Path,
            default=Path(settings.LOUPE_DATASETS_DIR) / "mtd",
            help="an MVTec-layout category whose images make the benchmark's collection and line parts "
            "(default: the shared magnetic tiles)",
        )
        parser.add_argument("--train-limit", type=int, default=50, help="training images of the model")
        parser.add_argument("--collection", type=int, help="use this collection's promoted model instead")
        parser.add_argument("--keep", action="store_true", help="keep the collection the benchmark made")
        parser.add_argument(
            "--clients", default="1,4,20", help="how many clients at once, one run each (comma-separated)"
        )
        parser.add_argument("--requests", type=int, default=40, help="requests of one image per run")
        parser.add_argument("--json", type=Path, required=True, help="where to write the results")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            category = discover_categories(options["data"])[0]
        except (FileNotFoundError, IndexError) as error:
            raise CommandError(f"no MVTec-layout category at {options['data']}: {error}") from error
        try:
            clients = [int(value) for value in options["clients"].split(",")]
        except ValueError as error:
            raise CommandError(f"--clients takes whole numbers separated by commas: {error}") from error
        if not clients or min(clients) < 1 or options["requests"] < 1:
            raise CommandError("--clients and --requests must be at least 1")
        made = options["collection"] is None
        if made:
            collection = benchmark_collection(
                category, train_limit=options["train_limit"], log=self.stdout.write
            )
        else:
            collection = Collection.objects.filter(pk=options["collection"]).first()
            if collection is None or production_version(collection_id=collection.pk) is None:
                raise CommandError(
                    f"collection {options['collection']} does not exist or has no promoted model"
                )
        try:
            with tempfile.TemporaryDirectory() as logs:
                result = inspection_benchmark(
                    collection,
                    category.test[:16],
                    log_dir=Path(logs),
                    log=self.stdout.write,
                    clients=clients,
                    requests=options["requests"],
                )
        finally:
            if made and not options["keep"]:
                benchmark_cleanup(collection)
        options["json"].parent.mkdir(parents=True, exist_ok=True)
        options["json"].write_text(json.dumps(result, indent=2))
        self.stdout.write(benchmark_table(result))
        self.stdout.write(f"wrote {options['json']}")
