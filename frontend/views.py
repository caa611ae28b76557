"""Server-rendered pages: projects, a project, a collection's image grid and an image with its labels.

Every read goes through `annotations.selectors`, so what a user is not a member of does not exist for
them: another team's project, collection or image is a 404, on pages and image bytes alike.
"""

import io
import re
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.db.models import Count, Q, QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.shortcuts import get_object_or_404, redirect, render
from django.template.defaultfilters import pluralize
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from PIL import Image as PILImage

from annotations import selectors
from annotations.geometry import mask_decode
from annotations.models import Annotation, Collection, Image, Region, RegionKind, Role, Split, Verdict
from annotations.services.ingest import ALLOWED_FORMATS, image_to_8bit, images_store, uploads_inspect
from annotations.services.projects import project_create
from frontend.forms import ImageFilterForm, LearningSettingsForm, ProjectCreateForm, TrainForm
from inference.models import FalsePositiveReason, ModelVersion, ModelVersionStatus, Review
from inference.selectors import (
    active_model_version,
    collection_latest_jobs,
    image_cursor,
    model_version_list,
    prediction_list,
    review_list,
    scored_image_list,
)
from inference.services.reviews import learning_settings, learning_settings_update
from inference.services.versions import NothingToTrainOn, training_start

GRID_PAGE_SIZE = 60
# The grid's selection and bulk actions (frontend/src/gallery.ts); without it the grid only browses.
GALLERY_BUNDLE = "frontend/dist/gallery.js"
# Larger originals are shown downscaled; the label overlays scale with them (SVG viewBox, CSS size).
DISPLAY_MAX_SIDE = 4096
# Originals a browser shows as they are; everything else (16-bit, TIFF, BMP, CMYK...) is rendered to PNG.
BROWSER_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg", "WEBP": "image/webp"}
BROWSER_MODES = {"1", "L", "LA", "P", "RGB", "RGBA"}
MASK_ALPHA = 140
NO_DEFECT_TYPE_COLOR = "#ff00ff"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")
ROLE_ORDER = {Role.MANAGER: 0, Role.REVIEWER: 1, Role.ANNOTATOR: 2, Role.VIEWER: 3}


def safe_color(value: str | None) -> str:
    """A defect type's colour if it is a plain #rrggbb, so it can go into style and SVG attributes."""
    return value if value and _COLOR.fullmatch(value) else NO_DEFECT_TYPE_COLOR


def _number(value: Any) -> str:
    """A coordinate for SVG: plain decimal, never localized or in exponent notation."""
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def _image_or_404(request: HttpRequest, image_id: int) -> Image:
    images = selectors.image_list(user=request.user).select_related("collection__project")
    return get_object_or_404(images, pk=image_id)


def _verdict(image: Image) -> str:
    try:
        return image.annotation.verdict
    except Annotation.DoesNotExist:
        return Verdict.UNLABELED


# --- pages -------------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "POST"])
def project_list(request: HttpRequest) -> HttpResponse:
    form = ProjectCreateForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            project = project_create(
                name=form.cleaned_data["name"],
                description=form.cleaned_data["description"],
                created_by=request.user,
            )
        except IntegrityError:  # someone took the name a moment ago
            form.add_error("name", "A project with this name already exists: choose another name.")
        else:
            messages.success(request, f"Project “{project.name}” created; you are its manager.")
            return redirect("project-detail", project_id=project.pk)

    roles = dict(
        selectors.membership_list(user=request.user)
        .filter(user_id=request.user.pk)
        .values_list("project_id", "role")
    )
    collections = defaultdict(list)
    for collection in (
        selectors.collection_list(user=request.user).annotate(image_count=Count("images")).order_by("name")
    ):
        collections[collection.project_id].append(collection)
    projects = [
        {
            "project": project,
            "role": Role(roles[project.pk]).label if project.pk in roles else "",
            "collections": collections[project.pk],
            "image_count": sum(c.image_count for c in collections[project.pk]),
        }
        for project in selectors.project_list(user=request.user).order_by("name")
    ]
    return render(request, "frontend/project_list.html", {"projects": projects, "form": form})


