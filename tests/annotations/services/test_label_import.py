"""Importing labeled datasets: a label file that does not match its images is refused whole with what
to fix and nothing of it is stored; imported labels are revisions with reason import; a human label
is never overwritten; the command line takes the format and exports a collection."""

import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from PIL import Image as PILImage

from annotations.models import AnnotationRevision, Collection, Image, Region, RevisionReason
from annotations.services.annotations import annotation_update
from annotations.services.importing import dataset_import
from inference.services.importing import DatasetError, dataset_plan
from tests.annotations.formats.helpers import labeled_collection, labels_by_content
from tests.factories import UserFactory


def _png(path: Path, width: int = 8, height: int = 6, value: int = 0) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.new("L", (width, height), value).save(path)


def _labelme(folder: Path, image: str, *, width: int = 8, height: int = 6, points=None) -> Path:
    shape = {"label": "scratch", "points": points or [[1, 1], [5, 1], [5, 4]], "shape_type": "polygon"}
    document = {"shapes": [shape], "imagePath": image, "imageWidth": width, "imageHeight": height}
    path = folder / Path(image).with_suffix(".json").name
    path.write_text(json.dumps(document))
    return path


@pytest.fixture
def dataset(tmp_path) -> Path:
    folder = tmp_path / "tiles"
    for index, name in enumerate(["a.png", "b.png", "c.png", "d.png"]):
        _png(folder / name, value=10 + index)
    _labelme(folder, "a.png")
    return folder


def _import(team, folder: Path, format: str):
    plans = dataset_plan(folder, format=format)
    return list(dataset_import(plans=plans, project=team.project, imported_by=team.manager))


@pytest.mark.parametrize(
    "spoil, message",
    [
        (lambda f: _labelme(f, "b.png", width=9), "says b.png is 9×6 px, but it is 8×6 px"),
        (lambda f: _labelme(f, "b.png", points=[[1, 1], [50, 1], [5, 4]]), "lies outside the 8×6 image"),
        (
            lambda f: _labelme(f, "zz.png").rename(f / "b.json"),
            "names image zz.png, which is not in the folder",
        ),
        (lambda f: (f / "b.json").write_text('{"shapes": [}'), "b.json is not valid JSON"),
    ],
)
def test_a_labelme_file_that_does_not_match_its_image_is_refused_and_stores_nothing(
    team, dataset, spoil, message
):
    spoil(dataset)
    images_before = Image.objects.count()

    (summary,) = _import(team, dataset, "labelme")

    ((where, why),) = summary.rejected
    assert where.endswith(".json") and message in why
    names = set(Image.objects.filter(collection__name="tiles").values_list("original_name", flat=True))
    # b.png's label file was refused: b.png is not imported at all; the others are.
    assert "b.png" not in names and {"a.png", "c.png", "d.png"} <= names
    assert Image.objects.count() == images_before + len(names)
    labeled = Image.objects.get(collection__name="tiles", original_name="a.png")
    assert labeled.annotation.verdict == "defective" and labeled.annotation.regions.count() == 1
    assert (
        Image.objects.get(collection__name="tiles", original_name="c.png").annotation.verdict == "unlabeled"
    )


def test_a_coco_file_with_an_unknown_category_is_refused_and_nothing_is_stored(team, dataset):
    document = {
        "images": [{"id": 1, "file_name": "a.png", "width": 8, "height": 6}],
        "categories": [{"id": 1, "name": "scratch"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 4, "bbox": [1, 1, 2, 2]}],
    }
    (dataset / "annotations.json").write_text(json.dumps(document))
    collections = Collection.objects.count()

    with pytest.raises(DatasetError, match="annotations.json: annotation 1 names category id 4"):
        dataset_plan(dataset, format="coco")

    assert (
        Collection.objects.count() == collections and not Image.objects.filter(source="import:coco").exists()
    )


