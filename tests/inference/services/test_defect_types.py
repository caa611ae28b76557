"""A model trained on a collection with labeled defect types names the type of every flagged region,
and its version reports how it names the test split's typed regions."""

import numpy as np
import pytest

from annotations.models import Split, Verdict
from annotations.services.projects import defect_type_get_or_create
from inference.ml.synthetic import add_defect, normal_texture
from inference.models import Job, JobKind, Prediction
from inference.services.jobs import job_run
from inference.services.scoring import model_load, score_execute
from inference.services.training import train_execute
from inference.services.versions import training_start
from tests.frontend.helpers import label, mask_region
from tests.inference.helpers import FAST_PARAMETERS, _add, synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")
KINDS = ("stain", "scratch")


def _typed_defects(collection, split: str, count: int, seed: int) -> list:
    """`count` defects of each kind, each labeled with a mask of its type."""
    rng = np.random.default_rng(seed)
    types = {kind: defect_type_get_or_create(collection=collection, name=kind)[0] for kind in KINDS}
    made = []
    for index in range(count):
        for kind in KINDS:
            pixels, mask, _ = add_defect(normal_texture(rng, 64), rng, kind=kind)
            image = _add(collection, pixels, f"{split}-{kind}-{index}.png", split)
            label(image, author=None, verdict=Verdict.DEFECTIVE, regions=[mask_region(mask, types[kind].pk)])
            made.append((image, kind))
    return made


def _train(collection):
    job = training_start(collection=collection, algorithm="patchcore", parameters=FAST_PARAMETERS)
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == "succeeded", job.failure_reason
    return job.model_version


def test_labeled_types_teach_the_model_to_name_flagged_regions(team):
    synthetic_collection_fill(team.collection, train=10, test_normal=3, test_defective=0)
    learned = _typed_defects(team.collection, Split.TRAIN, 8, seed=1)  # labeled outside the test split
    tested = _typed_defects(team.collection, Split.TEST, 5, seed=2)

    version = _train(team.collection)

    report = version.metrics["defect_types"]
    assert report["learned_types"] == sorted(KINDS) and report["n_learned"] == 16
    assert report["n_test"] == 10 and sum(map(sum, report["matrix"])) == 10
    assert report["balanced_accuracy"] >= 0.7
    assert model_load(version).defect_types.classes == sorted(KINDS)  # the head is saved with the model
    flagged = [
        region
        for prediction in Prediction.objects.filter(model_version=version, image__in=[i for i, _ in tested])
        for region in prediction.regions
    ]
    assert flagged, "the test defects raise regions"
    assert all(r["defect_type"] in KINDS and 0.5 <= r["type_probability"] <= 1 for r in flagged)

    # The score job that follows training names the regions it flags on the rest of the collection.
    score = Job.objects.get(kind=JobKind.SCORE, model_version=version)
    job_run(job_id=score.pk, work=score_execute)
    scored = Prediction.objects.filter(model_version=version, image__in=[i for i, _ in learned])
    assert scored.count() == len(learned)
    regions = [region for prediction in scored for region in prediction.regions]
    assert regions and all(region["defect_type"] in KINDS for region in regions)


def test_one_labeled_type_teaches_no_types(team):
    made = synthetic_collection_fill(team.collection, train=8, test_normal=2, test_defective=3)
    version = _train(team.collection)
    assert "defect_types" not in version.metrics
    assert model_load(version).defect_types is None
    regions = [r for p in Prediction.objects.filter(image__in=made["test_defective"]) for r in p.regions]
    assert all("defect_type" not in region for region in regions)