@login_required
@require_GET
def project_detail(request: HttpRequest, project_id: int) -> HttpResponse:
    project = get_object_or_404(selectors.project_list(user=request.user), pk=project_id)
    labeled = [Verdict.NORMAL, Verdict.DEFECTIVE, Verdict.UNSURE]
    collections = (
        selectors.collection_list(user=request.user, project_id=project.pk)
        .annotate(
            image_count=Count("images"),
            train_count=Count("images", filter=Q(images__split=Split.TRAIN)),
            test_count=Count("images", filter=Q(images__split=Split.TEST)),
            labeled_count=Count("images", filter=Q(images__annotation__verdict__in=labeled)),
            defective_count=Count("images", filter=Q(images__annotation__verdict=Verdict.DEFECTIVE)),
        )
        .prefetch_related("defect_types")
        .order_by("name")
    )
    members = sorted(
        selectors.membership_list(user=request.user, project_id=project.pk),
        key=lambda m: (ROLE_ORDER.get(m.role, 9), m.user.get_username().lower()),
    )
    context = {
        "project": project,
        "collections": [
            {
                "collection": c,
                "defect_types": [(d, safe_color(d.color)) for d in c.defect_types.all()],
            }
            for c in collections
        ],
        "members": members,
        "my_role": selectors.user_role(user=request.user, project_id=project.pk),
    }
    return render(request, "frontend/project_detail.html", context)


def _grid_images(
    request: HttpRequest, collection: Collection, form: ImageFilterForm, version: ModelVersion | None
) -> QuerySet[Image]:
    """The collection's images as the grid's filters and order pick them, scored by `version`."""
    return scored_image_list(
        user=request.user,
        collection_id=collection.pk,
        model_version_id=version.pk if version else None,
        order=form.ordering(),
        **form.filters(),
    )


def _neighbours(request: HttpRequest, image: Image, form: ImageFilterForm) -> tuple[int | None, int | None]:
    """The images before and after this one in the grid, with the grid's filters and order."""
    version = active_model_version(collection_id=image.collection_id)
    order = form.ordering()
    cursor = image_cursor(image_id=image.pk, order=order, model_version_id=version.pk if version else None)
    images = _grid_images(request, image.collection, form, version)
    return selectors.image_neighbours(images, order=order, cursor=cursor)


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
    everything = selectors.image_list(user=request.user, collection_id=collection.pk)
    images = _grid_images(request, collection, form, version)
    grid = selectors.image_page(images, order=order, after=after, before=before, size=GRID_PAGE_SIZE)
    page = grid.images
    ids = [image.pk for image in page]

    colors = {d.pk: (d, safe_color(d.color)) for d in defect_types}
    region_types: dict[int, dict[int, int]] = defaultdict(lambda: defaultdict(int))
    region_counts: dict[int, int] = defaultdict(int)
    for image_id, defect_type_id in Region.objects.filter(annotation__image_id__in=ids).values_list(
        "annotation__image_id", "defect_type_id"
    ):
        region_counts[image_id] += 1
        if defect_type_id in colors:
            region_types[image_id][defect_type_id] += 1
    predictions: dict[int, dict[str, Any]] = {}
    if version is not None:
        predictions = {
            row["image_id"]: row
            for row in prediction_list(user=request.user, model_version_id=version.pk)
            .filter(image_id__in=ids)
            .values("image_id", "normalized_score", "is_defective")
        }
    # Newest first, so the first review of an image is its last decision.
    reviews: dict[int, Review] = {}
    for review in review_list(user=request.user, collection_id=collection.pk).filter(
        prediction__image_id__in=ids
    ):
        reviews.setdefault(review.prediction.image_id, review)
    thumb_box = settings.LOUPE_THUMBNAIL_SIZE
    tiles = [
        {
            "image": image,
            "verdict": _verdict(image),
            "defect_types": [colors[pk] for pk in region_types[image.pk]],
            "region_count": region_counts[image.pk],
            "thumb_size": _thumbnail_size(image, thumb_box),
            "prediction": predictions.get(image.pk),
            "review": reviews.get(image.pk),
        }
        for image in page
    ]

    summary = everything.aggregate(
        total=Count("id"),
        **{f"split_{value}": Count("id", filter=Q(split=value)) for value in Split.values},
        **{f"verdict_{value}": Count("id", filter=Q(annotation__verdict=value)) for value in Verdict.values},
    )
    query = form.query()
    filtered = bool(query)
    context = {
        "collection": collection,
        "project": collection.project,
        "form": form,
        "tiles": tiles,
        "legend": list(colors.values()),
        "summary": summary,
        "splits": [(value, label, summary[f"split_{value}"]) for value, label in Split.choices],
        "verdicts": [(value, label, summary[f"verdict_{value}"]) for value, label in Verdict.choices],
        "matching": images.count() if filtered else summary["total"],
        "filtered": filtered,
        "filter_query": query,
        "next_query": f"{query}&after={page[-1].pk}".lstrip("&") if grid.has_next else "",
        "previous_query": f"{query}&before={page[0].pk}".lstrip("&") if grid.has_previous else "",
        "jobs": collection_latest_jobs(collection_id=collection.pk),
        "version": version,
        "gallery_built": finders.find(GALLERY_BUNDLE) is not None,
    }
    return render(request, "frontend/collection_detail.html", context)


