"""Model versions: starting training on a frozen data snapshot, and their files in storage.

Importing this module does not import the learning core (torch): the web process uses it.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import QuerySet

from annotations.models import Collection, Image, Split, Verdict
from inference.models import Job, JobKind, ModelVersion, ModelVersionStatus

ARTIFACT_FILES = ("model.safetensors", "model.json")
DEFAULT_BACKBONE = "efficientnet_lite0"


class NothingToTrainOn(Exception):
    def __init__(self, collection: Collection) -> None:
        super().__init__(
            f"collection {collection.name!r} has no training images: put defect-free images in the train "
            "split (labeled normal, or unlabeled) and try again"
        )


def artifact_prefix(*, collection_id: int, version_id: int) -> str:
    return f"models/{collection_id}/{version_id}"


def artifact_delete(*, prefix: str) -> None:
    for name in ARTIFACT_FILES:
        if default_storage.exists(f"{prefix}/{name}"):
            default_storage.delete(f"{prefix}/{name}")


def training_image_list(*, collection: Collection) -> QuerySet[Image]:
    """What a model learns normal from: train-split images labeled normal or not labeled yet."""
    return (
        Image.objects.filter(
            collection=collection,
            split=Split.TRAIN,
            annotation__verdict__in=[Verdict.NORMAL, Verdict.UNLABELED],
        )
        .select_related("annotation")
        .order_by("id")
    )


def test_image_list(*, collection: Collection) -> QuerySet[Image]:
    return (
        Image.objects.filter(collection=collection, split=Split.TEST)
        .select_related("annotation")
        .order_by("id")
    )


def snapshot(images: QuerySet[Image]) -> list[list[int]]:
    """[[image id, annotation version], ...]: which labels, exactly, a job used."""
    return [[image.pk, image.annotation.version] for image in images]


@transaction.atomic
def training_start(
    *,
    collection: Collection,
    algorithm: str,
    parameters: dict[str, Any] | None = None,
    parent: ModelVersion | None = None,
    created_by: AbstractBaseUser | None = None,
    score_after: bool = True,
) -> Job:
    """A new model version (status training) and the train job that makes it.

    The training and test images are frozen now, so what is trained is what was asked for.

    Raises:
        NothingToTrainOn: the collection has no training images.
    """
    from inference.services.jobs import job_create

    train = snapshot(training_image_list(collection=collection))
    if not train:
        raise NothingToTrainOn(collection)
    parameters = dict(parameters or {})
    version = ModelVersion.objects.create(
        collection=collection,
        algorithm=algorithm,
        backbone=parameters.get("backbone", DEFAULT_BACKBONE),
        parameters=parameters,
        parent=parent,
        train_snapshot=train,
        test_snapshot=snapshot(test_image_list(collection=collection)),
        created_by=created_by if created_by is not None and created_by.is_authenticated else None,
    )
    version.artifact_prefix = artifact_prefix(collection_id=collection.pk, version_id=version.pk)
    version.save(update_fields=["artifact_prefix"])
    return job_create(
        kind=JobKind.TRAIN,
        collection=collection,
        model_version=version,
        parameters={"score_after": score_after},
        created_by=created_by,
    )


def model_version_abandon(*, version_id: int) -> None:
    """A version whose training will not finish: marked failed, its files removed."""
    version = ModelVersion.objects.filter(pk=version_id).first()
    if version is None or version.status == ModelVersionStatus.READY:
        return
    ModelVersion.objects.filter(pk=version_id).update(status=ModelVersionStatus.FAILED)
    if version.artifact_prefix:
        transaction.on_commit(lambda: artifact_delete(prefix=version.artifact_prefix))