def test_a_coco_file_naming_a_missing_image_is_refused_whole(team, dataset):
    document = {
        "images": [
            {"id": 1, "file_name": "a.png", "width": 8, "height": 6},
            {"id": 2, "file_name": "gone.png", "width": 8, "height": 6},
        ],
        "categories": [{"id": 1, "name": "scratch"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [1, 1, 2, 2]}],
    }
    (dataset / "annotations.json").write_text(json.dumps(document))

    with pytest.raises(DatasetError, match="names image gone.png, which is not in the folder: add it"):
        dataset_plan(dataset, format="coco")
    assert not Image.objects.filter(source="import:coco").exists()


def test_imported_labels_are_import_revisions_and_a_human_label_is_kept(team, dataset):
    (first,) = _import(team, dataset, "labelme")
    image = Image.objects.get(collection__name="tiles", original_name="a.png")
    (revision,) = AnnotationRevision.objects.filter(annotation__image=image)
    assert (revision.reason, revision.author, revision.comment) == (
        RevisionReason.IMPORT,
        team.manager,
        "imported from a.json",
    )
    assert first.labeled == 1
    # A person relabels it; the same file imported again leaves their label alone and says so.
    annotation_update(
        annotation_id=image.annotation.pk,
        expected_version=1,
        author=team.annotator,
        reason=RevisionReason.MANUAL_EDIT,
        verdict="normal",
        regions=[],
    )

    (again,) = _import(team, dataset, "labelme")

    assert again.added == 0 and again.labeled == 0
    assert again.skipped == [("a.png", "it already has a label (version 2, manual_edit), which was kept")]
    image.annotation.refresh_from_db()
    assert (
        image.annotation.verdict == "normal"
        and not Region.objects.filter(annotation=image.annotation).exists()
    )


def test_an_unknown_format_and_a_folder_of_no_label_file(tmp_path):
    _png(tmp_path / "x" / "a.png")
    with pytest.raises(DatasetError, match="unknown format 'pascal'"):
        dataset_plan(tmp_path / "x", format="pascal")
    plans = dataset_plan(tmp_path / "x", format="labelme")
    assert [p.verdict for p in plans[0].images] == ["unlabeled"]
    with pytest.raises(DatasetError, match="no cvat label file"):
        dataset_plan(tmp_path / "x", format="cvat")


FULL = {
    "first.png": ("unlabeled", []),
    "normal-train.png": ("normal", []),
    "normal-test.png": ("normal", []),
    "boxes.png": ("defective", [("box", "scratch"), ("polygon", "scratch")]),
    "mask.png": ("defective", [("mask", "dent")]),
    "weak.png": ("defective", [("point", "dent"), ("scribble", "dent"), ("box", "dent")]),
    "unlabeled.png": ("unlabeled", []),
}
NO_UNLABELED = {name: labels for name, labels in FULL.items() if labels[0] != "unlabeled"}
UNLABELED_LEFT_OUT = [
    f"left out of {name}: it is unlabeled, and {{format}} has no place for such an image"
    for name in ("first.png", "unlabeled.png")
]
# What each format carries back (per image: verdict, regions), the lines its export reports as left
# out, and the import's summary line.
COMMAND_CASES = {
    "coco": (
        "annotations.json",
        FULL | {"weak.png": ("defective", [("box", "dent")])},
        [
            "left out of images/weak.png: a point has no COCO form",
            "left out of images/weak.png: a scribble has no COCO form",
        ],
        "7 added, 0 already there, 0 masks (0 of them empty), 0 rejected, 5 labeled",
    ),
    "labelme": (
        "boxes.json",
        FULL,
        [],
        "7 added, 0 already there, 0 masks (0 of them empty), 0 rejected, 5 labeled",
    ),
    "yolo": (
        "data.yaml",
        FULL | {"mask.png": ("unlabeled", []), "weak.png": ("defective", [("box", "dent")])},
        [
            "left out of images/test/mask.png: a mask has no YOLO form",
            "left out of images/test/mask.png: defective with no box or polygon: it gets no label file",
            "left out of images/unassigned/weak.png: a point has no YOLO form",
            "left out of images/unassigned/weak.png: a scribble has no YOLO form",
        ],
        "7 added, 0 already there, 0 masks (0 of them empty), 0 rejected, 4 labeled",
    ),
    "cvat": (
        "annotations.xml",
        NO_UNLABELED,
        UNLABELED_LEFT_OUT,
        "5 added, 0 already there, 0 masks (0 of them empty), 0 rejected, 5 labeled",
    ),
    "mvtec": (
        "ground_truth/scratch/boxes_mask.png",
        NO_UNLABELED
        | {"boxes.png": ("defective", [("mask", "scratch")]), "weak.png": ("defective", [("mask", "dent")])},
        [
            *UNLABELED_LEFT_OUT,
            "left out of test/dent/weak.png: point and scribble regions have no place in a mask",
        ],
        "5 added, 0 already there, 3 masks (0 of them empty), 0 rejected, 5 labeled",
    ),
}


