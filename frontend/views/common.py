"""What the page modules share: the role check, colours and numbers safe to put in markup, the
image a user may see, and responses for image bytes."""

import io
import re
from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from PIL import Image as PILImage

from annotations import selectors
from annotations.models import Annotation, Image, Role, Verdict
from annotations.services.projects import CollectionArchived
from config.http import stored_file  # noqa: F401  (the page views take it from here)

NO_DEFECT_TYPE_COLOR = "#ff00ff"
_COLOR = re.compile(r"#[0-9a-fA-F]{6}")


def collection_role_required(
    minimum: Role, denied: str, *, back_to: str | None = None
) -> Callable[[Callable[..., HttpResponse]], Callable[..., HttpResponse]]:
    """For a page of one collection (its `collection_id`): signed in, a member (another team's
    collection is a 404) with at least `minimum`; the view gets the collection instead of its id.

    Below the role: `denied` as an error message and a redirect to the page named `back_to` (the
    collection's), or a 403 with it when there is no page to go back to. A write the services refuse
    because the collection is archived is answered the same way, with their message.
    """

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @login_required
        @wraps(view)
        def checked(request: HttpRequest, collection_id: int, **kwargs: Any) -> HttpResponse:
            collection = get_object_or_404(selectors.collection_list(user=request.user), pk=collection_id)

            def refuse(message: str) -> HttpResponse:
                if back_to is None:
                    raise PermissionDenied(message)
                messages.error(request, message)
                return redirect(back_to, collection_id=collection.pk)

            if not selectors.user_has_role(
                user=request.user, project_id=collection.project_id, minimum=minimum
            ):
                return refuse(denied)
            try:
                return view(request, collection, **kwargs)
            except CollectionArchived as error:  # the services rolled back: nothing changed
                message = str(error)
                return refuse(f"{message[:1].upper()}{message[1:]}.")

        return checked

    return decorate


def safe_color(value: str | None) -> str:
    """A defect type's colour if it is a plain #rrggbb, so it can go into style and SVG attributes."""
    return value if value and _COLOR.fullmatch(value) else NO_DEFECT_TYPE_COLOR


def svg_number(value: Any) -> str:
    """A coordinate for SVG: plain decimal, never localized or in exponent notation."""
    return f"{float(value):.2f}".rstrip("0").rstrip(".")


def image_or_404(request: HttpRequest, image_id: int) -> Image:
    """The image if the user is a member of its project (another team's image is a 404)."""
    images = selectors.image_list(user=request.user).select_related("collection__project")
    return get_object_or_404(images, pk=image_id)


def verdict_of(image: Image) -> str:
    try:
        return image.annotation.verdict
    except Annotation.DoesNotExist:
        return Verdict.UNLABELED


def png_response(image: PILImage.Image) -> HttpResponse:
    out = io.BytesIO()
    image.save(out, format="PNG", compress_level=3)
    return HttpResponse(out.getvalue(), content_type="image/png")
