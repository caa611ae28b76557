"""Entity tags, the one helper for both directions: conditional GETs (If-None-Match, 304) and
conditional writes (If-Match). Pages and both APIs use it; no app owns it."""

import re
from collections.abc import Callable
from typing import Any

from django.core.files import File
from django.core.files.storage import default_storage
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_cache_control
from django.utils.http import parse_etags, quote_etag

# RFC 9110 §8.8.3: an optional weakness marker and a quoted string of visible characters but '"'.
ENTITY_TAG = re.compile(r'(?:W/)?"[\x21\x23-\x7e\x80-\xff]*"')


class MalformedIfMatch(ValueError):
    """The If-Match header is neither "*" nor a list of quoted entity tags (a 400, not a 412)."""

    def __init__(self, header: str) -> None:
        super().__init__(
            f"If-Match {header!r} is not an entity tag: send the ETag you read, quotes included "
            f'(e.g. "image-7-v3"), or *'
        )


def conditional(
    request: HttpRequest, etag: str, build: Callable[[], HttpResponse], **cache_control: Any
) -> HttpResponse:
    """`build()`'s response, or a 304 when the client already holds this ETag; private either way.

    Args:
        request: the GET request (its If-None-Match is read; a malformed one is no match).
        etag: the representation's tag, quoted or not.
        build: makes the full response; not called for a 304.
        **cache_control: Cache-Control directives besides `private`, e.g. `max_age=3600`.
    """
    etag = quote_etag(etag)
    held = parse_etags(request.headers.get("If-None-Match", ""))
    response = HttpResponseNotModified() if etag in held or "*" in held else build()
    response["ETag"] = etag
    patch_cache_control(response, private=True, **cache_control)
    return response


def if_match(request: HttpRequest) -> list[str] | None:
    """The entity tags of the request's If-Match, quotes kept (`["*"]` for any); None without one.

    Raises:
        MalformedIfMatch: the header is there but not "*" or a comma-separated list of entity tags.
    """
    header = request.headers.get("If-Match", "")
    if not header.strip():
        return None
    if header.strip() == "*":
        return ["*"]
    tags = [part.strip() for part in header.split(",")]
    if not all(ENTITY_TAG.fullmatch(tag) for tag in tags):
        raise MalformedIfMatch(header)
    return tags


def stored_file(name: str) -> File:
    """A stored file, open for reading; a 404 that says so when storage has lost it (pages and the
    API both answer it: DRF turns Http404 into its JSON 404)."""
    try:
        return default_storage.open(name, "rb")
    except FileNotFoundError:
        raise Http404("this file is missing from storage: upload it again or ask an administrator") from None
