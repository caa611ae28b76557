"""A collection's models page (its charts are frontend/src/models.ts), training and exporting from it."""

from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotations import selectors
from annotations.models import Collection, Role
from annotations.services.projects import CollectionArchived
from frontend.charts import drift_panels
from frontend.forms import TrainForm
from frontend.views.common import collection_role_required
from inference.models import ModelExport, ModelVersion, ModelVersionStatus
from inference.selectors import (
    active_model_version,
    collection_latest_jobs,
    model_version_list,
    production_version,
)
from inference.services.exports import NotExportable, export_start, version_exportable
from inference.services.versions import NothingToTrainOn, VersionNotReady, training_start
from line.selectors import drift_report
from line.services.inspection import line_policy

MODELS_BUNDLE = "frontend/dist/models.js"
STORED_METRICS = ("image_auroc", "pixel_auroc", "aupro", "f1_max", "at_threshold")


def _version_config(version: ModelVersion) -> dict[str, Any]:
    """What the models page's script needs of a ready version."""
    return {
        "id": version.pk,
        "name": f"model {version.pk} ({version.algorithm})",
        "parent": version.parent_id,
        "threshold": version.threshold,
        "normalizer": version.normalizer or None,
        "promoted": version.promoted_at is not None,
        "metrics": {key: version.metrics[key] for key in STORED_METRICS if key in version.metrics},
        "fitSeconds": version.fit_seconds,
        "peakMemoryBytes": version.peak_memory_bytes,
        "scoresUrl": reverse("model-version-scores", args=[version.pk]),
        "thresholdUrl": reverse("model-version-threshold", args=[version.pk]),
        "promoteUrl": reverse("model-version-promote", args=[version.pk]),
    }


PARENT_METRICS = (("image_auroc", "image AUROC"), ("aupro", "AUPRO"), ("pixel_auroc", "pixel AUROC"))


def parent_deltas(version: ModelVersion) -> list[dict[str, Any]]:
    """How a version does against its parent, both measured on the version's test images (the
    parent is evaluated on them after the child trains): [{name, delta, better}] per metric."""
    parent = version.metrics.get("parent") or {}
    deltas = []
    for key, name in PARENT_METRICS:
        if isinstance(version.metrics.get(key), float | int) and isinstance(parent.get(key), float | int):
            delta = version.metrics[key] - parent[key]
            deltas.append({"name": name, "delta": f"{delta:+.3f}", "better": delta >= 0})
    return deltas


def defect_type_table(version: ModelVersion) -> dict[str, Any] | None:
    """The version's defect-type confusion matrix on its test split as the page draws it: per true
    type, its counts by predicted type (each with a 0–4 shade of its share of the row) and accuracy;
    None when the version learned no types."""
    report = version.metrics.get("defect_types")
    if not report:
        return None
    types, by_type = report.get("types", []), report.get("accuracy_by_type", {})
    rows = []
    for true, counts in zip(types, report.get("matrix", []), strict=True):
        total = sum(counts) or 1
        cells = [
            {"count": count, "hit": true == predicted, "shade": round(4 * count / total)}
            for predicted, count in zip(types, counts, strict=True)
        ]
        rows.append({"type": true, "cells": cells, "accuracy": by_type.get(true)})
    return {**report, "rows": rows}


@login_required
@require_GET
def collection_models(request: HttpRequest, collection_id: int) -> HttpResponse:
    """A collection's model versions; for one of them the curves, score histograms and confusion
    matrix at a threshold, and two of them compared; each version's exports with their parity figures
    and files. Managers also save the threshold, promote, train and export (the API,
    `collection_train` and `collection_model_export` check the role again)."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    can_manage = selectors.user_has_role(
        user=request.user, project_id=collection.project_id, minimum=Role.MANAGER
    )
    versions = (
        model_version_list(user=request.user, collection_id=collection.pk)
        .select_related("promoted_by", "threshold_set_by")
        .prefetch_related(
            Prefetch("exports", queryset=ModelExport.objects.select_related("created_by").order_by("-id"))
        )
        .order_by("-id")
    )
    ready = [version for version in versions if version.status == ModelVersionStatus.READY]
    for version in versions:
        version.parent_deltas = parent_deltas(version)
        version.type_table = defect_type_table(version)
    active = active_model_version(collection_id=collection.pk)
    policy = line_policy(collection_id=collection.pk)
    drift = drift_report(version=production_version(collection_id=collection.pk), policy=policy)
    context = {
        "collection": collection,
        "project": collection.project,
        "versions": versions,
        "ready": ready,
        "typed": [version for version in ready if version.type_table],
        "exportable": [
            version for version in versions if version.exports.all() or version_exportable(version)
        ],
        "active": active,
        "can_manage": can_manage,
        # An archived collection is read-only: it is exported, not trained, thresholded or promoted.
        "can_change": can_manage and collection.archived_at is None,
        "train_form": TrainForm(),
        "jobs": collection_latest_jobs(collection_id=collection.pk),
        "config": {
            "activeId": active.pk if active else None,
            "versions": [_version_config(version) for version in ready],
        },
        "bundle_built": finders.find(MODELS_BUNDLE) is not None,
        "drift": drift,
        "drift_panels": drift_panels(drift["series"]),
        "policy": policy,
    }
    return render(request, "frontend/models.html", context)


@require_POST
@collection_role_required(Role.MANAGER, "Only managers can start training.")
def collection_train(request: HttpRequest, collection: Collection) -> HttpResponse:
    """Train a new version from the models page's form, its parent the active version; the page then
    shows the job's progress."""
    form = TrainForm(request.POST)
    if not form.is_valid():
        for name, errors in form.errors.items():
            messages.error(request, f"{form.fields[name].label}: {' '.join(errors)}")
        return redirect("collection-models", collection_id=collection.pk)
    try:
        job = training_start(
            collection=collection,
            algorithm=form.cleaned_data["algorithm"],
            parameters={"image_size": form.cleaned_data["image_size"]},
            parent=active_model_version(collection_id=collection.pk),
            created_by=request.user,
        )
    except (CollectionArchived, NothingToTrainOn) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Training model {job.model_version_id} is queued; its progress is below.")
    return redirect("collection-models", collection_id=collection.pk)


@require_POST
@collection_role_required(Role.MANAGER, "Only managers can export a model.")
def collection_model_export(request: HttpRequest, collection: Collection, version_id: int) -> HttpResponse:
    """Export a version from the models page; the page then shows the job's progress."""
    version = get_object_or_404(
        model_version_list(user=request.user, collection_id=collection.pk), pk=version_id
    )
    try:
        export_start(version=version, by=request.user)
    except (VersionNotReady, NotExportable) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Exporting model {version.pk} is queued; its progress is below.")
    return redirect("collection-models", collection_id=collection.pk)