def _labels_by_name(collection: Collection) -> dict[str, tuple[str, list[tuple[str, str | None]]]]:
    images = Image.objects.filter(collection=collection).select_related("annotation")
    return {
        Path(image.original_name).name: (
            image.annotation.verdict,
            [
                (r.kind, r.defect_type.name if r.defect_type else None)
                for r in image.annotation.regions.select_related("defect_type").order_by("id")
            ],
        )
        for image in images
    }


def _export(collection: Collection, format: str, out: Path) -> tuple[str, str]:
    stdout, stderr = io.StringIO(), io.StringIO()
    call_command(
        "export_dataset", collection.pk, format=format, out=out, stdout=stdout, stderr=stderr, verbosity=0
    )
    return stdout.getvalue(), stderr.getvalue()


def _import_command(folder: Path, format: str) -> str:
    stdout = io.StringIO()
    call_command(
        "import_dataset",
        str(folder),
        project="Again",
        owner="importer",
        format=format,
        stdout=stdout,
        stderr=io.StringIO(),
        verbosity=0,
    )
    return stdout.getvalue()


@pytest.mark.parametrize("format", list(COMMAND_CASES))
def test_the_commands_export_a_collection_and_import_it_again(team, tmp_path, format):
    label_file, carried, left_out, summary = COMMAND_CASES[format]
    labeled_collection(team.collection, team.annotator)
    out = tmp_path / "exported"

    stdout, stderr = _export(team.collection, format, out)

    assert (out / label_file).is_file() and "Export finished." in stdout
    assert [line.strip() for line in stderr.splitlines()] == [line.format(format=format) for line in left_out]
    with pytest.raises(CommandError, match="is not an empty folder"):
        call_command("export_dataset", team.collection.pk, format=format, out=out, verbosity=0)
    with pytest.raises(CommandError, match="there is no collection 999999"):
        call_command("export_dataset", 999999, format=format, out=tmp_path / "none", verbosity=0)

    UserFactory(username="importer")
    assert f"exported: {summary}, 0 kept their own labels" in _import_command(out, format)

    imported = Collection.objects.get(project__name="Again", name="exported")
    assert _labels_by_name(imported) == carried
    if format in ("coco", "labelme", "cvat"):  # exact formats: each region comes back as it was
        before = labels_by_content(team.collection)
        for sha, (_, _, regions) in labels_by_content(imported).items():
            kinds = {kind for kind, _, _ in regions}
            assert regions == [region for region in before[sha][2] if region[0] in kinds]


def test_import_dataset_format_folder_takes_the_images_and_ignores_their_labels(team, tmp_path):
    labeled_collection(team.collection, team.annotator)
    out = tmp_path / "exported"
    _export(team.collection, "labelme", out)  # images with a LabelMe file beside each labeled one
    _png(out / "nested" / "deeper.png", value=200)  # a plain folder is its top-level images
    UserFactory(username="importer")

    stdout = _import_command(out, "folder")

    assert "exported: 7 added, 0 already there, 0 masks (0 of them empty), 0 rejected, 0 labeled" in stdout
    imported = Collection.objects.get(project__name="Again", name="exported")
    assert _labels_by_name(imported) == {name: ("unlabeled", []) for name in FULL}
    assert set(imported.images.values_list("split", flat=True)) == {"unassigned"}
    assert not AnnotationRevision.objects.filter(annotation__image__collection=imported).exists()
