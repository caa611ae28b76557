"""``manage.py benchmark_export``: speed and size of an exported model on every runtime, as JSON."""

from __future__ import annotations

import json
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.ml.data.mvtec import discover_categories
from inference.ml.experiments.export_speed import export_benchmark, export_table


class Command(BaseCommand):
    help = (
        "Fit PatchCore on each category's training images, export it, and time PyTorch, onnxruntime, "
        "OpenVINO FP32/FP16 and the C++ program (--cpp) at batch 1 and 16; also the graph's cost over "
        "the bare backbone's, file sizes, parity and peak memory. Writes JSON."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--data",
            type=Path,
            default=Path(settings.LOUPE_DATASETS_DIR) / "mtd",
            help="an MVTec-layout category or folder of them (default: the shared magnetic tiles)",
        )
        parser.add_argument("--train-limit", type=int, default=100, help="training images fitted on")
        parser.add_argument("--test-limit", type=int, default=32, help="test images timed")
        parser.add_argument("--cpp", type=Path, help="the built loupe-inspect program (deploy/cpp)")
        parser.add_argument("--device", default="cpu", help="where PyTorch runs (cpu, cuda)")
        parser.add_argument("--json", type=Path, required=True, help="where to write the results")

    def handle(self, *args, **options) -> None:
        if options["cpp"] is not None and not options["cpp"].is_file():
            raise CommandError(f"--cpp {options['cpp']} does not exist: build deploy/cpp first (README)")
        try:
            categories = discover_categories(options["data"])
        except FileNotFoundError as error:
            raise CommandError(str(error)) from error
        rows = [
            export_benchmark(
                category,
                train_limit=options["train_limit"],
                test_limit=options["test_limit"],
                cpp_program=options["cpp"],
                device=options["device"],
                log=self.stdout.write,
            )
            for category in categories
        ]
        options["json"].parent.mkdir(parents=True, exist_ok=True)
        options["json"].write_text(json.dumps({"results": rows}, indent=2))
        self.stdout.write(export_table(rows))
        self.stdout.write(f"wrote {options['json']}")
