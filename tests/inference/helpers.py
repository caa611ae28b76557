"""Small generated collections to train on (64 px synthetic tiles, so training takes seconds)."""

import io

import numpy as np
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from annotations.models import Collection, Image, RevisionReason, Split, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import defect_type_get_or_create
from inference.ml.synthetic import add_defect, normal_texture

FAST_PARAMETERS = {"image_size": 64, "coreset_ratio": 0.1, "batch_size": 8}


def _png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def _add(collection: Collection, pixels: np.ndarray, name: str, split: str) -> Image:
    return image_store(
        collection=collection, inspected=image_inspect(content=_png(pixels)), original_name=name, split=split
    ).image


def synthetic_collection_fill(
    collection: Collection,
    *,
    train: int = 10,
    test_normal: int = 4,
    test_defective: int = 4,
    size: int = 64,
    seed: int = 0,
) -> dict[str, list[Image]]:
    """Add generated images: unlabeled normals in train; labeled normals and defects (exact masks) in test."""
    rng = np.random.default_rng(seed)
    defect_type, _ = defect_type_get_or_create(collection=collection, name="scratch")
    made: dict[str, list[Image]] = {"train": [], "test_normal": [], "test_defective": []}
    for index in range(train):
        made["train"].append(_add(collection, normal_texture(rng, size), f"train-{index}.png", Split.TRAIN))
    for index in range(test_normal):
        image = _add(collection, normal_texture(rng, size), f"good-{index}.png", Split.TEST)
        annotation_update(
            annotation_id=image.annotation.pk,
            expected_version=0,
            author=None,
            reason=RevisionReason.IMPORT,
            verdict=Verdict.NORMAL,
            regions=[],
        )
        made["test_normal"].append(image)
    for index in range(test_defective):
        pixels, mask, _ = add_defect(normal_texture(rng, size), rng, kind="stain")
        image = _add(collection, pixels, f"bad-{index}.png", Split.TEST)
        annotation_update(
            annotation_id=image.annotation.pk,
            expected_version=0,
            author=None,
            reason=RevisionReason.IMPORT,
            verdict=Verdict.DEFECTIVE,
            regions=[RegionInput(kind="mask", geometry=mask_encode(mask), defect_type_id=defect_type.pk)],
        )
        made["test_defective"].append(image)
    return made
