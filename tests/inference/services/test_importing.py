import io
from pathlib import Path

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from annotations.geometry import mask_decode
from annotations.models import (
    AnnotationRevision,
    Collection,
    Image,
    Membership,
    Project,
    Region,
    RevisionReason,
    Role,
)
from annotations.services.projects import project_create
from inference.services.demo import demo_dataset_write
from inference.services.importing import DatasetError, dataset_plan
from tests.conftest import png_bytes
from tests.factories import UserFactory

OWNER = "importer"


def run_import(path: Path, project: str = "Imported", owner: str | None = OWNER) -> str:
    UserFactory(username=OWNER)
    out = io.StringIO()
    call_command(
        "import_dataset",
        str(path),
        project=project,
        owner=owner,
        stdout=out,
        stderr=io.StringIO(),
        verbosity=0,
    )
    return out.getvalue()


@pytest.fixture
def mvtec_category(tmp_path) -> Path:
    return demo_dataset_write(root=tmp_path / "data", train=6, test_normal=2, test_per_defect=2)


@pytest.mark.django_db
def test_mvtec_layout_becomes_a_labeled_collection(mvtec_category):
    output = run_import(mvtec_category)

    collection = Collection.objects.get(project__name="Imported", name=mvtec_category.name)
    images = Image.objects.filter(collection=collection).select_related("annotation")
    assert images.count() == 6 + 2 + 4 * 2
    assert images.filter(split="train", annotation__verdict="normal").count() == 6
    assert images.filter(split="test", annotation__verdict="normal").count() == 2
    assert images.filter(split="test", annotation__verdict="defective").count() == 8
    assert set(collection.defect_types.values_list("name", flat=True)) == {
        "scratch",
        "stain",
        "hole",
        "crack",
    }
    assert "16 added, 0 already there, 8 masks" in output

    # Each mask file arrives unchanged as an exact mask region of its defect type.
    for region in Region.objects.filter(annotation__image__collection=collection).select_related(
        "annotation__image", "defect_type"
    ):
        image = region.annotation.image
        mask_file = (
            mvtec_category
            / "ground_truth"
            / region.defect_type.name
            / f"{Path(image.original_name).stem}_mask.png"
        )
        expected = np.asarray(PILImage.open(mask_file)) > 127
        assert (region.kind, region.precision) == ("mask", "exact")
        assert np.array_equal(mask_decode(region.geometry), expected)
    assert Region.objects.filter(annotation__image__collection=collection).count() == 8
    assert (
        AnnotationRevision.objects.filter(
            annotation__image__collection=collection, reason=RevisionReason.IMPORT
        ).count()
        == 16
    )


@pytest.mark.django_db
def test_a_second_import_adds_nothing(mvtec_category, media_root):
    run_import(mvtec_category)
    files, revisions = sorted(media_root.rglob("*")), AnnotationRevision.objects.count()

    output = run_import(mvtec_category)

    assert "0 added, 16 already there" in output
    assert Image.objects.count() == 16
    assert sorted(media_root.rglob("*")) == files
    assert AnnotationRevision.objects.count() == revisions


@pytest.mark.django_db
def test_a_plain_folder_is_one_unlabeled_collection_and_bad_files_are_reported(tmp_path, media_root):
    folder = tmp_path / "line-3"
    folder.mkdir()
    (folder / "a.png").write_bytes(png_bytes(seed=1))
    (folder / "b.png").write_bytes(png_bytes(seed=2))
    (folder / "broken.png").write_bytes(png_bytes(seed=3)[:60])
    (folder / "notes.txt").write_text("not an image")

    out, err = io.StringIO(), io.StringIO()
    UserFactory(username=OWNER)
    call_command(
        "import_dataset", str(folder), project="Line", owner=OWNER, stdout=out, stderr=err, verbosity=0
    )

    images = Image.objects.filter(collection__name="line-3")
    assert sorted(images.values_list("original_name", flat=True)) == ["a.png", "b.png"]
    assert set(images.values_list("split", "annotation__verdict")) == {("unassigned", "unlabeled")}
    assert "1 rejected" in out.getvalue()
    assert "broken.png" in err.getvalue() and "truncated or corrupt" in err.getvalue()


@pytest.mark.django_db
def test_an_interrupted_import_is_completed_by_a_rerun(mvtec_category):
    run_import(mvtec_category)
    # As if the process died after storing an image and before labeling it.
    image = Image.objects.filter(annotation__verdict="defective").first()
    image.annotation.regions.all().delete()
    AnnotationRevision.objects.filter(annotation=image.annotation).delete()
    type(image.annotation).objects.filter(pk=image.annotation.pk).update(verdict="unlabeled", version=0)

    run_import(mvtec_category)

    image.annotation.refresh_from_db()
    assert (image.annotation.verdict, image.annotation.version) == ("defective", 1)
    assert image.annotation.regions.count() == 1


@pytest.mark.django_db
def test_a_new_project_gets_its_owner_as_manager(mvtec_category):
    run_import(mvtec_category)

    project = Project.objects.get(name="Imported")
    assert list(Membership.objects.filter(project=project).values_list("user__username", "role")) == [
        (OWNER, Role.MANAGER)
    ]


@pytest.mark.django_db
def test_a_new_project_without_an_owner_is_refused_and_nothing_is_made(mvtec_category):
    with pytest.raises(CommandError, match="pass --owner"):
        run_import(mvtec_category, owner=None)

    assert not Project.objects.exists() and not Image.objects.exists()


@pytest.mark.django_db
def test_an_existing_project_of_any_case_needs_no_owner(mvtec_category):
    manager = UserFactory(username="lead")
    project = project_create(name="Imported", created_by=manager)

    run_import(mvtec_category, project="IMPORTED", owner=None)

    assert Project.objects.get() == project
    assert Image.objects.filter(collection__project=project).count() == 16


def test_a_folder_without_images_is_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="MVTec AD layout"):
        dataset_plan(tmp_path)
    with pytest.raises(CommandError, match="is not a folder"):
        call_command("import_dataset", str(tmp_path / "missing"), project="X")


@pytest.mark.django_db
@pytest.mark.slow
def test_the_real_mtd_dataset_imports_completely_and_once(mtd_path):
    first = run_import(mtd_path, project="MTD")
    second = run_import(mtd_path, project="MTD")

    assert "1344 added, 0 already there, 392 masks (4 of them empty), 0 rejected" in first
    assert "0 added, 1344 already there" in second
    assert Project.objects.filter(name="MTD").count() == 1
    assert Image.objects.count() == 1344
    assert Region.objects.filter(kind="mask").count() == 388
    assert Image.objects.filter(annotation__verdict="defective").count() == 392
