"""A collection's image grid (filters, order, keyset pages, tiles with scores and reviews) and the
grid's upload form."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.views.decorators.http import require_GET, require_POST

from annotations import selectors
from annotations.models import ROLE_RANK, Collection, Image, Role, Split, Verdict
from annotations.services.ingest import images_store, uploads_inspect
from frontend.forms import ImageFilterForm
from frontend.selectors import collection_summary, grid_images, grid_marks, grid_matching
from frontend.views.common import collection_role_required, safe_color, verdict_of
from inference.selectors import (
    active_model_version,
    collection_latest_jobs,
    image_cursor,
)
from inference.services.scoring_jobs import new_images_score, unscored_image_count

GRID_PAGE_SIZE = 60
# The grid's selection and bulk actions (frontend/src/gallery.ts); without it the grid only browses.
GALLERY_BUNDLE = "frontend/dist/gallery.js"


def _thumbnail_size(image: Image, box: int) -> tuple[int, int]:
    scale = min(1.0, box / max(image.width, image.height, 1))
    return max(1, round(image.width * scale)), max(1, round(image.height * scale))


@login_required
@require_GET
def collection_detail(request: HttpRequest, collection_id: int) -> HttpResponse:
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    defect_types = selectors.defect_type_list(user=request.user, collection_id=collection.pk)
    form = ImageFilterForm(request.GET or None, defect_types=defect_types)
    version = active_model_version(collection_id=collection.pk)
    order = form.ordering()
    version_id = version.pk if version else None
    after, before = (
        image_cursor(image_id=image_id, order=order, model_version_id=version_id)
        for image_id in form.cursor()
    )
    images = grid_images(user=request.user, collection=collection, form=form, version=version)
    grid = selectors.image_page(images, order=order, after=after, before=before, size=GRID_PAGE_SIZE)
    page = grid.images
    colors = {d.pk: (d, safe_color(d.color)) for d in defect_types}
    marks = grid_marks(user=request.user, collection=collection, images=page, version=version)
    thumb_box = settings.LOUPE_THUMBNAIL_SIZE
    tiles = [
        {
            "image": image,
            "verdict": verdict_of(image),
            "defect_types": [colors[pk] for pk in marks.region_types[image.pk] if pk in colors],
            "region_count": marks.region_counts[image.pk],
            "thumb_size": _thumbnail_size(image, thumb_box),
            "prediction": marks.predictions.get(image.pk),
            "review": marks.reviews.get(image.pk),
        }
        for image in page
    ]
    summary = collection_summary(user=request.user, collection=collection)
    query = form.query()
    filtered = bool(query)
    matching = grid_matching(collection=collection, images=images, query=query) if filtered else summary
    role = selectors.user_role(user=request.user, project_id=collection.project_id)
    context = {
        "collection": collection,
        "project": collection.project,
        # An archived collection is read-only: no upload form, no selection, no bulk changes.
        "can_edit": collection.archived_at is None and ROLE_RANK[role] >= ROLE_RANK[Role.ANNOTATOR],
        "can_manage": role == Role.MANAGER,
        "form": form,
        "tiles": tiles,
        "legend": list(colors.values()),
        "summary": summary,
        "splits": [(value, label, summary[f"split_{value}"]) for value, label in Split.choices],
        "verdicts": [(value, label, summary[f"verdict_{value}"]) for value, label in Verdict.choices],
        "matching": matching["total"],
        # Large counts are reused for a minute (annotations.counts): the page says when they were taken.
        "counted_at": summary.counted_at or matching.counted_at,
        "filtered": filtered,
        "filter_query": query,
        "next_query": f"{query}&after={page[-1].pk}".lstrip("&") if grid.has_next else "",
        "previous_query": f"{query}&before={page[0].pk}".lstrip("&") if grid.has_previous else "",
        "jobs": collection_latest_jobs(collection_id=collection.pk),
        "version": version,
        "unscored": unscored_image_count(version=version)["total"] if version else 0,
        "can_score": collection.archived_at is None and ROLE_RANK[role] >= ROLE_RANK[Role.REVIEWER],
        "gallery_built": finders.find(GALLERY_BUNDLE) is not None,
    }
    return render(request, "frontend/collection_detail.html", context)


@require_POST
@collection_role_required(
    Role.ANNOTATOR, "Only annotators, reviewers and managers can upload images.", back_to="collection-detail"
)
def collection_upload(request: HttpRequest, collection: Collection) -> HttpResponse:
    """Images from the grid's upload form. Unlike the API (all or nothing), each file stands alone:
    the good ones are stored and every rejected one is reported with its reason."""
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose one or more image files to upload.")
    accepted, rejected = uploads_inspect(uploads=[(upload.name, upload) for upload in files])
    for name, reason in rejected:
        messages.error(request, f"{name}: {reason}")
    stored = images_store(collection=collection, accepted=accepted, uploaded_by=request.user)
    new_images_score(
        collection=collection, image_ids=[s.image.pk for s in stored if s.created], by=request.user
    )
    added = sum(image.created for image in stored)
    already = len(stored) - added
    if added or already:
        text = f"{added} image{pluralize(added)} added"
        if already:
            text += f"; {already} {'was' if already == 1 else 'were'} already in the collection"
        messages.success(request, text + ".")
    return redirect("collection-detail", collection_id=collection.pk)
