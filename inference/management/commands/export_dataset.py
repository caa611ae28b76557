from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Collection
from annotations.services.label_export import LABEL_FORMATS, labels_export_write


class Command(BaseCommand):
    help = (
        "Write a collection's images and labels into a folder in a label format (COCO, LabelMe, YOLO, "
        "CVAT for images 1.1, or the MVTec AD layout anomalib reads). `import_dataset DIR --format` "
        "takes the folder back."
    )

    def add_arguments(self, parser):
        parser.add_argument("collection_id", type=int, help="the collection's id (see the collection's page)")
        parser.add_argument("--format", required=True, choices=LABEL_FORMATS)
        parser.add_argument("--out", required=True, type=Path, help="the folder to write; new or empty")

    def handle(self, *args, collection_id: int, format: str, out: Path, **options):
        collection = Collection.objects.filter(pk=collection_id).select_related("project").first()
        if collection is None:
            raise CommandError(f"there is no collection {collection_id}")
        if out.exists() and (not out.is_dir() or any(out.iterdir())):
            raise CommandError(f"{out} is not an empty folder: name a new folder, or empty it first")
        out.mkdir(parents=True, exist_ok=True)
        total = collection.images.count()
        with tqdm(total=total, unit="img", disable=options["verbosity"] == 0) as bar:
            report = labels_export_write(
                collection=collection,
                format=format,
                directory=out,
                progress=lambda done, total: bar.update(done - bar.n),
            )
        self.stdout.write(
            f"{collection.name}: {report.images} images ({report.labeled} labeled, {report.regions} regions) "
            f"written to {out} as {format}"
        )
        for name, reason in report.left_out:
            self.stderr.write(f"  left out of {name}: {reason}")
        self.stdout.write(self.style.SUCCESS("Export finished."))
