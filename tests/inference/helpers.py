"""Small generated collections to train on (64 px synthetic tiles, so training takes seconds)."""

import io

import numpy as np
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from annotations.models import Collection, Image, RevisionReason, Split, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import defect_type_get_or_create
from inference.ml.synthetic import add_defect, normal_texture
from inference.ml.thresholds import ScoreNormalizer
from inference.models import (
    DataSnapshot,
    ExportStatus,
    ModelExport,
    ModelVersion,
    ModelVersionStatus,
    Prediction,
    SnapshotImage,
    SnapshotRole,
)
from inference.services.exports import export_prefix
from inference.services.heatmaps import heatmap_key, heatmap_png

FAST_PARAMETERS = {"image_size": 64, "coreset_ratio": 0.1, "batch_size": 8}
PARITY = {"images": 2, "max_score_diff": 1e-6, "max_map_diff": 1e-5, "flipped": 0, "passed": True}


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


def labeled_test_images(collection: Collection, verdicts: list[str], *, seed: int = 100) -> list[Image]:
    """Generated test-split images labeled with these verdicts, in order ("unlabeled" stays so)."""
    rng = np.random.default_rng(seed)
    images = []
    for index, verdict in enumerate(verdicts):
        image = _add(collection, normal_texture(rng, 32), f"test-{seed}-{index}.png", Split.TEST)
        if verdict != Verdict.UNLABELED:
            annotation_update(
                annotation_id=image.annotation.pk,
                expected_version=0,
                author=None,
                reason=RevisionReason.IMPORT,
                verdict=verdict,
                regions=[],
            )
            image.annotation.refresh_from_db()
        images.append(image)
    return images


def snapshot_of(collection: Collection, *, test: list[Image], train: list[Image] = ()) -> DataSnapshot:
    """A data snapshot of these images at their current annotation versions."""
    snapshot = DataSnapshot.objects.create(collection=collection)
    SnapshotImage.objects.bulk_create(
        SnapshotImage(snapshot=snapshot, image=image, annotation_version=image.annotation.version, role=role)
        for role, images in ((SnapshotRole.TEST, test), (SnapshotRole.TRAIN, train))
        for image in images
    )
    snapshot.counts = {SnapshotRole.TEST: len(test), SnapshotRole.TRAIN: len(train)}
    snapshot.save(update_fields=["counts"])
    return snapshot


def scored_version(
    collection: Collection, scores: dict[Image, float], *, threshold: float = 1.0, test: bool = True
) -> ModelVersion:
    """A ready model version with a prediction per image, made without a worker: each heatmap is a
    blob at the image's centre peaking at its score, so its regions appear when the score passes the
    threshold. Raw scores run 0 to 2 (`normalized_score` = score / 2 with the default threshold)."""
    version = ModelVersion.objects.create(
        collection=collection,
        status=ModelVersionStatus.READY,
        algorithm="patchcore",
        backbone="efficientnet_lite0",
        threshold=threshold,
        threshold_method="f1_max",
        pixel_threshold=threshold,
        normalizer={"low": 0.0, "threshold": threshold, "high": 2.0},
        heatmap_low=0.0,
        heatmap_high=2.0,
        snapshot=snapshot_of(collection, test=list(scores) if test else []),
    )
    for image, score in scores.items():
        prediction_add(version, image, score=score)
    return version


def prediction_add(version: ModelVersion, image: Image, *, score: float) -> Prediction:
    """The version's prediction of an image, as a worker writes it: a blob at the image's centre
    peaking at `score` for a heatmap (raw range 0 to 2), its region where it passes the threshold."""
    normalizer = ScoreNormalizer(**version.normalizer)
    yy, xx = np.mgrid[: image.height, : image.width]
    radius = max(image.width, image.height) / 4
    blob = score * np.exp(-((xx - image.width / 2) ** 2 + (yy - image.height / 2) ** 2) / radius**2)
    key = heatmap_key(version=version, image_id=image.pk)
    stored = default_storage.save(key, ContentFile(heatmap_png(blob, 0.0, 2.0)))
    above = blob >= version.threshold
    rows, cols = np.nonzero(above)
    regions = (
        [
            {
                "x": int(cols.min()),
                "y": int(rows.min()),
                "width": int(cols.max() - cols.min() + 1),
                "height": int(rows.max() - rows.min() + 1),
                "area": int(above.sum()),
                "peak": float(score),
            }
        ]
        if above.any()
        else []
    )
    return Prediction.objects.create(
        model_version=version,
        image=image,
        score=score,
        normalized_score=float(normalizer(score)),
        is_defective=score >= version.threshold,
        heatmap=stored,
        heatmap_low=0.0,
        heatmap_high=2.0,
        regions=regions,
    )


def ready_export(version: ModelVersion, files: dict[str, bytes] | None = None) -> ModelExport:
    """A ready export with these files in storage (made without the learning core)."""
    files = files or {"model.onnx": b"onnx bytes", "openvino/model.xml": b"<net/>"}
    export = ModelExport.objects.create(model_version=version, status=ExportStatus.READY)
    export.storage_prefix = export_prefix(version=version, export_id=export.pk)
    for name, content in files.items():
        default_storage.save(f"{export.storage_prefix}/{name}", ContentFile(content))
    export.files = [{"name": name, "size": len(content)} for name, content in files.items()]
    export.parity = [{"runtime": "onnxruntime", **PARITY}, {"runtime": "openvino_fp32", **PARITY}]
    export.save()
    return export