def _shape(region: Region, color: str) -> dict[str, Any] | None:
    """What the SVG overlay draws for a region; masks are drawn by `image_labels` instead."""
    g = region.geometry
    rough = region.precision == "rough"
    try:
        if region.kind == RegionKind.BOX:
            attrs = {k: _number(g[k]) for k in ("x", "y", "width", "height")}
            return {"kind": "box", "color": color, "rough": rough, **attrs}
        if region.kind in (RegionKind.POLYGON, RegionKind.SCRIBBLE):
            points = " ".join(f"{_number(x)},{_number(y)}" for x, y in g["points"])
            width = _number(g.get("width", 1)) if region.kind == RegionKind.SCRIBBLE else ""
            return {"kind": region.kind, "color": color, "rough": rough, "points": points, "width": width}
        if region.kind == RegionKind.POINT:
            return {
                "kind": "point",
                "color": color,
                "rough": rough,
                "x": _number(g["x"]),
                "y": _number(g["y"]),
            }
    except (KeyError, TypeError, ValueError):
        return None  # malformed stored geometry: listed, not drawn
    return None


def _describe(region: Region) -> str:
    g = region.geometry
    try:
        if region.kind == RegionKind.BOX:
            return f"{_number(g['width'])}×{_number(g['height'])} at ({_number(g['x'])}, {_number(g['y'])})"
        if region.kind == RegionKind.POLYGON:
            return f"{len(g['points'])} points"
        if region.kind == RegionKind.SCRIBBLE:
            return f"{len(g['points'])} points, {_number(g.get('width', 1))} px wide"
        if region.kind == RegionKind.POINT:
            return f"at ({_number(g['x'])}, {_number(g['y'])})"
        if region.kind == RegionKind.MASK:
            return f"{sum(g['counts'][1::2]):,} px"
    except (KeyError, TypeError, ValueError):
        pass
    return ""


