"""A large collection made up for measuring: small real image files with their thumbnails, a realistic
mix of labels and revisions, two model versions with predictions and heatmaps, and reviews.

Every image is one of two small textures (a normal part, a part with a dark spot) made unique by a
PNG text chunk that holds its index, so a million distinct files cost one encoding each kind."""

import hashlib
import io
import random
import struct
import uuid
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection, transaction
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from annotations.models import (
    Annotation,
    AnnotationRevision,
    Collection,
    Image,
    Region,
    RegionKind,
    RevisionReason,
    Split,
    Verdict,
)
from annotations.services.projects import defect_type_get_or_create
from inference.models import Decision, ModelVersion, ModelVersionStatus, Prediction, Review
from inference.services.heatmaps import heatmap_key, heatmap_png
from inference.services.snapshots import snapshot_create

SIDE = 64
BATCH = 5000
# Shares of a line's images: most unlabeled, a few defective; most scored, a few reviewed.
VERDICTS = {Verdict.UNLABELED: 0.70, Verdict.NORMAL: 0.20, Verdict.DEFECTIVE: 0.08, Verdict.UNSURE: 0.02}
SPLITS = {Split.TRAIN: 0.6, Split.TEST: 0.2, Split.UNASSIGNED: 0.2}
REGION_KINDS = (RegionKind.BOX, RegionKind.POLYGON, RegionKind.MASK)
SCORED = 0.8  # of the images, by each version
REVIEWED = 0.02  # of the newer version's predictions
WRITERS = 8  # files written at once (storage is I/O bound, S3 more so)

Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class GeneratedCollection:
    """What `collection_generate` made: counts of each kind of row, and the two versions."""

    images: int
    regions: int
    revisions: int
    predictions: int
    reviews: int
    versions: tuple[ModelVersion, ModelVersion]


def _texture(defective: bool) -> PILImage.Image:
    rng = np.random.default_rng(0)
    pixels = (128 + 20 * rng.standard_normal((SIDE, SIDE))).clip(0, 255)
    if defective:
        pixels[24:32, 30:40] = 30
    return PILImage.fromarray(pixels.astype(np.uint8), mode="L")


def _encoded(picture: PILImage.Image, format: str) -> bytes:
    out = io.BytesIO()
    picture.save(out, format=format)
    return out.getvalue()


def _unique_png(base: bytes, index: int) -> bytes:
    """`base` with a tEXt chunk before its IEND that names the index: another file, the same picture."""
    data = b"loupe-generated\x00" + str(index).encode()
    chunk = struct.pack(">I", len(data)) + b"tEXt" + data + struct.pack(">I", zlib.crc32(b"tEXt" + data))
    return base[:-12] + chunk + base[-12:]


def _chunks(items: Sequence, size: int) -> Iterator[Sequence]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _files_write(pool: ThreadPoolExecutor, files: list[tuple[str, bytes]]) -> None:
    """Write every file under its exact name (a generated key never collides)."""
    for saved, (name, _) in zip(
        pool.map(lambda item: default_storage.save(item[0], ContentFile(item[1])), files), files, strict=True
    ):
        if saved != name:
            raise RuntimeError(f"storage kept {name} as {saved}")


def _region(rng: random.Random, kind: str) -> dict[str, Any]:
    x, y = rng.uniform(0, SIDE - 16), rng.uniform(0, SIDE - 16)
    if kind == RegionKind.BOX:
        return {"x": x, "y": y, "width": rng.uniform(2, 15), "height": rng.uniform(2, 15)}
    if kind == RegionKind.POLYGON:
        return {"points": [[x, y], [x + 10, y + 2], [x + 6, y + 12]]}
    mask = np.zeros((SIDE, SIDE), bool)
    mask[int(y) : int(y) + 6, int(x) : int(x) + 8] = True
    return mask_encode(mask)


def collection_generate(
    *,
    collection: Collection,
    count: int,
    user: AbstractBaseUser,
    seed: int = 0,
    progress: Progress | None = None,
) -> GeneratedCollection:
    """Add `count` generated images to `collection` with labels, two ready versions' predictions
    and heatmaps, and reviews, in batches (each batch's rows in one transaction, its files first).

    `progress(stage, done, total)` is told after each batch."""
    rng = random.Random(seed)
    report = progress or (lambda stage, done, total: None)
    types = [defect_type_get_or_create(collection=collection, name=name)[0] for name in ("scratch", "dent")]
    pictures = {defective: _texture(defective) for defective in (False, True)}
    pngs = {defective: _encoded(picture, "PNG") for defective, picture in pictures.items()}
    thumbnails = {defective: _encoded(picture, "JPEG") for defective, picture in pictures.items()}
    heatmaps = {
        defective: heatmap_png(np.asarray(picture, np.float32) / 255, 0.0, 1.0)
        for defective, picture in pictures.items()
    }
    versions = tuple(
        ModelVersion.objects.create(
            collection=collection,
            status=ModelVersionStatus.READY,
            algorithm="generated",
            backbone="none",
            threshold=1.0,
            normalizer={"low": 0.0, "threshold": 1.0, "high": 2.0},
            heatmap_low=0.0,
            heatmap_high=2.0,
            created_by=user,
        )
        for _ in range(2)
    )
    made = dict.fromkeys(("images", "regions", "revisions", "predictions", "reviews"), 0)
    with ThreadPoolExecutor(WRITERS) as pool:
        for batch in _chunks(range(count), BATCH):
            verdicts = rng.choices(list(VERDICTS), weights=list(VERDICTS.values()), k=len(batch))
            splits = rng.choices(list(SPLITS), weights=list(SPLITS.values()), k=len(batch))
            keys = [uuid.uuid4().hex for _ in batch]
            defective = [verdict == Verdict.DEFECTIVE for verdict in verdicts]
            contents = [_unique_png(pngs[bad], index) for index, bad in zip(batch, defective, strict=True)]
            files = []
            for key, content, bad in zip(keys, contents, defective, strict=True):
                files += [
                    (f"images/{collection.pk}/{key}.png", content),
                    (f"thumbnails/{collection.pk}/{key}.jpg", thumbnails[bad]),
                ]
            _files_write(pool, files)
            with transaction.atomic():
                batch_made = _rows_write(
                    collection=collection,
                    user=user,
                    rng=rng,
                    rows=list(zip(batch, keys, contents, verdicts, splits, strict=True)),
                    types=types,
                    versions=versions,
                )
            _files_write(
                pool,
                [(p.heatmap.name, heatmaps[p.score >= 1.0]) for p in batch_made.pop("predicted")],
            )
            for name, value in batch_made.items():
                made[name] += value
            report("images", batch[-1] + 1, count)
    # The data both versions were "trained and tested on", as a training freezes it.
    snapshot = snapshot_create(collection=collection)
    ModelVersion.objects.filter(pk__in=[version.pk for version in versions]).update(snapshot=snapshot)
    for version in versions:
        version.snapshot = snapshot
    _statistics_refresh()
    return GeneratedCollection(**made, versions=versions)


