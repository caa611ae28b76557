"""Labels and reviews in the database reach training: each kind of mark becomes its weak label, and a
false alarm a reviewer rejected is not raised again by the next version. Jobs run in this process."""

import numpy as np
import pytest

from annotations.geometry import mask_encode
from annotations.models import RevisionReason, Split, Verdict
from annotations.services.annotations import RegionInput, annotation_update
from inference.ml.algorithms.patchcore_ss import SemiSupervisedPatchCore
from inference.ml.synthetic import add_defect, normal_texture
from inference.models import JobKind, Prediction, SnapshotRole
from inference.services.jobs import job_run
from inference.services.reviews import review_submit
from inference.services.scoring import score_execute
from inference.services.training import train_execute
from inference.services.versions import training_start
from tests.inference.helpers import FAST_PARAMETERS, _add, synthetic_collection_fill

FAST_HEAD = {
    "head_steps": 30,
    "head_batch": 128,
    "normal_images": 4,
    "stats_images": 2,
    "synthetic_images": 2,
}


pytestmark = pytest.mark.usefixtures("sent")


def label(image, verdict: str, regions: list[RegionInput] | None = None) -> None:
    annotation_update(
        annotation_id=image.annotation.pk,
        expected_version=image.annotation.version,
        author=None,
        reason=RevisionReason.MANUAL_EDIT,
        verdict=verdict,
        regions=regions or [],
    )


def defect_image(collection, seed: int, split: str = Split.TRAIN):
    rng = np.random.default_rng(seed)
    pixels, mask, _ = add_defect(normal_texture(rng, 64), rng, kind="stain")
    return _add(collection, pixels, f"defect-{seed}.png", split), mask


def test_every_kind_of_label_reaches_the_semi_supervised_fit(team, monkeypatch):
    synthetic_collection_fill(team.collection, train=6, test_normal=2, test_defective=2)
    marks = {
        "mask": lambda mask: [RegionInput(kind="mask", geometry=mask_encode(mask))],
        "box": lambda mask: [RegionInput(kind="box", geometry={"x": 8, "y": 8, "width": 20, "height": 16})],
        "scribble": lambda mask: [
            RegionInput(kind="scribble", geometry={"points": [[5, 5], [30, 30]], "width": 3})
        ],
        "point": lambda mask: [RegionInput(kind="point", geometry={"x": 20, "y": 20})],
        "image": lambda mask: [],
    }
    for seed, regions in enumerate(marks.values(), start=100):
        image, mask = defect_image(team.collection, seed)
        label(image, Verdict.DEFECTIVE, regions(mask))
    held_out, mask = defect_image(team.collection, 200, split=Split.TEST)
    label(held_out, Verdict.DEFECTIVE, [RegionInput(kind="mask", geometry=mask_encode(mask))])
    seen: list[list[str]] = []
    fit = SemiSupervisedPatchCore.fit

    def spy(self, images, *, labeled=(), progress=None):
        seen.append(sorted(item.kind for item in labeled))
        return fit(self, images, labeled=labeled, progress=progress)

    monkeypatch.setattr(SemiSupervisedPatchCore, "fit", spy)

    job = training_start(
        collection=team.collection, algorithm="patchcore_ss", parameters={**FAST_PARAMETERS, **FAST_HEAD}
    )
    job_run(job_id=job.pk, work=train_execute)

    job.refresh_from_db()
    assert job.status == "succeeded", job.failure_reason
    assert seen == [["box", "image", "mask", "point", "scribble"]]  # the test split's defect stays out
    assert job.model_version.snapshot.images.filter(role=SnapshotRole.LABELED).count() == 5


def test_a_rejected_false_alarm_is_not_raised_by_the_next_version(team):
    synthetic_collection_fill(team.collection, train=10, test_normal=4, test_defective=4)
    # A mark the product may carry (say, a stamp): the first model has never seen it.
    stamp = normal_texture(np.random.default_rng(7), 64)
    stamp[24:40, 24:40] = 255
    alarm = _add(team.collection, stamp, "stamped.png", Split.UNASSIGNED)

    def train_and_score(algorithm: str, **extra) -> Prediction:
        job = training_start(
            collection=team.collection, algorithm=algorithm, parameters={**FAST_PARAMETERS, **extra}
        )
        job_run(job_id=job.pk, work=train_execute)
        score = job.model_version.jobs.get(kind=JobKind.SCORE)
        job_run(job_id=score.pk, work=score_execute)
        return Prediction.objects.get(model_version=job.model_version, image=alarm)

    first = train_and_score("patchcore")
    assert first.is_defective

    review_submit(
        prediction=first,
        reviewer=team.reviewer,
        decision="false_positive",
        reason="cosmetic",
        expected_version=0,
    )
    second = train_and_score("patchcore_ss", **FAST_HEAD)

    hard = second.model_version.snapshot.images.get(role=SnapshotRole.HARD_NORMAL)
    assert (hard.image_id, hard.annotation_version) == (alarm.pk, 1)
    assert not second.is_defective
    assert second.normalized_score < first.normalized_score
