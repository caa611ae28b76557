from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Project
from annotations.services.importing import dataset_import
from annotations.services.projects import ProjectNameTaken, project_create
from inference.services.importing import DatasetError, dataset_plan


class Command(BaseCommand):
    help = "Import a folder of images, or datasets in the MVTec AD layout, into a project."

    def add_arguments(self, parser):
        parser.add_argument(
            "path", type=Path, help="an MVTec AD category, a folder of categories, or of images"
        )
        parser.add_argument(
            "--project", required=True, help="project name (any case); created if it does not exist"
        )
        parser.add_argument(
            "--owner",
            help="username recorded as importer; needed to create a project, whose manager it becomes",
        )

    def handle(self, *args, path: Path, project: str, owner: str | None, **options):
        try:
            plans = dataset_plan(path)
        except DatasetError as error:
            raise CommandError(str(error)) from None
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"no user named {owner!r}: create it first (manage.py createsuperuser)")
        target = Project.objects.filter(name__iexact=project).first()
        if target is None:
            # A project always has a manager: a new one needs someone to be it.
            if user is None:
                raise CommandError(
                    f"there is no project {project!r}: pass --owner USERNAME to create it with that user "
                    "as its manager"
                )
            try:
                target = project_create(name=project, created_by=user)
            except ProjectNameTaken as error:
                raise CommandError(str(error)) from None
        total = sum(len(plan.images) for plan in plans)
        self.stdout.write(f"Importing {total} images into {len(plans)} collection(s) of project {project!r}")
        with tqdm(total=total, unit="img", disable=options["verbosity"] == 0) as progress:
            summaries = list(
                dataset_import(
                    plans=plans, project=target, imported_by=user, on_image=lambda planned: progress.update()
                )
            )
        for summary in summaries:
            self.stdout.write(
                f"{summary.name}: {summary.added} added, {summary.duplicates} already there, "
                f"{summary.masks} masks ({summary.empty_masks} of them empty), "
                f"{len(summary.rejected)} rejected"
            )
            for file_path, reason in summary.rejected:
                self.stderr.write(f"  rejected {file_path}: {reason}")
        self.stdout.write(self.style.SUCCESS("Import finished."))
