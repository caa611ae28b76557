"""Stored labels become the learning core's weak labels, the most precise kind an image has."""

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from inference.services.weak_labels import labeled_image

PICTURE = PILImage.new("L", (40, 30))


def region(kind: str, **geometry) -> dict:
    return {"kind": kind, "geometry": geometry, "precision": "rough", "defect_type": None}


def mask_region(x0: int, y0: int, x1: int, y1: int) -> dict:
    mask = np.zeros((30, 40), bool)
    mask[y0:y1, x0:x1] = True
    return {"kind": "mask", "geometry": mask_encode(mask), "precision": "exact", "defect_type": None}


def test_masks_and_polygons_make_one_mask_and_outrank_boxes():
    label = labeled_image(
        image=PICTURE,
        verdict="defective",
        regions=[
            mask_region(0, 0, 5, 5),
            region("polygon", points=[[20, 20], [30, 20], [30, 28], [20, 28]]),
            region("box", x=1, y=1, width=3, height=3),
        ],
    )

    assert label.kind == "mask"
    assert label.mask[:5, :5].all() and label.mask[24, 25] and not label.mask[10, 10]
    assert label.mask.sum() == 25 + 11 * 9  # the polygon's outline is inside


@pytest.mark.parametrize(
    "regions, kind, field, expected",
    [
        ([region("box", x=1, y=2, width=3, height=4)], "box", "boxes", ((1, 2, 3, 4),)),
        (
            [region("point", x=5, y=6), region("scribble", points=[[1, 1], [9, 9]], width=2)],
            "scribble",
            None,
            None,
        ),
        ([region("point", x=5, y=6)], "point", "points", ((5, 6),)),
        ([], "image", None, None),
    ],
)
def test_each_kind_of_mark_becomes_its_label(regions, kind, field, expected):
    label = labeled_image(image=PICTURE, verdict="defective", regions=regions)

    assert label.kind == kind
    if field:
        assert getattr(label, field) == expected


def test_a_scribble_keeps_its_stroke():
    label = labeled_image(
        image=PICTURE, verdict="defective", regions=[region("scribble", points=[[1, 1], [9, 9]], width=2.5)]
    )

    (stroke,) = label.scribbles
    assert stroke.points == ((1, 1), (9, 9)) and stroke.width == 2.5


def test_normals_teach_the_head_only_when_a_reviewer_called_them_false_alarms():
    assert labeled_image(image=PICTURE, verdict="normal", regions=[]) is None
    assert labeled_image(image=PICTURE, verdict="normal", regions=[], hard_normal=True).kind == "normal_hard"
    assert labeled_image(image=PICTURE, verdict="unsure", regions=[]) is None
    assert labeled_image(image=PICTURE, verdict="unlabeled", regions=[]) is None
