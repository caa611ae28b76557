"""Imports never follow symbolic links, and a bad mask refuses its image, never the import."""

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.models import Collection, Image
from annotations.services.importing import LINK_REFUSED, dataset_import
from inference.services.demo import demo_dataset_write
from inference.services.importing import dataset_plan
from tests.annotations.api.helpers import bomb_png
from tests.conftest import png_bytes
from tests.inference.services.test_importing import run_import


@pytest.fixture
def category(tmp_path) -> Path:
    return demo_dataset_write(root=tmp_path / "data", train=3, test_normal=1, test_per_defect=1)


def _imported(team, path: Path):
    (summary,) = dataset_import(plans=dataset_plan(path), project=team.project, imported_by=team.manager)
    return summary, Image.objects.filter(collection__project=team.project).exclude(pk=team.image.pk)


@pytest.mark.django_db
def test_links_into_the_media_root_are_refused_never_followed(category, other_team, media_root, team):
    theirs = media_root / other_team.image.file.name
    (category / "train" / "good" / "theirs.png").symlink_to(theirs)
    (category / "test" / "borrowed").symlink_to(theirs.parent, target_is_directory=True)
    mask = category / "ground_truth" / "hole" / "000_mask.png"
    mask.rename(mask.with_name("real_mask.png"))
    mask.symlink_to(mask.with_name("real_mask.png"))

    summary, images = _imported(team, category)

    assert not images.filter(sha256=other_team.image.sha256).exists()
    assert images.count() == 3 + 1 + 4  # every real file, and only them
    refused = {Path(name).name: reason for name, reason in summary.rejected}
    assert refused == {"theirs.png": LINK_REFUSED, "borrowed": LINK_REFUSED, "000_mask.png": LINK_REFUSED}
    hole = images.get(original_name="hole/000.png")
    assert hole.annotation.verdict == "defective" and not hole.annotation.regions.exists()


@pytest.mark.django_db
def test_a_linked_category_or_file_in_a_plain_folder_is_reported_by_the_command(
    tmp_path, other_team, media_root
):
    folder = tmp_path / "plain"
    folder.mkdir()
    (folder / "mine.png").write_bytes(png_bytes(seed=5))
    (folder / "theirs.png").symlink_to(media_root / other_team.image.file.name)

    output = run_import(folder)

    collection = Collection.objects.get(project__name="Imported", name="plain")
    assert list(collection.images.values_list("original_name", flat=True)) == ["mine.png"]
    assert "1 rejected" in output


@pytest.mark.django_db
def test_a_label_file_reaching_an_image_through_a_link_is_refused(tmp_path, other_team, media_root, team):
    dataset = tmp_path / "yolo"
    (dataset / "images").mkdir(parents=True)
    (dataset / "images" / "mine.png").write_bytes(png_bytes(seed=6))
    (dataset / "images" / "theirs.png").symlink_to(media_root / other_team.image.file.name)
    (dataset / "classes.txt").write_text("dent\n")

    plan = dataset_plan(dataset, format="yolo")[0]

    assert [p.path.name for p in plan.images] == ["mine.png"]
    assert any("theirs.png" in f"{name} {why}" and LINK_REFUSED in why for name, why in plan.refused)


def _jpeg(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    PILImage.new("L", size, 255).save(out, format="JPEG")
    return out.getvalue()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("mask_content", "reason"),
    [
        (lambda size: bomb_png(), "Mpx limit"),
        (_jpeg, "not an image in an accepted format (PNG, BMP, TIFF)"),
        (lambda size: b"", "mask is empty"),
        (lambda size: png_bytes(size[0] + 1, size[1]), "the image"),
    ],
    ids=["bomb", "jpeg", "empty", "other size"],
)
def test_a_bad_mask_refuses_its_image_and_the_import_goes_on(category, team, mask_content, reason):
    with PILImage.open(category / "test" / "hole" / "000.png") as picture:
        size = picture.size
    (category / "ground_truth" / "hole" / "000_mask.png").write_bytes(mask_content(size))

    summary, images = _imported(team, category)

    assert images.count() == 3 + 1 + 4 - 1
    ((name, why),) = summary.rejected
    assert name.endswith("hole/000.png") and reason in why
    assert summary.masks == 3


def test_the_learning_core_reads_masks_as_lossless_files_only(category):
    from inference.ml.data import discover_categories, load_mask

    (found,) = discover_categories(category)
    mask = next(m for m in found.masks if m is not None)
    mask.write_bytes(_jpeg((8, 8)))
    with pytest.raises(PILImage.UnidentifiedImageError):
        load_mask(mask, (8, 8))
    assert np.asarray(found.links).size == 0
