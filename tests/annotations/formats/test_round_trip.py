"""Export a collection in each format, import the export again (the one import path, as
`manage.py import_dataset --format` does), and get the same labels back, less what each format
documents it cannot carry."""

import pytest

from annotations.geometry import mask_decode
from annotations.models import AnnotationRevision, Collection, RevisionReason
from annotations.services.importing import dataset_import
from annotations.services.label_export import labels_export_write
from annotations.services.projects import project_create
from inference.services.importing import dataset_plan
from tests.annotations.formats.helpers import labeled_collection, labels_by_content
from tests.factories import UserFactory


@pytest.fixture
def source(db):
    user = UserFactory(username="exporter")
    project = project_create(name="Source", created_by=user)
    collection = Collection.objects.create(project=project, name="tiles")
    labeled_collection(collection, user)
    return collection


def round_trip(source: Collection, format: str, tmp_path):
    folder = tmp_path / "export" / "tiles"
    folder.mkdir(parents=True)
    report = labels_export_write(collection=source, format=format, directory=folder)
    user = UserFactory(username="importer")
    target = project_create(name=f"Target {format}", created_by=user)
    plans = dataset_plan(folder, format=format)
    (summary,) = list(dataset_import(plans=plans, project=target, imported_by=user))
    assert summary.rejected == []
    imported = Collection.objects.get(project=target, name="tiles")
    return report, summary, labels_by_content(source), labels_by_content(imported), imported


def _exact(regions, kinds=("box", "polygon", "mask", "point", "scribble")):
    return [(kind, geometry, name) for kind, geometry, name in regions if kind in kinds]


def test_coco_carries_boxes_polygons_and_masks_exactly_and_every_verdict(source, tmp_path):
    report, summary, before, after, imported = round_trip(source, "coco", tmp_path)

    assert set(after) == set(before)
    for sha, (_, verdict, regions) in before.items():
        assert after[sha][1] == verdict
        assert after[sha][2] == _exact(regions, ("box", "polygon", "mask"))
    assert sorted(why for _, why in report.left_out) == [
        "a point has no COCO form",
        "a scribble has no COCO form",
    ]
    revisions = AnnotationRevision.objects.filter(annotation__image__collection=imported)
    assert revisions.count() == 5 and set(revisions.values_list("reason", flat=True)) == {
        RevisionReason.IMPORT
    }
    assert summary.labeled == 5


def test_labelme_carries_every_kind_of_region(source, tmp_path):
    report, _, before, after, _ = round_trip(source, "labelme", tmp_path)

    assert report.left_out == []
    assert {sha: (v, r) for sha, (_, v, r) in after.items()} == {
        sha: (v, r) for sha, (_, v, r) in before.items()
    }


def test_yolo_carries_boxes_and_polygons_to_rounding_and_the_splits(source, tmp_path):
    report, _, before, after, _ = round_trip(source, "yolo", tmp_path)

    assert set(after) == set(before)
    for sha, (split, verdict, regions) in before.items():
        got_split, got_verdict, got = after[sha]
        assert got_split == split
        kept = _exact(regions, ("box", "polygon"))
        if verdict == "defective" and not kept:
            assert got_verdict == "unlabeled" and got == []
            continue
        assert got_verdict == verdict
        assert [(k, n) for k, _, n in got] == [(k, n) for k, _, n in kept]
        for (_, geometry, _), (_, expected, _) in zip(got, kept, strict=True):
            if "points" in expected:
                flat = [value for point in expected["points"] for value in point]
                assert [value for point in geometry["points"] for value in point] == pytest.approx(
                    flat, abs=1e-9
                )
            else:
                assert geometry == pytest.approx(expected, abs=1e-9)
    assert ("images/test/mask.png", "a mask has no YOLO form") in report.left_out


def test_cvat_carries_every_kind_of_region_of_labeled_images(source, tmp_path):
    report, _, before, after, _ = round_trip(source, "cvat", tmp_path)

    labeled = {sha: (v, r) for sha, (_, v, r) in before.items() if v != "unlabeled"}
    assert {sha: (v, r) for sha, (_, v, r) in after.items()} == labeled
    assert [why for _, why in report.left_out] == ["it is unlabeled, and cvat has no place for such an image"]


def test_mvtec_layout_paints_one_mask_per_defective_image(source, tmp_path):
    report, _, before, after, _ = round_trip(source, "mvtec", tmp_path)

    labeled = {sha for sha, (_, verdict, _) in before.items() if verdict != "unlabeled"}
    assert set(after) == labeled
    for sha in labeled:
        split, verdict, regions = before[sha]
        got_split, got_verdict, got = after[sha]
        assert got_verdict == verdict
        assert got_split == ("train" if split == "train" else "test")
        if regions:
            ((kind, geometry, name),) = got
            assert kind == "mask" and name == regions[0][2]
            masks = [r for r in regions if r[0] == "mask"]
            if masks:
                assert (mask_decode(geometry) == mask_decode(masks[0][1])).all()
    weak = next(g for _, v, g in after.values() if g and g[0][1]["counts"] == [0, 40 * 30])
    assert weak[0][2] == "dent"
    assert "point and scribble regions have no place in a mask" in {why for _, why in report.left_out}


def test_importing_an_export_again_adds_and_relabels_nothing(source, tmp_path):
    _, _, _, _, imported = round_trip(source, "coco", tmp_path)
    folder = tmp_path / "export" / "tiles"
    revisions = AnnotationRevision.objects.filter(annotation__image__collection=imported).count()

    (summary,) = list(dataset_import(plans=dataset_plan(folder, format="coco"), project=imported.project))

    assert (summary.added, summary.duplicates, summary.labeled, summary.skipped) == (0, 6, 0, [])
    assert AnnotationRevision.objects.filter(annotation__image__collection=imported).count() == revisions
