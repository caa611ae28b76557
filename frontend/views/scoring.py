"""The collection's "Score" action, and settling a disagreement between a review and a label, from
the pages (the API has both too: POST /api/v1/jobs/ with kind "score", and
/api/v1/disagreements/{id}/resolve/)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from annotations.models import Collection, Role
from annotations.selectors import user_has_role
from annotations.services.annotations import StaleAnnotation
from frontend.views.common import collection_role_required
from inference.models import Resolution
from inference.selectors import active_model_version, disagreement_list
from inference.services.disagreements import AlreadyResolved, disagreement_resolve
from inference.services.scoring_jobs import scoring_start, unscored_image_count


def _back(request: HttpRequest, fallback: str, **kwargs: int) -> HttpResponse:
    """To the page the form came from (`next`, on this site only), else `fallback`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        return redirect(target)
    return redirect(fallback, **kwargs)


@require_POST
@collection_role_required(
    Role.REVIEWER, "Only reviewers and managers can start scoring.", back_to="collection-detail"
)
def collection_score(request: HttpRequest, collection: Collection) -> HttpResponse:
    """Score the collection's images that the model it is shown with has not scored yet."""
    version = active_model_version(collection_id=collection.pk)
    if version is None:
        messages.error(
            request, "There is no trained model to score with: train one on the models page first."
        )
    elif not unscored_image_count(version=version)["total"]:
        messages.info(request, f"Model {version.pk} has scored every image already.")
    else:
        job = scoring_start(version=version, by=request.user)
        messages.success(
            request,
            f"Scoring {unscored_image_count(version=version)['total']} images with model {version.pk} "
            f"(job {job.pk}).",
        )
    return _back(request, "collection-detail", collection_id=collection.pk)


@login_required
@require_POST
def disagreement_settle(request: HttpRequest, disagreement_id: int) -> HttpResponse:
    """Keep the label, or take the review's decision as the label."""
    disagreement = get_object_or_404(disagreement_list(user=request.user), pk=disagreement_id)
    image = disagreement.image
    if not user_has_role(user=request.user, project_id=image.collection.project_id, minimum=Role.REVIEWER):
        messages.error(request, "Only reviewers and managers can resolve disagreements.")
    elif request.POST.get("resolution") not in Resolution.values:
        messages.error(request, "Choose to keep the label or to take the review's decision.")
    else:
        try:
            disagreement_resolve(
                disagreement=disagreement, by=request.user, resolution=request.POST["resolution"]
            )
            messages.success(request, f"Disagreement on {image} resolved.")
        except (AlreadyResolved, StaleAnnotation) as error:
            messages.error(request, f"{error}.")
    return _back(request, "image-detail", image_id=image.pk)
