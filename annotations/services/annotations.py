"""Changing labels. Every change bumps the annotation's version and appends a revision."""

from dataclasses import dataclass
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from annotations.models import Annotation, AnnotationRevision, Collection, Region, RevisionReason
from annotations.services.projects import collection_writable_require


class StaleAnnotation(Exception):
    """Someone changed the annotation since the writer read it."""

    def __init__(self, *, expected_version: int, current_version: int) -> None:
        super().__init__(
            f"the annotation is at version {current_version}, not {expected_version}: "
            "someone else changed it; reload it and apply your change again"
        )
        self.current_version = current_version


@dataclass(frozen=True)
class RegionInput:
    """A validated region (see annotations/geometry.py); its defect type belongs to the image's collection."""

    kind: str
    geometry: dict[str, Any]
    precision: str = "exact"
    defect_type_id: int | None = None


def _regions_snapshot(annotation: Annotation) -> list[dict[str, Any]]:
    return [
        {
            "defect_type": region.defect_type_id,
            "defect_type_name": region.defect_type.name if region.defect_type else None,
            "kind": region.kind,
            "precision": region.precision,
            "geometry": region.geometry,
        }
        for region in annotation.regions.select_related("defect_type").order_by("id")
    ]


@transaction.atomic
def annotation_update(
    *,
    annotation_id: int,
    expected_version: int,
    author: AbstractBaseUser | None,
    reason: RevisionReason,
    verdict: str | None = None,
    regions: list[RegionInput] | None = None,
    comment: str = "",
) -> Annotation:
    """Apply a change to an annotation if it is still at `expected_version`.

    `None` for `verdict` or `regions` keeps the current value; `regions` replaces them all.

    Raises:
        StaleAnnotation: the annotation moved on; nothing was changed.
        CollectionArchived: the image's collection is read-only; nothing was changed.
    """
    collection_writable_require(collections=Collection.objects.filter(images__annotation__pk=annotation_id))
    changes: dict[str, Any] = {
        "version": F("version") + 1,
        "updated_by": author,
        "updated_at": timezone.now(),
    }
    if verdict is not None:
        changes["verdict"] = verdict
    # The conditional update both detects a stale version and, on PostgreSQL, locks the row until
    # commit, so two writers holding the same version cannot both succeed.
    if not Annotation.objects.filter(pk=annotation_id, version=expected_version).update(**changes):
        current = Annotation.objects.values_list("version", flat=True).get(pk=annotation_id)
        raise StaleAnnotation(expected_version=expected_version, current_version=current)
    annotation = Annotation.objects.get(pk=annotation_id)
    if regions is not None:
        annotation.regions.all().delete()
        Region.objects.bulk_create(
            Region(
                annotation=annotation,
                kind=region.kind,
                geometry=region.geometry,
                precision=region.precision,
                defect_type_id=region.defect_type_id,
            )
            for region in regions
        )
    AnnotationRevision.objects.create(
        annotation=annotation,
        version=annotation.version,
        verdict=annotation.verdict,
        regions=_regions_snapshot(annotation),
        author=author,
        reason=reason,
        comment=comment,
    )
    return annotation
