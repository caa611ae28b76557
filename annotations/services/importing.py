"""Importing planned collections of image files, with their verdicts, defect types, masks and regions.

What to import is planned elsewhere (`inference.services.importing` reads the MVTec AD layout with
the learning core's reader; a plain folder is `folder_plan`; label files in COCO, LabelMe, YOLO or
CVAT are `annotations.services.label_import.label_plan`). Re-running an import adds nothing twice:
images are found again by their content hash.

Imported labels are revisions with reason "import", written only on an image nobody labeled yet
(version 0). An image that already has a label keeps it: when that label is a person's (its latest
revision is not an import) the image is reported in `CollectionSummary.skipped`, so a human label is
never overwritten, silently or not.

Symbolic links are never followed: the planners leave linked files and folders out with
`LINK_REFUSED` in the plan's `refused`, and the import opens every file without following a link, so
a dataset cannot reach into the media root or anywhere else outside itself. Masks are checked like
images (`ingest.mask_inspect`): a bad mask refuses its image and the import goes on.
"""

import errno
import os
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import numpy as np
from django.contrib.auth.models import AbstractBaseUser

from annotations.formats.labels import LabeledRegion
from annotations.geometry import mask_encode
from annotations.models import (
    AnnotationRevision,
    Collection,
    Precision,
    Project,
    RegionKind,
    RevisionReason,
    Split,
    Verdict,
)
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import ImageRejected, image_inspect, image_store, mask_inspect
from annotations.services.projects import collection_get_or_create, defect_type_get_or_create


@dataclass(frozen=True)
class PlannedImage:
    path: Path
    split: str
    verdict: str = Verdict.UNLABELED
    defect_type: str | None = None
    mask_path: Path | None = None
    # From a label file: its regions (None: the plan has no region labels for it), the size the file
    # states, the name to keep (its path in the dataset) and the label file, for the revision's comment.
    regions: tuple[LabeledRegion, ...] | None = None
    size: tuple[int, int] | None = None
    name: str = ""
    label_file: str = ""


@dataclass(frozen=True)
class PlannedCollection:
    name: str
    images: list[PlannedImage]
    layout: str  # "mvtec", "folder", or a label format: "coco", "labelme", "yolo", "cvat"
    # Files refused while planning (label files, links), with the reason; none of them is in `images`.
    refused: list[tuple[str, str]] = field(default_factory=list)


@dataclass
class CollectionSummary:
    name: str
    added: int = 0
    duplicates: int = 0
    masks: int = 0  # mask files read; `empty_masks` of them mark no pixel and give no region
    empty_masks: int = 0
    rejected: list[tuple[str, str]] = field(default_factory=list)
    labeled: int = 0  # images given labels from a label file
    # Images whose label a person made: kept, not replaced by the file's, with why.
    skipped: list[tuple[str, str]] = field(default_factory=list)


LINK_REFUSED = "a symbolic link, not followed: copy the file or folder into the dataset instead"


def path_link(path: Path, root: Path) -> Path | None:
    """The first part of `path` below `root` that is a symbolic link, or None (also when `path` is
    not below `root` at all)."""
    try:
        parts = path.relative_to(root).parts
    except ValueError:
        return None
    current = root
    for part in parts:
        current = current / part
        if current.is_symlink():
            return current
    return None


def folder_plan(path: Path, suffixes: frozenset[str]) -> PlannedCollection:
    """A plain folder of images as one collection of unassigned, unlabeled images (files with these
    suffixes, not following into subfolders, nor any link)."""
    entries = sorted(path.iterdir())
    links = [(str(p), LINK_REFUSED) for p in entries if p.is_symlink()]
    files = [p for p in entries if not p.is_symlink() and p.is_file() and p.suffix.lower() in suffixes]
    return PlannedCollection(path.name, [PlannedImage(p, Split.UNASSIGNED) for p in files], "folder", links)


@contextmanager
def _opened(path: Path) -> Iterator[BinaryIO]:
    """A file opened for reading without following a link in its last part (the planners checked
    the folders above it): a link swapped in after planning is refused, not read.

    Raises:
        ImageRejected: the file is a link.
    """
    try:
        descriptor = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise ImageRejected(LINK_REFUSED) from None
        raise
    with os.fdopen(descriptor, "rb") as file:
        yield file


def _read_mask(planned: PlannedImage, width: int, height: int) -> np.ndarray | None:
    """The boolean ground-truth mask of a planned image, shape (H, W), or None if it has none."""
    if planned.mask_path is None:
        return None
    try:
        with _opened(planned.mask_path) as file:
            return mask_inspect(content=file, width=width, height=height)
    except ImageRejected as error:
        raise ImageRejected(f"{error} ({planned.mask_path.name})") from None


def _mask_region(mask: np.ndarray, defect_type_id: int) -> RegionInput:
    return RegionInput(
        kind=RegionKind.MASK,
        geometry=mask_encode(mask),
        precision=Precision.EXACT,
        defect_type_id=defect_type_id,
    )


