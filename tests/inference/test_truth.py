"""The truth of an image at a snapshot: its label, its defect mask from masks and polygons, and the most
precise weak label its regions give; read at the snapshot's revision, not the current one."""

import numpy as np
import pytest

from annotations.geometry import mask_encode
from annotations.models import RevisionReason, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from inference.models import SnapshotRole
from inference.truth import DEFECTIVE, NORMAL, UNLABELED, ImageTruth, snapshot_labels, snapshot_truth
from tests.frontend.helpers import add_image
from tests.inference.helpers import snapshot_of


def region(kind: str, **geometry) -> dict:
    return {"kind": kind, "geometry": geometry, "precision": "rough", "defect_type": None}


def mask_region(x0: int, y0: int, x1: int, y1: int) -> dict:
    mask = np.zeros((30, 40), bool)
    mask[y0:y1, x0:x1] = True
    return {"kind": "mask", "geometry": mask_encode(mask), "precision": "exact", "defect_type": None}


def truth(verdict: str = "defective", regions: list | None = None, **extra) -> ImageTruth:
    return ImageTruth(
        image_id=1, annotation_version=1, verdict=verdict, width=40, height=30, regions=regions or [], **extra
    )


def test_one_map_from_verdicts_to_labels():
    assert [truth(verdict).label for verdict in Verdict.values] == [UNLABELED, NORMAL, DEFECTIVE, UNLABELED]


def test_masks_and_polygons_make_one_defect_mask_and_outrank_boxes():
    image = truth(
        regions=[
            mask_region(0, 0, 5, 5),
            region("polygon", points=[[20, 20], [30, 20], [30, 28], [20, 28]]),
            region("box", x=1, y=1, width=3, height=3),
        ],
    )

    mask = image.defect_mask()
    assert mask[:5, :5].all() and mask[24, 25] and not mask[10, 10]
    assert mask.sum() == 25 + 11 * 9  # the polygon's outline is inside
    label = image.weak_label()
    assert label.kind == "mask" and (label.mask == mask).all()


def test_a_polygon_alone_is_a_defect_mask():
    mask = truth(regions=[region("polygon", points=[[2, 2], [12, 2], [12, 12]])]).defect_mask()

    assert mask is not None and mask[3, 10] and not mask[10, 3]


def test_boxes_and_normals_have_no_defect_mask():
    assert truth(regions=[region("box", x=1, y=2, width=3, height=4)]).defect_mask() is None
    assert truth("normal", [mask_region(0, 0, 5, 5)]).defect_mask() is None


@pytest.mark.parametrize(
    "regions, kind, field, expected",
    [
        ([region("box", x=1, y=2, width=3, height=4)], "box", "boxes", ((1, 2, 3, 4),)),
        (
            [region("point", x=5, y=6), region("scribble", points=[[1, 1], [9, 9]], width=2.5)],
            "scribble",
            "scribbles",
            ((((1, 1), (9, 9)), 2.5),),
        ),
        ([region("point", x=5, y=6)], "point", "points", ((5, 6),)),
        ([], "image", None, None),
    ],
)
def test_each_kind_of_mark_becomes_its_weak_label(regions, kind, field, expected):
    label = truth(regions=regions).weak_label()

    assert label.kind == kind
    if field:
        assert getattr(label, field) == expected


def test_typed_regions_are_the_outlining_regions_of_a_known_type():
    scratch = {**mask_region(2, 3, 6, 8), "defect_type": 4, "defect_type_name": "scratch"}
    dent = {**region("box", x=10.5, y=1, width=4, height=3), "defect_type": 5, "defect_type_name": "dent"}
    stroke = {**region("scribble", points=[[1, 1], [5, 5]], width=2), "defect_type_name": "dent"}
    untyped = region("polygon", points=[[20, 20], [30, 20], [30, 28]])
    typed = truth(regions=[scratch, dent, stroke, untyped]).typed_regions()
    assert [name for name, _ in typed] == ["scratch", "dent"]
    assert typed[0][1].sum() == 4 * 5 and typed[0][1][3:8, 2:6].all()
    assert typed[1][1].shape == (30, 40) and typed[1][1].sum() == 5 * 3 and typed[1][1][1:4, 10:15].all()
    assert truth("normal", regions=[scratch]).typed_regions() == []


def test_only_defective_images_have_a_weak_label():
    assert truth("normal").weak_label() is None
    assert truth("unsure").weak_label() is None
    assert truth("unlabeled").weak_label() is None


def _label(image, verdict, regions, expected_version):
    annotation_update(
        annotation_id=image.annotation.pk,
        expected_version=expected_version,
        author=None,
        reason=RevisionReason.MANUAL_EDIT,
        verdict=verdict,
        regions=regions,
    )
    image.annotation.refresh_from_db()


def test_labels_are_read_at_the_snapshot_not_now(team):
    polygon = RegionInput(kind="polygon", geometry={"points": [[2, 2], [20, 2], [20, 20]]})
    first, second, never = (add_image(team.collection, f"{i}.png", seed=i) for i in range(3))
    _label(first, Verdict.DEFECTIVE, [polygon], 0)
    _label(second, Verdict.NORMAL, [], 0)
    snapshot = snapshot_of(team.collection, test=[first, second, never])
    _label(first, Verdict.NORMAL, [], 1)  # changed after the snapshot
    _label(never, Verdict.DEFECTIVE, [], 0)

    truths = snapshot_truth(snapshot=snapshot, roles=[SnapshotRole.TEST])

    assert [(t.image_id, t.verdict, t.annotation_version) for t in truths] == [
        (first.pk, Verdict.DEFECTIVE, 1),
        (second.pk, Verdict.NORMAL, 1),
        (never.pk, Verdict.UNLABELED, 0),
    ]
    assert truths[0].defect_mask()[5, 15] and truths[0].defect_mask().shape == (first.height, first.width)
    assert snapshot_labels(snapshot=snapshot, role=SnapshotRole.TEST) == {
        first.pk: DEFECTIVE,
        second.pk: NORMAL,
        never.pk: UNLABELED,
    }


def test_a_deleted_image_leaves_the_truth_but_not_the_snapshot(team):
    kept, deleted = (add_image(team.collection, f"{i}.png", seed=i) for i in range(2))
    snapshot = snapshot_of(team.collection, test=[kept, deleted])
    deleted.delete()

    assert [t.image_id for t in snapshot_truth(snapshot=snapshot, roles=[SnapshotRole.TEST])] == [kept.pk]
    assert snapshot.images.count() == 2
