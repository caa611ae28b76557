"""What a request that failed unexpectedly answers (Django's `handler500`; the error is logged first).

While the database cannot be reached — a restart, a failover, a cut connection — the answer is 503
with `Retry-After`: the next try will most likely succeed, and a client or a person should wait and
retry, not report a bug. Anything else is a 500. JSON under /api/, a plain page elsewhere: the page
needs no database (no user, no session), which may be what failed.
"""

import sys

from django.db import InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.template.loader import render_to_string

RETRY_AFTER_SECONDS = 5
UNAVAILABLE = "The database is not answering (it may be restarting): try again in a few seconds."
FAILED = "Something went wrong on our side. It has been logged; try again, or tell an administrator."


def server_error(request: HttpRequest) -> HttpResponse:
    unavailable = isinstance(sys.exc_info()[1], OperationalError | InterfaceError)
    status, message = (503, UNAVAILABLE) if unavailable else (500, FAILED)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=status)
    else:
        page = render_to_string("frontend/server_error.html", {"status": status, "message": message})
        response = HttpResponse(page, status=status)
    if unavailable:
        response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response