def _original_name(plan: PlannedCollection, planned: PlannedImage) -> str:
    if planned.name:
        return planned.name
    # In the MVTec layout names repeat across folders (test/hole/002.png, test/crack/002.png).
    if plan.layout == "mvtec":
        return f"{planned.path.parent.name}/{planned.path.name}"
    return planned.path.name


def _defect_type_names(plan: PlannedCollection) -> set[str]:
    names = {p.defect_type for p in plan.images if p.defect_type}
    names |= {r.defect_type for p in plan.images for r in p.regions or () if r.defect_type}
    return names


def _human_label(annotation_id: int) -> str | None:
    """Why the annotation's current label is a person's, or None when an import made it."""
    latest = AnnotationRevision.objects.filter(annotation_id=annotation_id).order_by("-version").first()
    if latest is None or latest.reason == RevisionReason.IMPORT:
        return None
    return f"it already has a label (version {latest.version}, {latest.reason}), which was kept"


def _label(
    *,
    planned: PlannedImage,
    annotation_id: int,
    mask: np.ndarray | None,
    defect_type_ids: dict[str, int],
    imported_by: AbstractBaseUser | None,
    summary: CollectionSummary,
) -> None:
    """Write the planned image's labels as an import revision on a still unlabeled annotation."""
    empty_mask = mask is not None and not mask.any()
    regions = []
    if planned.regions is not None:
        regions = [
            RegionInput(
                kind=region.kind,
                geometry=region.geometry,
                precision=region.precision,
                defect_type_id=defect_type_ids[region.defect_type] if region.defect_type else None,
            )
            for region in planned.regions
        ]
        comment = f"imported from {planned.label_file}"
    else:
        if mask is not None and not empty_mask:
            regions = [_mask_region(mask, defect_type_ids[planned.defect_type])]
        comment = f"imported from {planned.path.parent.name}/{planned.path.name}" + (
            "; its ground-truth mask is empty" if empty_mask else ""
        )
    annotation_update(
        annotation_id=annotation_id,
        expected_version=0,
        author=imported_by,
        reason=RevisionReason.IMPORT,
        verdict=planned.verdict,
        regions=regions,
        comment=comment,
    )
    summary.labeled += 1
    summary.masks += mask is not None
    summary.empty_masks += empty_mask


def dataset_import(
    *,
    plans: list[PlannedCollection],
    project: Project,
    imported_by: AbstractBaseUser | None = None,
    on_image: Callable[[PlannedImage], None] = lambda planned: None,
    into: Collection | None = None,
) -> Iterator[CollectionSummary]:
    """Import planned collections into a project, yielding each collection's summary when it is done.
    With `into`, every plan goes into that collection (of the project) instead of one named after it.

    Each image is its own transaction: an interrupted import keeps what it finished and a re-run
    completes the rest. A file that is not an acceptable image, or whose size is not the one its label
    file states, is reported, never stored. The label files the plan refused are reported too.
    """
    for plan in plans:
        collection = into or collection_get_or_create(project=project, name=plan.name)[0]
        summary = CollectionSummary(plan.name, rejected=list(plan.refused))
        defect_type_ids = {
            name: defect_type_get_or_create(collection=collection, name=name)[0].pk
            for name in sorted(_defect_type_names(plan))
        }
        for planned in plan.images:
            with ExitStack() as files:
                try:
                    # Read where it lies, one file at a time; kept open until it is stored.
                    file = files.enter_context(_opened(planned.path))
                    inspected = image_inspect(content=file)
                    if planned.size and planned.size != (inspected.width, inspected.height):
                        raise ImageRejected(
                            f"{planned.label_file} says it is {planned.size[0]}×{planned.size[1]} px, "
                            f"the image is {inspected.width}×{inspected.height} px"
                        )
                    mask = _read_mask(planned, inspected.width, inspected.height)
                except (ImageRejected, OSError) as error:
                    summary.rejected.append((str(planned.path), str(error)))
                    on_image(planned)
                    continue
                stored = image_store(
                    collection=collection,
                    inspected=inspected,
                    original_name=_original_name(plan, planned),
                    split=planned.split,
                    source=f"import:{plan.layout}",
                    uploaded_by=imported_by,
                )
            summary.added += stored.created
            summary.duplicates += not stored.created
            annotation = stored.image.annotation
            # Version 0 means nobody labeled it yet: also true after an import interrupted between
            # storing an image and labeling it, which a re-run thereby completes.
            if planned.verdict != Verdict.UNLABELED and annotation.version == 0:
                _label(
                    planned=planned,
                    annotation_id=annotation.pk,
                    mask=mask,
                    defect_type_ids=defect_type_ids,
                    imported_by=imported_by,
                    summary=summary,
                )
            elif planned.verdict != Verdict.UNLABELED and (why := _human_label(annotation.pk)):
                summary.skipped.append((_original_name(plan, planned), why))
            on_image(planned)
        yield summary