@login_required
@require_GET
def image_detail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = _image_or_404(request, image_id)
    collection = image.collection
    defect_types = selectors.defect_type_list(user=request.user, collection_id=collection.pk)
    # Previous and next follow the grid's filters and order when the grid linked here with them.
    form = ImageFilterForm(request.GET or None, defect_types=defect_types)
    previous_id, next_id = _neighbours(request, image, form)

    annotation = Annotation.objects.filter(image=image).first()
    regions = list(annotation.regions.select_related("defect_type")) if annotation else []
    marker = _number(max(3.0, max(image.width, image.height) / 120))
    shapes, rows = [], []
    used = set()
    for number, region in enumerate(regions, start=1):
        color = safe_color(region.defect_type.color) if region.defect_type else NO_DEFECT_TYPE_COLOR
        used.add(region.defect_type_id)
        shape = _shape(region, color)
        if shape:
            shape["title"] = f"#{number} {region.defect_type or 'no defect type'} ({region.kind})"
            shapes.append(shape)
        rows.append({"number": number, "region": region, "color": color, "describe": _describe(region)})

    context = {
        "image": image,
        "collection": collection,
        "project": collection.project,
        "annotation": annotation,
        "verdict": annotation.verdict if annotation else Verdict.UNLABELED,
        "verdict_label": Verdict(annotation.verdict).label if annotation else Verdict.UNLABELED.label,
        "regions": rows,
        "shapes": shapes,
        "marker": marker,
        # Small images are enlarged to fill the viewer: show their pixels, not a blur.
        "pixelated": max(image.width, image.height) < 1024,
        "has_masks": any(r.kind == RegionKind.MASK for r in regions),
        "legend": [(d, safe_color(d.color), d.pk in used) for d in defect_types],
        "revisions": selectors.revision_list(image=image).order_by("-version"),
        "metadata": sorted((image.metadata or {}).items()) if isinstance(image.metadata, dict) else [],
        "previous_id": previous_id,
        "next_id": next_id,
        "filter_query": form.query(),
    }
    return render(request, "frontend/image_detail.html", context)


# --- image bytes -------------------------------------------------------------------------------


def _conditional(
    request: HttpRequest, etag: str, build: Callable[[], HttpResponse], **cache_control: Any
) -> HttpResponse:
    """`build()`'s response, or a 304 when the browser already holds this ETag; private either way."""
    etag = quote_etag(etag)
    held = parse_etags(request.headers.get("If-None-Match", ""))
    response = HttpResponseNotModified() if etag in held or "*" in held else build()
    response["ETag"] = etag
    patch_cache_control(response, private=True, **cache_control)
    return response


def _open(name: str):
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("the file of this image is missing from storage") from None


def _png(image: PILImage.Image) -> HttpResponse:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return HttpResponse(out.getvalue(), content_type="image/png")


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = _image_or_404(request, image_id)

    def build() -> HttpResponse:
        return FileResponse(_open(image.thumbnail.name), content_type="image/jpeg")

    # A stored image's content never changes (its key is generated), so neither does its thumbnail.
    return _conditional(request, f"thumb-{image.pk}-{image.sha256[:16]}", build, max_age=86400)


@login_required
@require_GET
def image_display(request: HttpRequest, image_id: int) -> HttpResponse:
    """The original as a browser can show it: as stored where it can, else an 8-bit PNG rendering."""
    image = _image_or_404(request, image_id)

    def build() -> HttpResponse:
        as_stored = (
            image.format in BROWSER_TYPES
            and image.mode in BROWSER_MODES
            and max(image.width, image.height) <= DISPLAY_MAX_SIDE
        )
        if as_stored:
            return FileResponse(_open(image.file.name), content_type=BROWSER_TYPES[image.format])
        with _open(image.file.name) as file:
            original = PILImage.open(file, formats=ALLOWED_FORMATS)
            original.load()
        rendered = image_to_8bit(original)
        if max(rendered.size) > DISPLAY_MAX_SIDE:
            rendered.thumbnail((DISPLAY_MAX_SIDE, DISPLAY_MAX_SIDE), PILImage.Resampling.LANCZOS)
        return _png(rendered)

    return _conditional(request, f"display-{image.pk}-{image.sha256[:16]}", build, max_age=86400)


