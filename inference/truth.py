"""The truth of an image at a data snapshot: one owner for "what did people say about these images".

Training, evaluation, the models page's scores, the review queue and the benchmarks all read labels
the same way:

- the **label** of a verdict: 1 defective, 0 normal, -1 not known (unlabeled or unsure), the encoding
  of `inference.ml.metrics` (:data:`UNLABELED`);
- the **defect mask**: the union of the exact shapes, masks *and* polygons, at the image's size;
- the **weak label**: the most precise thing the regions say (exact shapes, else boxes, else
  scribbles, else points, else "defective somewhere");
- the **typed regions**: each region of a known defect type that outlines its defect (a mask, a
  polygon or a box), what the model's defect-type head learns from and is tested on.

Labels are read at the annotation revision the snapshot names, never the current one, so a model's
metrics can always be recomputed. Imports no torch: the web process uses it.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from django.db.models import Exists, OuterRef
from numpy.typing import NDArray

from annotations.geometry import regions_mask
from annotations.models import AnnotationRevision, RegionKind, Verdict
from inference.models import DataSnapshot, SnapshotImage, SnapshotRole

DEFECTIVE, NORMAL, UNLABELED = 1, 0, -1
"""Labels as the learning core counts them (`inference.ml.metrics`)."""

_VERDICT_LABELS = {Verdict.DEFECTIVE: DEFECTIVE, Verdict.NORMAL: NORMAL}


def verdict_label(verdict: str) -> int:
    """1 for a defective verdict, 0 for a normal one, -1 for anything else (unlabeled, unsure)."""
    return _VERDICT_LABELS.get(verdict, UNLABELED)


@dataclass(frozen=True)
class WeakLabel:
    """What a defective image's regions say, at their most precise (image px).

    Attributes:
        kind: ``mask``, ``box``, ``scribble``, ``point`` or ``image`` (defective somewhere).
        mask: ``kind="mask"``: ``(H, W)`` bool.
        boxes: ``(x, y, width, height)`` each.
        scribbles: ``(points, width)`` each, points ``((x, y), ...)``.
        points: ``(x, y)`` each.
    """

    kind: str
    mask: NDArray[np.bool_] | None = None
    boxes: tuple[tuple[float, float, float, float], ...] = ()
    scribbles: tuple[tuple[tuple[tuple[float, float], ...], float], ...] = ()
    points: tuple[tuple[float, float], ...] = ()


@dataclass(frozen=True)
class ImageTruth:
    """One image as labeled at a snapshot.

    Attributes:
        image_id: the image.
        annotation_version: the revision read (0: never labeled).
        verdict: the verdict at that revision.
        regions: the regions at that revision, as `AnnotationRevision.regions` stores them.
        width, height: the image's size, px.
        hard_normal: a reviewer called the model's alarm on this normal image false.
    """

    image_id: int
    annotation_version: int
    verdict: str
    width: int
    height: int
    regions: list[dict[str, Any]] = field(default_factory=list)
    hard_normal: bool = False

    @property
    def label(self) -> int:
        """1 defective, 0 normal, -1 not known."""
        return verdict_label(self.verdict)

    def defect_mask(self) -> NDArray[np.bool_] | None:
        """Where the defect is, from masks and polygons; None on a normal image or when the regions
        do not outline the defect (boxes, scribbles, points or nothing)."""
        if self.label != DEFECTIVE:
            return None
        return regions_mask(self.regions, width=self.width, height=self.height)

    def typed_regions(self) -> list[tuple[str, NDArray[np.bool_]]]:
        """``(type name, (H, W) bool mask)`` of each region of a known defect type that outlines its
        defect (mask, polygon or box; strokes and points do not), on a defective image; regions
        that cover no pixel of the image are left out."""
        if self.label != DEFECTIVE:
            return []
        typed = []
        for region in self.regions:
            name = region.get("defect_type_name")
            if not name:
                continue
            if region["kind"] == RegionKind.BOX:
                g = region["geometry"]
                mask = np.zeros((self.height, self.width), bool)
                bottom, right = int(np.ceil(g["y"] + g["height"])), int(np.ceil(g["x"] + g["width"]))
                mask[max(0, int(g["y"])) : bottom, max(0, int(g["x"])) : right] = True
            elif region["kind"] in (RegionKind.MASK, RegionKind.POLYGON):
                mask = regions_mask([region], width=self.width, height=self.height)
            else:
                continue
            if mask is not None and mask.any():
                typed.append((name, mask))
        return typed

    def weak_label(self) -> WeakLabel | None:
        """The most precise label a defective image's regions give; None unless it is defective."""
        if self.label != DEFECTIVE:
            return None
        mask = self.defect_mask()
        if mask is not None:
            return WeakLabel(kind="mask", mask=mask)
        by_kind: dict[str, list[dict[str, Any]]] = {}
        for region in self.regions:
            by_kind.setdefault(region["kind"], []).append(region["geometry"])
        if by_kind.get(RegionKind.BOX):
            return WeakLabel(
                kind="box",
                boxes=tuple((g["x"], g["y"], g["width"], g["height"]) for g in by_kind[RegionKind.BOX]),
            )
        if by_kind.get(RegionKind.SCRIBBLE):
            return WeakLabel(
                kind="scribble",
                scribbles=tuple(
                    (tuple(tuple(p) for p in g["points"]), g["width"]) for g in by_kind[RegionKind.SCRIBBLE]
                ),
            )
        if by_kind.get(RegionKind.POINT):
            return WeakLabel(kind="point", points=tuple((g["x"], g["y"]) for g in by_kind[RegionKind.POINT]))
        return WeakLabel(kind="image")


