"""Changing many images at once: the grid's selection, or a script through the API."""

from dataclasses import dataclass

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction

from annotations.models import Annotation, Collection, Image, RevisionReason
from annotations.services.annotations import annotation_update
from annotations.services.projects import collection_writable_require


@dataclass(frozen=True)
class BulkResult:
    changed: int
    unchanged: int


@transaction.atomic
def images_bulk_update(
    *,
    image_ids: list[int],
    author: AbstractBaseUser | None,
    verdict: str | None = None,
    split: str | None = None,
) -> BulkResult:
    """Give the images a verdict and/or move them to a split, all or nothing.

    Each verdict change goes through `annotation_update`, so it bumps the version and leaves a revision
    ("bulk change") on top of whatever the image held, regions kept: an edit made meanwhile stays in the
    history. Images already as asked are left alone and counted as unchanged.
    """
    collection_writable_require(collections=Collection.objects.filter(images__pk__in=image_ids))
    changed: set[int] = set()
    if verdict is not None:
        # Locked until commit (PostgreSQL; SQLite runs one writer at a time anyway), so no edit lands
        # between reading a version and writing on top of it; in id order, so two bulk changes never
        # wait on each other.
        annotations = (
            Annotation.objects.select_for_update()
            .filter(image_id__in=image_ids)
            .exclude(verdict=verdict)
            .order_by("pk")
            .values_list("pk", "image_id", "version")
        )
        for annotation_id, image_id, version in annotations:
            annotation_update(
                annotation_id=annotation_id,
                expected_version=version,
                author=author,
                reason=RevisionReason.MANUAL_EDIT,
                verdict=verdict,
                comment="bulk change",
            )
            changed.add(image_id)
    if split is not None:
        moving = Image.objects.filter(pk__in=image_ids).exclude(split=split)
        changed.update(moving.values_list("pk", flat=True))
        moving.update(split=split)
    return BulkResult(changed=len(changed), unchanged=len(set(image_ids)) - len(changed))