def _statistics_refresh() -> None:
    """Let PostgreSQL's planner see the new rows now, as autovacuum would only later: with a
    collection's size estimated from before the batches, it plans a lookup per image where one hash
    join would do (a "reviewed" count of 100,000 images took 79 s instead of 49 ms)."""
    if connection.vendor != "postgresql":
        return
    tables = [
        model._meta.db_table for model in (Image, Annotation, Region, AnnotationRevision, Prediction, Review)
    ]
    with connection.cursor() as cursor:
        cursor.execute(f"ANALYZE {', '.join(tables)}")


def _rows_write(
    *,
    collection: Collection,
    user: AbstractBaseUser,
    rng: random.Random,
    rows: list[tuple[int, str, bytes, str, str]],
    types: list,
    versions: tuple[ModelVersion, ...],
) -> dict[str, Any]:
    """One batch's rows; with the predictions made, whose heatmap files are still to write."""
    images = Image.objects.bulk_create(
        Image(
            collection=collection,
            file=f"images/{collection.pk}/{key}.png",
            thumbnail=f"thumbnails/{collection.pk}/{key}.jpg",
            original_name=f"generated-{index:07d}.png",
            sha256=hashlib.sha256(content).hexdigest(),
            format="PNG",
            width=SIDE,
            height=SIDE,
            mode="L",
            bit_depth=8,
            size_bytes=len(content),
            split=split,
            source="generated",
            uploaded_by=user,
        )
        for index, key, content, _, split in rows
    )
    verdicts = [row[3] for row in rows]
    labeled = [verdict != Verdict.UNLABELED for verdict in verdicts]
    annotations = Annotation.objects.bulk_create(
        Annotation(image=image, verdict=verdict, version=int(was), updated_by=user if was else None)
        for image, verdict, was in zip(images, verdicts, labeled, strict=True)
    )
    regions = [
        Region(annotation=annotation, kind=kind, defect_type=rng.choice(types), geometry=_region(rng, kind))
        for annotation in annotations
        if annotation.verdict == Verdict.DEFECTIVE
        for kind in rng.sample(REGION_KINDS, rng.randint(1, 2))
    ]
    Region.objects.bulk_create(regions)
    by_annotation: dict[int, list[dict[str, Any]]] = {}
    for region in regions:
        by_annotation.setdefault(region.annotation_id, []).append(
            {"kind": region.kind, "geometry": region.geometry, "defect_type": region.defect_type_id}
        )
    revisions = AnnotationRevision.objects.bulk_create(
        AnnotationRevision(
            annotation=annotation,
            version=1,
            verdict=annotation.verdict,
            regions=by_annotation.get(annotation.pk, []),
            author=user,
            reason=RevisionReason.IMPORT,
        )
        for annotation in annotations
        if annotation.version
    )
    predictions = []
    for version in versions:
        for image, verdict in zip(images, verdicts, strict=True):
            if rng.random() >= SCORED:
                continue
            # Defective parts score high more often than the rest: a model that is mostly right.
            normalized = min(1.0, max(0.0, rng.gauss(0.7 if verdict == Verdict.DEFECTIVE else 0.3, 0.2)))
            predictions.append(
                Prediction(
                    model_version=version,
                    image=image,
                    score=2 * normalized,
                    normalized_score=normalized,
                    is_defective=normalized >= 0.5,
                    heatmap=heatmap_key(version=version, image_id=image.pk),
                    heatmap_low=0.0,
                    heatmap_high=2.0,
                    regions=[{"x": 30, "y": 24, "width": 10, "height": 8, "area": 80, "peak": 1.6}]
                    if normalized >= 0.5
                    else [],
                )
            )
    Prediction.objects.bulk_create(predictions)
    newest = versions[-1].pk
    reviews = Review.objects.bulk_create(
        Review(prediction=prediction, reviewer=user, decision=rng.choice(Decision.values))
        for prediction in predictions
        if prediction.model_version_id == newest and rng.random() < REVIEWED
    )
    return {
        "images": len(images),
        "regions": len(regions),
        "revisions": len(revisions),
        "predictions": len(predictions),
        "reviews": len(reviews),
        "predicted": predictions,
    }