def _rows(snapshot: DataSnapshot, roles: Iterable[str]):
    return SnapshotImage.objects.filter(snapshot=snapshot, role__in=list(roles))


def snapshot_truth(*, snapshot: DataSnapshot, roles: Iterable[str]) -> list[ImageTruth]:
    """The images of `snapshot` in `roles` that still exist, one per row, in image id order, each as
    labeled at the revision the snapshot names (verdict unlabeled and no regions at revision 0)."""
    roles = list(roles)
    rows = list(
        # The join on the image leaves out the images deleted since.
        _rows(snapshot, roles)
        .order_by("image_id")
        .values_list("image_id", "annotation_version", "role", "image__width", "image__height")
    )
    in_snapshot = _rows(snapshot, roles).filter(
        image_id=OuterRef("annotation__image_id"), annotation_version=OuterRef("version")
    )
    labels = {
        image_id: (verdict, regions)
        for image_id, verdict, regions in AnnotationRevision.objects.filter(Exists(in_snapshot)).values_list(
            "annotation__image_id", "verdict", "regions"
        )
    }
    truths = []
    for image_id, version, role, width, height in rows:
        verdict, regions = labels.get(image_id, (Verdict.UNLABELED, []))
        truths.append(
            ImageTruth(
                image_id=image_id,
                annotation_version=version,
                verdict=verdict,
                width=width,
                height=height,
                regions=regions,
                hard_normal=role == SnapshotRole.HARD_NORMAL,
            )
        )
    return truths


def snapshot_labels(
    *, snapshot: DataSnapshot, role: str, image_range: tuple[int, int] | None = None
) -> dict[int, int]:
    """Per image id of `snapshot` in `role` (only ids from `image_range[0]` to `image_range[1]` when
    given): its label at the snapshot (1, 0 or -1), without regions."""
    rows = _rows(snapshot, [role])
    if image_range is not None:
        rows = rows.filter(image__gte=image_range[0], image__lte=image_range[1])
    in_snapshot = rows.filter(
        image_id=OuterRef("annotation__image_id"), annotation_version=OuterRef("version")
    )
    revisions = AnnotationRevision.objects.filter(Exists(in_snapshot))
    if image_range is not None:
        revisions = revisions.filter(
            annotation__image__gte=image_range[0], annotation__image__lte=image_range[1]
        )
    verdicts = dict(revisions.values_list("annotation__image_id", "verdict"))
    return {
        image_id: verdict_label(verdicts.get(image_id, Verdict.UNLABELED))
        for image_id in rows.values_list("image_id", flat=True)
    }
