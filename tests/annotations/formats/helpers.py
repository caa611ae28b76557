"""A small labeled collection with every kind of region, and how to read its labels back."""

import numpy as np

from annotations.geometry import mask_encode
from annotations.models import Collection, Image, RevisionReason, Split
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import defect_type_get_or_create
from tests.conftest import png_bytes

WIDTH, HEIGHT = 40, 30


def dent_mask() -> np.ndarray:
    """The mask of mask.png: two blocks and one corner pixel (a 40×30 image)."""
    mask = np.zeros((HEIGHT, WIDTH), dtype=bool)
    mask[3:9, 5:17] = True
    mask[20:28, 30:33] = True
    mask[0, 0] = True
    return mask


def labeled_collection(collection: Collection, user) -> dict[str, str]:
    """Label six images of `collection` (names → what they hold) with boxes, polygons, masks, points
    and scribbles of two defect types, normal images in train and test, and an unlabeled one."""
    scratch = defect_type_get_or_create(collection=collection, name="scratch")[0].pk
    dent = defect_type_get_or_create(collection=collection, name="dent")[0].pk
    plans = {
        "normal-train.png": (Split.TRAIN, "normal", []),
        "normal-test.png": (Split.TEST, "normal", []),
        "boxes.png": (
            Split.TEST,
            "defective",
            [
                RegionInput(
                    "box", {"x": 2.5, "y": 3.0, "width": 10.25, "height": 7.0}, defect_type_id=scratch
                ),
                RegionInput("polygon", {"points": [[20, 5], [35.5, 6], [30, 20.75]]}, defect_type_id=scratch),
            ],
        ),
        "mask.png": (
            Split.TEST,
            "defective",
            [RegionInput("mask", mask_encode(dent_mask()), defect_type_id=dent)],
        ),
        "weak.png": (
            Split.UNASSIGNED,
            "defective",
            [
                RegionInput("point", {"x": 4.0, "y": 5.0}, defect_type_id=dent),
                RegionInput("scribble", {"points": [[1, 1], [10, 12]], "width": 1.0}, defect_type_id=dent),
                RegionInput("box", {"x": 0.0, "y": 0.0, "width": 40.0, "height": 30.0}, defect_type_id=dent),
            ],
        ),
        "unlabeled.png": (Split.UNASSIGNED, "unlabeled", []),
    }
    for seed, (name, (split, verdict, regions)) in enumerate(plans.items(), start=1):
        stored = image_store(
            collection=collection,
            inspected=image_inspect(content=png_bytes(WIDTH, HEIGHT, seed=100 + seed)),
            original_name=name,
            split=split,
        )
        if verdict != "unlabeled":
            annotation_update(
                annotation_id=stored.image.annotation.pk,
                expected_version=0,
                author=user,
                reason=RevisionReason.MANUAL_EDIT,
                verdict=verdict,
                regions=regions,
            )
    return {name: plan[1] for name, plan in plans.items()}


def labels_by_content(
    collection: Collection,
) -> dict[str, tuple[str, str, list[tuple[str, dict, str | None]]]]:
    """sha256 → (split, verdict, [(kind, geometry, defect type name)]) of every image."""
    images = Image.objects.filter(collection=collection).select_related("annotation")
    return {
        image.sha256: (
            image.split,
            image.annotation.verdict,
            [
                (r.kind, r.geometry, r.defect_type.name if r.defect_type else None)
                for r in image.annotation.regions.select_related("defect_type").order_by("id")
            ],
        )
        for image in images
    }
