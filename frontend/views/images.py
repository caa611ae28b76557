"""An image's page with its labels drawn, and the image's bytes: thumbnail, a browser-ready rendering
of the original, and its masks as a coloured overlay."""

from typing import Any

import numpy as np
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET
from PIL import Image as PILImage

from annotations import selectors
from annotations.geometry import mask_decode
from annotations.models import Region, RegionKind, Role, Verdict
from annotations.services.ingest import image_display_file
from config.http import conditional
from frontend.forms import ImageFilterForm
from frontend.selectors import grid_neighbours, image_label_version, image_labels_now, image_mask_regions
from frontend.views.common import (
    NO_DEFECT_TYPE_COLOR,
    image_or_404,
    png_response,
    safe_color,
    stored_file,
    svg_number,
)
from inference.selectors import active_model_version, disagreement_list, prediction_list

MASK_ALPHA = 140


def _shape(region: Region, color: str) -> dict[str, Any] | None:
    """What the SVG overlay draws for a region; masks are drawn by `image_labels` instead."""
    g = region.geometry
    rough = region.precision == "rough"
    try:
        if region.kind == RegionKind.BOX:
            attrs = {k: svg_number(g[k]) for k in ("x", "y", "width", "height")}
            return {"kind": "box", "color": color, "rough": rough, **attrs}
        if region.kind in (RegionKind.POLYGON, RegionKind.SCRIBBLE):
            points = " ".join(f"{svg_number(x)},{svg_number(y)}" for x, y in g["points"])
            width = svg_number(g.get("width", 1)) if region.kind == RegionKind.SCRIBBLE else ""
            return {"kind": region.kind, "color": color, "rough": rough, "points": points, "width": width}
        if region.kind == RegionKind.POINT:
            return {
                "kind": "point",
                "color": color,
                "rough": rough,
                "x": svg_number(g["x"]),
                "y": svg_number(g["y"]),
            }
    except (KeyError, TypeError, ValueError):
        return None  # malformed stored geometry: listed, not drawn
    return None


def _describe(region: Region) -> str:
    g = region.geometry
    try:
        if region.kind == RegionKind.BOX:
            size = f"{svg_number(g['width'])}×{svg_number(g['height'])}"
            return f"{size} at ({svg_number(g['x'])}, {svg_number(g['y'])})"
        if region.kind == RegionKind.POLYGON:
            return f"{len(g['points'])} points"
        if region.kind == RegionKind.SCRIBBLE:
            return f"{len(g['points'])} points, {svg_number(g.get('width', 1))} px wide"
        if region.kind == RegionKind.POINT:
            return f"at ({svg_number(g['x'])}, {svg_number(g['y'])})"
        if region.kind == RegionKind.MASK:
            return f"{sum(g['counts'][1::2]):,} px"
    except (KeyError, TypeError, ValueError):
        pass
    return ""


@login_required
@require_GET
def image_detail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_or_404(request, image_id)
    collection = image.collection
    defect_types = selectors.defect_type_list(user=request.user, collection_id=collection.pk)
    # Previous and next follow the grid's filters and order when the grid linked here with them.
    form = ImageFilterForm(request.GET or None, defect_types=defect_types)
    previous_id, next_id = grid_neighbours(user=request.user, image=image, form=form)

    annotation, regions = image_labels_now(image=image)
    marker = svg_number(max(3.0, max(image.width, image.height) / 120))
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

    version = active_model_version(collection_id=collection.pk)
    prediction = (
        prediction_list(user=request.user, model_version_id=version.pk, image_id=image.pk).first()
        if version
        else None
    )
    context = {
        "model_version": version,
        "prediction": prediction,
        "disagreements": disagreement_list(user=request.user, image_id=image.pk),
        "can_review": collection.archived_at is None
        and selectors.user_has_role(
            user=request.user, project_id=collection.project_id, minimum=Role.REVIEWER
        ),
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


@login_required
@require_GET
def image_thumbnail(request: HttpRequest, image_id: int) -> HttpResponse:
    image = image_or_404(request, image_id)

    def build() -> HttpResponse:
        return FileResponse(stored_file(image.thumbnail.name), content_type="image/jpeg")

    # A stored image's content never changes (its key is generated), so neither does its thumbnail.
    return conditional(request, f"thumb-{image.pk}-{image.sha256[:16]}", build, max_age=86400)


@login_required
@require_GET
def image_display(request: HttpRequest, image_id: int) -> HttpResponse:
    """The original as a browser can show it: as stored where it can, else its stored 8-bit PNG
    rendition (made by the first request)."""
    image = image_or_404(request, image_id)

    def build() -> HttpResponse:
        try:
            shown = image_display_file(image=image)
        except FileNotFoundError:
            raise Http404("the file of this image is missing from storage") from None
        return FileResponse(stored_file(shown.name), content_type=shown.content_type)

    return conditional(request, f"display-{image.pk}-{image.sha256[:16]}", build, max_age=86400)


@login_required
@require_GET
def image_labels(request: HttpRequest, image_id: int) -> HttpResponse:
    """The image's mask regions in their defect types' colours: an RGBA PNG the image's size."""
    image = image_or_404(request, image_id)
    # The version is read before the regions: if they change in between, the ETag is the older one
    # and the next request fetches again, never the other way round.
    version = image_label_version(image=image)

    def build() -> HttpResponse:
        pixels = np.zeros((image.height, image.width, 4), dtype=np.uint8)
        for region in image_mask_regions(image=image):
            try:
                mask = mask_decode(region.geometry)
            except (KeyError, TypeError, ValueError):
                continue
            if mask.shape != pixels.shape[:2]:
                continue
            color = safe_color(region.defect_type.color) if region.defect_type else NO_DEFECT_TYPE_COLOR
            pixels[mask] = (*(int(color[i : i + 2], 16) for i in (1, 3, 5)), MASK_ALPHA)
        return png_response(PILImage.fromarray(pixels))

    return conditional(request, f"labels-{image.pk}-v{version}", build, no_cache=True)
