from pathlib import Path

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from annotations.models import Project
from annotations.selectors import project_list
from annotations.services.importing import dataset_import
from annotations.services.projects import ProjectNameTaken, project_create
from inference.services.importing import DATASET_FORMATS, DatasetError, dataset_plan


def _project_named(name: str, *, owner: AbstractBaseUser | None) -> Project | None:
    """The project of that name (any case) among the owner's, or among all without an owner.

    Names are unique only among the projects one user can see, so two teams may share one.
    """
    projects = project_list(user=owner) if owner is not None else Project.objects.all()
    found = list(projects.filter(name__iexact=name).order_by("pk"))
    if len(found) > 1:
        ids = ", ".join(str(project.pk) for project in found)
        if owner is None:
            raise CommandError(
                f"{len(found)} projects are named {name!r} (ids {ids}): pass --owner USERNAME to pick "
                "among that user's projects"
            )
        raise CommandError(
            f"{len(found)} of {owner.get_username()}'s projects are named {name!r} (ids {ids}): rename "
            "one first (PATCH /api/v1/projects/ID/)"
        )
    return found[0] if found else None


class Command(BaseCommand):
    help = (
        "Import a folder of images, datasets in the MVTec AD layout, or images with their labels in COCO, "
        "LabelMe, YOLO or CVAT files, into a project."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "path",
            type=Path,
            help="an MVTec AD category, a folder of categories, of images, or of images and label files",
        )
        parser.add_argument(
            "--format",
            choices=DATASET_FORMATS,
            help="the dataset's layout; left out, the MVTec AD layout when the folder is in it, else a "
            "plain folder of images. A label format imports one collection named after the folder; "
            "a label file that does not match its images is refused whole",
        )
        parser.add_argument(
            "--project",
            required=True,
            help="project name (any case): with --owner, one of that user's projects, created if they have "
            "none of that name; without, the one project of that name",
        )
        parser.add_argument(
            "--owner",
            help="username recorded as importer; needed to create a project, whose manager it becomes",
        )

    def handle(self, *args, path: Path, project: str, owner: str | None, format: str | None, **options):
        try:
            plans = dataset_plan(path, format=format)
        except DatasetError as error:
            raise CommandError(str(error)) from None
        user = None
        if owner:
            user = get_user_model().objects.filter(username=owner).first()
            if user is None:
                raise CommandError(f"no user named {owner!r}: create it first (manage.py createsuperuser)")
        target = _project_named(project, owner=user)
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
                f"{len(summary.rejected)} rejected, {summary.labeled} labeled, "
                f"{len(summary.skipped)} kept their own labels"
            )
            for file_path, reason in summary.rejected:
                self.stderr.write(f"  rejected {file_path}: {reason}")
            for name, reason in summary.skipped:
                self.stderr.write(f"  kept the labels of {name}: {reason}")
        self.stdout.write(self.style.SUCCESS("Import finished."))
