"""Importing planned collections of image files, with their verdicts, defect types and masks.

What to import is planned elsewhere (`inference.services.importing` reads the MVTec AD layout with
the learning core's reader; a plain folder is `folder_plan`). Re-running an import adds nothing twice:
images are found again by their content hash.
"""

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from annotations.models import Precision, Project, RegionKind, RevisionReason, Split, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import ImageRejected, image_inspect, image_store
from annotations.services.projects import collection_get_or_create, defect_type_get_or_create


@dataclass(frozen=True)
class PlannedImage:
    path: Path
    split: str
    verdict: str = Verdict.UNLABELED
    defect_type: str | None = None
    mask_path: Path | None = None


@dataclass(frozen=True)
class PlannedCollection:
    name: str
    images: list[PlannedImage]
    layout: str  # "mvtec" or "folder"


@dataclass
class CollectionSummary:
    name: str
    added: int = 0
    duplicates: int = 0
    masks: int = 0  # mask files read; `empty_masks` of them mark no pixel and give no region
    empty_masks: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)


def folder_plan(path: Path, suffixes: frozenset[str]) -> PlannedCollection:
    """A plain folder of images as one collection of unassigned, unlabeled images (files with these
    suffixes, not following into subfolders)."""
    files = sorted(p for p in path.iterdir() if p.is_file() and p.suffix.lower() in suffixes)
    return PlannedCollection(path.name, [PlannedImage(p, Split.UNASSIGNED) for p in files], "folder")


def _read_mask(planned: PlannedImage, width: int, height: int) -> np.ndarray | None:
    """The boolean ground-truth mask of a planned image, shape (H, W), or None if it has none."""
    if planned.mask_path is None:
        return None
    with PILImage.open(planned.mask_path) as mask_file:
        mask = np.asarray(mask_file.convert("L")) > 127
    if mask.shape != (height, width):
        raise ImageRejected(f"its mask is {mask.shape[1]}×{mask.shape[0]} px, the image {width}×{height} px")
    return mask


def _mask_region(mask: np.ndarray, defect_type_id: int) -> RegionInput:
    return RegionInput(
        kind=RegionKind.MASK,
        geometry=mask_encode(mask),
        precision=Precision.EXACT,
        defect_type_id=defect_type_id,
    )


def dataset_import(
    *,
    plans: list[PlannedCollection],
    project: Project,
    imported_by: AbstractBaseUser | None = None,
    on_image: Callable[[PlannedImage], None] = lambda planned: None,
) -> Iterator[CollectionSummary]:
    """Import planned collections into a project, yielding each collection's summary when it is done.

    Each image is its own transaction: an interrupted import keeps what it finished and a re-run
    completes the rest. A file that is not an acceptable image is reported, never stored.
    """
    for plan in plans:
        collection, _ = collection_get_or_create(project=project, name=plan.name)
        summary = CollectionSummary(plan.name)
        defect_type_ids = {
            name: defect_type_get_or_create(collection=collection, name=name)[0].pk
            for name in sorted({p.defect_type for p in plan.images if p.defect_type})
        }
        for planned in plan.images:
            try:
                inspected = image_inspect(content=planned.path.read_bytes())
                mask = _read_mask(planned, inspected.width, inspected.height)
            except (ImageRejected, OSError) as error:
                summary.rejected.append((str(planned.path), str(error)))
                on_image(planned)
                continue
            stored = image_store(
                collection=collection,
                inspected=inspected,
                # In the MVTec layout names repeat across folders (test/hole/002.png, test/crack/002.png).
                original_name=f"{planned.path.parent.name}/{planned.path.name}"
                if plan.layout == "mvtec"
                else planned.path.name,
                split=planned.split,
                source=f"import:{plan.layout}",
                uploaded_by=imported_by,
            )
            summary.added += stored.created
            summary.duplicates += not stored.created
            # Version 0 means nobody labeled it yet: also true after an import interrupted between
            # storing an image and labeling it, which a re-run thereby completes.
            if planned.verdict != Verdict.UNLABELED and stored.image.annotation.version == 0:
                empty_mask = mask is not None and not mask.any()
                regions = []
                if mask is not None and not empty_mask:
                    regions = [_mask_region(mask, defect_type_ids[planned.defect_type])]
                annotation_update(
                    annotation_id=stored.image.annotation.pk,
                    expected_version=0,
                    author=imported_by,
                    reason=RevisionReason.IMPORT,
                    verdict=planned.verdict,
                    regions=regions,
                    comment=f"imported from {planned.path.parent.name}/{planned.path.name}"
                    + ("; its ground-truth mask is empty" if empty_mask else ""),
                )
                summary.masks += mask is not None
                summary.empty_masks += empty_mask
            on_image(planned)
        yield summary
