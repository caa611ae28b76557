"""``manage.py benchmark_inspection``: latency and throughput of the inspection service, as JSON."""

import json
import tempfile
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.test.utils import override_settings

from annotations.models import Collection
from inference.ml.data.mvtec import Category, discover_categories
from inference.ml.device import resolve_device
from inference.selectors import production_version
from line.benchmark import (
    BATCH_REQUESTS,
    DEVICE,
    REQUESTS,
    benchmark_cleanup,
    benchmark_collection,
    benchmark_table,
    inspection_benchmark,
)


class Command(BaseCommand):
    help = (
        "Start the inspection service on loopback and time one image and batches of 16 per request, "
        "with 1, 4 and 20 clients at once: p50/p95/p99 latency, the model's own time, the service's "
        "overhead (and whether one image's p95 is under 15 ms) and images/s, on the CPU unless --device "
        "says otherwise. Writes JSON."
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
        parser.add_argument(
            "--requests",
            type=int,
            default=REQUESTS,
            help="requests of one image per run (at least 2 a client)",
        )
        parser.add_argument(
            "--batch-requests",
            type=int,
            default=BATCH_REQUESTS,
            help="requests of a batch of 16 per run (at least 2 a client)",
        )
        parser.add_argument(
            "--device",
            default=DEVICE,
            help="where the model runs, in the service it starts and in this process (training, the "
            "model timed alone): cpu, cuda, cuda:N or auto (default: cpu, whatever LOUPE_ML_DEVICE says)",
        )
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
        if not clients or min(clients) < 1 or min(options["requests"], options["batch_requests"]) < 1:
            raise CommandError("--clients, --requests and --batch-requests must be at least 1")
        try:
            resolve_device(options["device"])
        except (RuntimeError, ValueError) as error:
            raise CommandError(f"--device {options['device']!r}: {error}") from error
        with override_settings(LOUPE_ML_DEVICE=options["device"]):
            result = self._benchmark(category, clients, options)
        options["json"].parent.mkdir(parents=True, exist_ok=True)
        options["json"].write_text(json.dumps(result, indent=2))
        self.stdout.write(benchmark_table(result))
        self.stdout.write(f"wrote {options['json']}")

    def _benchmark(self, category: Category, clients: list[int], options: dict[str, Any]) -> dict[str, Any]:
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
                    batch_requests=options["batch_requests"],
                    device=options["device"],
                )
        finally:
            if made and not options["keep"]:
                benchmark_cleanup(collection)
        return result
