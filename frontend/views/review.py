"""A collection's review queue page (the queue is frontend/src/review.ts over /api/v1/reviews/) and
its learning settings."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_POST

from annotations import selectors
from annotations.models import Collection, Role
from frontend.forms import LearningSettingsForm
from frontend.views.annotate import defect_types_config
from frontend.views.common import collection_role_required
from inference.models import FalsePositiveReason, ModelVersionStatus
from inference.selectors import active_model_version, disagreement_list, model_version_list
from inference.services.reviews import (
    QueueScope,
    learning_settings,
    learning_settings_update,
    review_pending_count,
)

REVIEW_BUNDLE = "frontend/dist/review.js"
OPEN_DISAGREEMENTS_LISTED = 10


@login_required
@require_GET
def collection_review(request: HttpRequest, collection_id: int) -> HttpResponse:
    """The review queue of a collection's active model (or `?version=`); the page carries its
    configuration, the queue itself is frontend/src/review.ts over /api/v1/reviews/."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    versions = model_version_list(
        user=request.user, collection_id=collection.pk, status=ModelVersionStatus.READY
    )
    version = active_model_version(collection_id=collection.pk)
    asked = request.GET.get("version", "")
    if asked.isascii() and asked.isdigit():  # isdigit alone takes '²', which int() refuses (a 500)
        version = get_object_or_404(versions, pk=int(asked))
    can_review = collection.archived_at is None and selectors.user_has_role(
        user=request.user, project_id=collection.project_id, minimum=Role.REVIEWER
    )
    scope = QueueScope.ALL if request.GET.get("scope") == QueueScope.ALL else QueueScope.NEW
    config = {
        "modelVersion": version.pk if version else None,
        "scope": scope.value,
        "collectionUrl": reverse("collection-detail", args=[collection.pk]),
        "canReview": can_review,
        "threshold": (version.pixel_threshold if version.pixel_threshold is not None else version.threshold)
        if version
        else None,
        "reasons": FalsePositiveReason.choices,
        # What a box drawn for a missed defect can be.
        "defectTypes": defect_types_config(
            selectors.defect_type_list(user=request.user, collection_id=collection.pk)
        ),
    }
    learning = learning_settings(collection_id=collection.pk)
    context = {
        "collection": collection,
        "project": collection.project,
        "version": version,
        "versions": versions.order_by("-id"),
        "settings_form": LearningSettingsForm(
            initial={
                "review_strategy": learning.review_strategy,
                "retrain_after_reviews": learning.retrain_after_reviews,
                "algorithm": learning.algorithm,
            }
        ),
        "can_manage": selectors.user_has_role(
            user=request.user, project_id=collection.project_id, minimum=Role.MANAGER
        ),
        "config": config,
        "can_review": can_review,
        "scope": scope.value,
        "pending": {
            scope_option.value: review_pending_count(version=version, scope=scope_option)["total"]
            for scope_option in QueueScope
        }
        if version
        else {},
        "disagreements": disagreement_list(user=request.user, collection_id=collection.pk, open_only=True)[
            :OPEN_DISAGREEMENTS_LISTED
        ],
        "bundle_built": finders.find(REVIEW_BUNDLE) is not None,
    }
    return render(request, "frontend/review.html", context)


@require_POST
@collection_role_required(
    Role.MANAGER, "Only managers can change how a collection learns.", back_to="collection-review"
)
def collection_learning_settings(request: HttpRequest, collection: Collection) -> HttpResponse:
    """Managers set the review queue's order and when to retrain."""
    form = LearningSettingsForm(request.POST)
    if form.is_valid():
        learning_settings_update(collection_id=collection.pk, **form.cleaned_data)
        messages.success(request, "Settings saved; the queue is being put in its new order.")
    else:
        messages.error(request, f"Settings not saved: {form.errors.as_text()}")
    return redirect("collection-review", collection_id=collection.pk)
