"""``manage.py export VERSION --out DIR``: a model written for runners outside Loupe, checked here."""

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from inference.ml.export.bundle import GATED_RUNTIMES
from inference.models import ModelVersion
from inference.services.exporting import NothingToCompare, export_write
from inference.services.exports import NotExportable
from inference.services.versions import VersionNotReady


class Command(BaseCommand):
    help = (
        "Export a ready model version into DIR: model.onnx, manifest.json and openvino/model.xml (+ .bin, "
        "and an FP16 model_fp16.xml), then compare onnxruntime and OpenVINO with the model on its test "
        "images (or a sample of its training images). Runs here, not in the workers; fails when the FP32 "
        "runtimes differ from the model."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("version", type=int, help="model version id")
        parser.add_argument("--out", required=True, type=Path, help="folder to write (created if needed)")

    def handle(self, *args: Any, **options: Any) -> None:
        versions = ModelVersion.objects.select_related("collection", "snapshot")
        version = versions.filter(pk=options["version"]).first()
        if version is None:
            raise CommandError(f"no model version {options['version']}")
        show = options["verbosity"] > 1

        def progress(stage: str, done: int, total: int) -> None:
            if show:
                self.stderr.write(f"{stage} {done}/{total}")

        try:
            result = export_write(version=version, directory=options["out"], progress=progress)
        except (VersionNotReady, NotExportable, NothingToCompare, ValueError) as error:
            raise CommandError(str(error)) from None
        for figures in result.parity:
            if figures.passed:
                verdict = "passed"
            else:
                verdict = (
                    "FAILED" if figures.runtime in GATED_RUNTIMES else "outside the tolerance (not required)"
                )
            self.stdout.write(f"{figures.sentence()}: {verdict}")
        if not result.passed:
            raise CommandError("the export differs from the model: " + "; ".join(result.failures))
        for name in result.files:
            self.stdout.write(f"{options['out'] / name} ({result.sizes[name]} bytes)")