@login_required
@require_GET
def image_labels(request: HttpRequest, image_id: int) -> HttpResponse:
    """The image's mask regions in their defect types' colours: an RGBA PNG the image's size."""
    image = _image_or_404(request, image_id)
    # The version is read before the regions: if they change in between, the ETag is the older one
    # and the next request fetches again, never the other way round.
    version = Annotation.objects.filter(image=image).values_list("version", flat=True).first() or 0

    def build() -> HttpResponse:
        pixels = np.zeros((image.height, image.width, 4), dtype=np.uint8)
        masks = Region.objects.filter(annotation__image=image, kind=RegionKind.MASK).select_related(
            "defect_type"
        )
        for region in masks:
            try:
                mask = mask_decode(region.geometry)
            except (KeyError, TypeError, ValueError):
                continue
            if mask.shape != pixels.shape[:2]:
                continue
            color = safe_color(region.defect_type.color) if region.defect_type else NO_DEFECT_TYPE_COLOR
            pixels[mask] = (*(int(color[i : i + 2], 16) for i in (1, 3, 5)), MASK_ALPHA)
        return _png(PILImage.fromarray(pixels))

    return _conditional(request, f"labels-{image.pk}-v{version}", build, no_cache=True)


# --- the annotator and uploads from the grid (the canvas is frontend/src/annotator.ts) --------------

ANNOTATOR_BUNDLE = "frontend/dist/annotator.js"


def _annotate_url(image_id: int, query: str) -> str:
    return reverse("image-annotate", args=[image_id]) + (f"?{query}" if query else "")


@login_required
@require_GET
def image_annotate(request: HttpRequest, image_id: int) -> HttpResponse:
    """The annotation canvas: annotators and above edit, viewers look. The page only carries its
    configuration; the canvas reads and writes the labels through the REST API with the version check."""
    image = _image_or_404(request, image_id)
    collection = image.collection
    defect_types = selectors.defect_type_list(user=request.user, collection_id=collection.pk)
    # Previous and next follow the grid's filters and order, as on the image page.
    form = ImageFilterForm(request.GET or None, defect_types=defect_types)
    previous_id, next_id = _neighbours(request, image, form)
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
        "canEdit": selectors.user_has_role(
            user=request.user, project_id=collection.project_id, minimum=Role.ANNOTATOR
        ),
        "role": Role(role).label.lower() if role else "",
        "defectTypes": [
            {"id": d.pk, "name": d.name, "color": safe_color(d.color), "hotkey": d.hotkey}
            for d in defect_types.order_by("name")
        ],
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


REVIEW_BUNDLE = "frontend/dist/review.js"


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
    if request.GET.get("version", "").isdigit():
        version = get_object_or_404(versions, pk=int(request.GET["version"]))
    can_review = selectors.user_has_role(
        user=request.user, project_id=collection.project_id, minimum=Role.REVIEWER
    )
    config = {
        "modelVersion": version.pk if version else None,
        "collectionUrl": reverse("collection-detail", args=[collection.pk]),
        "canReview": can_review,
        "threshold": (version.pixel_threshold if version.pixel_threshold is not None else version.threshold)
        if version
        else None,
        "reasons": FalsePositiveReason.choices,
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
        "bundle_built": finders.find(REVIEW_BUNDLE) is not None,
    }
    return render(request, "frontend/review.html", context)


