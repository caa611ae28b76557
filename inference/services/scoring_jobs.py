"""Starting scoring jobs: on request (the collection page's "Score" action, or the API), and for newly
added images when the collection asks for them to be scored by its production version. New images
then do not stay unscored. The scoring itself is `inference.services.scoring.score_execute`.
"""

from collections.abc import Sequence

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import Exists, OuterRef

from annotations.counts import Counts, counts_kept
from annotations.models import Collection, Image
from inference.models import Job, JobKind, JobStatus, LearningSettings, ModelVersion, Prediction
from inference.selectors import production_version
from inference.services.jobs import job_create


def unscored_image_count(*, version: ModelVersion) -> Counts:
    """How many of the version's collection's images it has not scored yet (`total`); many, as
    counted a moment ago (`annotations.counts`)."""
    scored = Prediction.objects.filter(model_version=version, image=OuterRef("pk"))
    unscored = Image.objects.filter(collection_id=version.collection_id).exclude(Exists(scored))
    return counts_kept(
        f"unscored:{version.pk}", lambda: {"total": unscored.count()}, collection_id=version.collection_id
    )


def scoring_start(
    *, version: ModelVersion, by: AbstractBaseUser | None, image_ids: Sequence[int] | None = None
) -> Job:
    """The job that scores, by `version`, its collection's images it has not scored (only `image_ids`
    when given): a scoring of the whole collection by it already waiting or running, which will score
    these too, else a new one."""
    waiting = Job.objects.filter(
        kind=JobKind.SCORE,
        model_version=version,
        status__in=[JobStatus.QUEUED, JobStatus.RUNNING],
        parameters__image_ids__isnull=True,
    ).first()
    if waiting is not None:
        return waiting
    return job_create(
        kind=JobKind.SCORE,
        collection=version.collection,
        model_version=version,
        parameters={"image_ids": list(image_ids)} if image_ids is not None else {},
        created_by=by if by is not None and by.is_authenticated else None,
    )


def new_images_score(
    *, collection: Collection, image_ids: Sequence[int] | None, by: AbstractBaseUser | None
) -> Job | None:
    """After images were added (`image_ids`; None: too many to name, so every image the production
    version has not scored): their scoring by the production version, when the collection's setting
    (`LearningSettings.score_new_uploads`) asks for it and there is a production version."""
    if image_ids is not None and not image_ids:
        return None
    wanted = LearningSettings.objects.filter(collection=collection, score_new_uploads=True).exists()
    version = production_version(collection_id=collection.pk) if wanted else None
    if version is None:
        return None
    return scoring_start(version=version, by=by, image_ids=image_ids)
