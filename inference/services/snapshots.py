"""Freezing a collection's data into a `DataSnapshot`: which images a job uses, in which role, at which
annotation revision. What is frozen is what is trained and tested on, however the labels change later.
"""

from django.db import transaction
from django.db.models import Count, Exists, OuterRef, Q, QuerySet

from annotations.models import Collection, Image, Split, Verdict
from inference.models import DataSnapshot, Decision, Review, SnapshotImage, SnapshotRole


def training_image_list(*, collection: Collection) -> QuerySet[Image]:
    """What a model learns normal from: train-split images labeled normal or not labeled yet."""
    return Image.objects.filter(
        collection=collection,
        split=Split.TRAIN,
        annotation__verdict__in=[Verdict.NORMAL, Verdict.UNLABELED],
    ).order_by("id")


def labeled_image_list(*, collection: Collection) -> QuerySet[Image]:
    """What the semi-supervised head learns from, outside the test split (kept for evaluation):
    images labeled defective, and normal images a reviewer called a false alarm (`hard_normal`)."""
    false_alarm = Review.objects.filter(prediction__image=OuterRef("pk"), decision=Decision.FALSE_POSITIVE)
    return (
        Image.objects.filter(collection=collection)
        .exclude(split=Split.TEST)
        .annotate(hard_normal=Exists(false_alarm))
        .filter(
            Q(annotation__verdict=Verdict.DEFECTIVE) | Q(annotation__verdict=Verdict.NORMAL, hard_normal=True)
        )
        .order_by("id")
    )


def test_image_list(*, collection: Collection) -> QuerySet[Image]:
    return Image.objects.filter(collection=collection, split=Split.TEST).order_by("id")


def _versions(images: QuerySet[Image]) -> QuerySet:
    return images.values_list("pk", "annotation__version")


@transaction.atomic
def snapshot_create(*, collection: Collection, test_only: bool = False) -> DataSnapshot:
    """Freeze the collection's data now: the test split and, unless `test_only`, the training images
    and the labeled defects and reviewed false alarms outside the test split."""
    snapshot = DataSnapshot.objects.create(collection=collection)
    rows = [(SnapshotRole.TEST, _versions(test_image_list(collection=collection)))]
    if not test_only:
        labeled = labeled_image_list(collection=collection)
        rows += [
            (SnapshotRole.TRAIN, _versions(training_image_list(collection=collection))),
            (SnapshotRole.LABELED, _versions(labeled.filter(hard_normal=False))),
            (SnapshotRole.HARD_NORMAL, _versions(labeled.filter(hard_normal=True))),
        ]
    SnapshotImage.objects.bulk_create(
        (
            SnapshotImage(snapshot=snapshot, image_id=pk, annotation_version=version, role=role)
            for role, images in rows
            for pk, version in images.iterator()
        ),
        batch_size=1000,
    )
    snapshot.counts = dict(
        SnapshotImage.objects.filter(snapshot=snapshot).order_by().values_list("role").annotate(n=Count("pk"))
    )
    snapshot.save(update_fields=["counts"])
    return snapshot


def snapshot_image_ids(*, snapshot: DataSnapshot, role: str) -> list[int]:
    """The ids of the snapshot's images in `role`, in id order (deleted images included)."""
    return list(
        SnapshotImage.objects.filter(snapshot=snapshot, role=role)
        .order_by("image_id")
        .values_list("image_id", flat=True)
    )


def snapshot_counts(*, snapshot: DataSnapshot | None) -> dict[str, int]:
    """How many images the snapshot holds in each role (0 for the roles it has none in)."""
    return {role: (snapshot.counts.get(role, 0) if snapshot else 0) for role in SnapshotRole.values}
