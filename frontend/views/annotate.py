"""The annotation canvas page (the canvas is frontend/src/annotator.ts)."""

from typing import Any

from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_GET

from annotations import selectors
from annotations.models import DefectType, Role
from frontend.forms import ImageFilterForm
from frontend.selectors import grid_neighbours
from frontend.views.common import image_or_404, safe_color

ANNOTATOR_BUNDLE = "frontend/dist/annotator.js"


def defect_types_config(defect_types: QuerySet[DefectType]) -> list[dict[str, Any]]:
    """A collection's defect types as the canvases read them (annotator and review queue), by name."""
    return [
        {"id": d.pk, "name": d.name, "color": safe_color(d.color), "hotkey": d.hotkey}
        for d in defect_types.order_by("name")
    ]


def _annotate_url(image_id: int, query: str) -> str:
    return reverse("image-annotate", args=[image_id]) + (f"?{query}" if query else "")


@login_required
@require_GET
def image_annotate(request: HttpRequest, image_id: int) -> HttpResponse:
    """The annotation canvas: annotators and above edit, viewers look. The page only carries its
    configuration; the canvas reads and writes the labels through the REST API with the version check."""
    image = image_or_404(request, image_id)
    collection = image.collection
    defect_types = selectors.defect_type_list(user=request.user, collection_id=collection.pk)
    # Previous and next follow the grid's filters and order, as on the image page.
    form = ImageFilterForm(request.GET or None, defect_types=defect_types)
    previous_id, next_id = grid_neighbours(user=request.user, image=image, form=form)
    query = form.query()
    role = selectors.user_role(user=request.user, project_id=collection.project_id)
    config = {
        "imageId": image.pk,
        "imageName": str(image),
        "width": image.width,
        "height": image.height,
        "displayUrl": reverse("image-display", args=[image.pk]),
        "annotationUrl": reverse("image-annotation", kwargs={"pk": image.pk}),
        "imageUrl": reverse("image-detail", args=[image.pk]) + (f"?{query}" if query else ""),
        "previousUrl": _annotate_url(previous_id, query) if previous_id else None,
        "nextUrl": _annotate_url(next_id, query) if next_id else None,
        "canEdit": collection.archived_at is None
        and selectors.user_has_role(
            user=request.user, project_id=collection.project_id, minimum=Role.ANNOTATOR
        ),
        "role": Role(role).label.lower() if role else "",
        "defectTypes": defect_types_config(defect_types),
    }
    context = {
        "image": image,
        "collection": collection,
        "project": collection.project,
        "config": config,
        "filter_query": query,
        # A checkout where `make install` has not built the front end yet says so instead of a blank page.
        "bundle_built": finders.find(ANNOTATOR_BUNDLE) is not None,
    }
    return render(request, "frontend/annotate.html", context)
