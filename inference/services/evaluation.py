"""Evaluation: a ready version's metrics on a frozen test snapshot (the one the job names, else the
collection's test split now), with the labels as they were at that snapshot. Runs in Celery workers.
"""

import numpy as np
from django.db import transaction

from inference.ml.metrics import evaluate
from inference.models import DataSnapshot, ModelVersion, ModelVersionStatus
from inference.services.jobs import JobContext, JobError
from inference.services.scoring import StoredImages, model_load, snapshot_test_set
from inference.services.snapshots import snapshot_create
from inference.services.versions import model_version_promote_if_better


def evaluate_execute(context: JobContext) -> None:
    """Metrics of the job's version on its snapshot's test images; with `compare_with`, stored on
    that child version as its parent's figures."""
    version = ModelVersion.objects.select_related("collection").get(pk=context.job.model_version_id)
    if version.status != ModelVersionStatus.READY:
        raise JobError(
            f"model {version.pk} is {version.status}, not ready; only a trained model can be evaluated"
        )
    snapshot_id = context.job.parameters.get("snapshot")
    snapshot = (
        DataSnapshot.objects.get(pk=snapshot_id)
        if snapshot_id
        else snapshot_create(collection=version.collection, test_only=True)
    )
    images, truths = snapshot_test_set(snapshot)
    if not images:
        raise JobError("the test split is empty: move labeled images into it to evaluate")
    context.progress(0.02, "loading the model")
    detector = model_load(version)
    predicted = detector.predict(StoredImages(images), progress=context.stage_progress(0.05, 0.9, "evaluate"))
    result = evaluate(
        predicted.scores,
        np.array([t.label for t in truths], np.int64),
        predicted.anomaly_maps,
        [t.defect_mask() for t in truths],
        threshold=version.threshold,
    )
    result["model_version"] = version.pk
    result["snapshot"] = snapshot.pk
    child_id = context.job.parameters.get("compare_with")
    with transaction.atomic():
        context.hold_check()
        child = ModelVersion.objects.select_for_update().filter(pk=child_id).first() if child_id else None
        promoted = False
        if child is not None:
            child.metrics = {**child.metrics, "parent": result}
            child.save(update_fields=["metrics"])
            promoted = model_version_promote_if_better(child=child)
        context.complete(
            {**result, "promoted": child.pk if promoted else None},
            message=f"evaluated model {version.pk} on {len(images)} images"
            + (f"; model {child.pk} beat it and was promoted" if promoted else ""),
        )