@login_required
@require_POST
def collection_learning_settings(request: HttpRequest, collection_id: int) -> HttpResponse:
    """Managers set the review queue's order and when to retrain."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    if not selectors.user_has_role(user=request.user, project_id=collection.project_id, minimum=Role.MANAGER):
        messages.error(request, "Only managers can change how a collection learns.")
    else:
        form = LearningSettingsForm(request.POST)
        if form.is_valid():
            learning_settings_update(collection_id=collection.pk, **form.cleaned_data)
            messages.success(request, "Settings saved; the queue is in its new order.")
        else:
            messages.error(request, f"Settings not saved: {form.errors.as_text()}")
    return redirect("collection-review", collection_id=collection.pk)


@login_required
@require_POST
def collection_upload(request: HttpRequest, collection_id: int) -> HttpResponse:
    """Images from the grid's upload form. Unlike the API (all or nothing), each file stands alone:
    the good ones are stored and every rejected one is reported with its reason."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    project_id = collection.project_id
    if not selectors.user_has_role(user=request.user, project_id=project_id, minimum=Role.ANNOTATOR):
        messages.error(request, "Only annotators, reviewers and managers can upload images.")
        return redirect("collection-detail", collection_id=collection.pk)
    files = request.FILES.getlist("files")
    if not files:
        messages.error(request, "Choose one or more image files to upload.")
    accepted, rejected = uploads_inspect(uploads=[(upload.name, upload.read()) for upload in files])
    for name, reason in rejected:
        messages.error(request, f"{name}: {reason}")
    stored = images_store(collection=collection, accepted=accepted, uploaded_by=request.user)
    added = sum(image.created for image in stored)
    already = len(stored) - added
    if added or already:
        text = f"{added} image{pluralize(added)} added"
        if already:
            text += f"; {already} {'was' if already == 1 else 'were'} already in the collection"
        messages.success(request, text + ".")
    return redirect("collection-detail", collection_id=collection.pk)


# --- the models page (its charts are frontend/src/models.ts) ---------------------------------------

MODELS_BUNDLE = "frontend/dist/models.js"
STORED_METRICS = ("image_auroc", "pixel_auroc", "aupro", "f1_max", "at_threshold")


def _version_config(version: ModelVersion) -> dict[str, Any]:
    """What the models page's script needs of a ready version."""
    return {
        "id": version.pk,
        "name": f"model {version.pk} ({version.algorithm})",
        "parent": version.parent_id,
        "threshold": version.threshold,
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


@login_required
@require_GET
def collection_models(request: HttpRequest, collection_id: int) -> HttpResponse:
    """A collection's model versions; for one of them the curves, score histograms and confusion
    matrix at a threshold, and two of them compared. Managers also save the threshold, promote and
    train (the API and `collection_train` check the role again)."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    versions = (
        model_version_list(user=request.user, collection_id=collection.pk)
        .select_related("promoted_by", "threshold_set_by")
        .order_by("-id")
    )
    ready = [version for version in versions if version.status == ModelVersionStatus.READY]
    for version in versions:
        version.parent_deltas = parent_deltas(version)
    active = active_model_version(collection_id=collection.pk)
    context = {
        "collection": collection,
        "project": collection.project,
        "versions": versions,
        "ready": ready,
        "active": active,
        "can_manage": selectors.user_has_role(
            user=request.user, project_id=collection.project_id, minimum=Role.MANAGER
        ),
        "train_form": TrainForm(),
        "jobs": collection_latest_jobs(collection_id=collection.pk),
        "config": {
            "activeId": active.pk if active else None,
            "versions": [_version_config(version) for version in ready],
        },
        "bundle_built": finders.find(MODELS_BUNDLE) is not None,
    }
    return render(request, "frontend/models.html", context)


@login_required
@require_POST
def collection_train(request: HttpRequest, collection_id: int) -> HttpResponse:
    """Train a new version from the models page's form, its parent the active version; the page then
    shows the job's progress."""
    collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)
    if not selectors.user_has_role(user=request.user, project_id=collection.project_id, minimum=Role.MANAGER):
        raise PermissionDenied("Only managers can start training.")
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
    except NothingToTrainOn as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"Training model {job.model_version_id} is queued; its progress is below.")
    return redirect("collection-models", collection_id=collection.pk)
