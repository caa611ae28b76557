"""The brakes on password guessing, and the answer to a login they refused.

Two brakes (the limits are in config/settings.py): django-axes locks one username from one address
after a few wrong passwords; `LoginBrakes` also locks a whole address after many wrong passwords
across usernames within the cool-off — password spraying, a few guesses at each of many accounts,
never trips the first. The login page, the admin's and the API's token endpoint answer the same way:
429, a message that says when to try again, and `Retry-After`.

Every refused try counts as another failure, so the wait restarts with it: `Retry-After` is the whole
cool-off, and it is exact.
"""

import math
from typing import Any

from axes.backends import AxesStandaloneBackend
from axes.exceptions import AxesBackendPermissionDenied
from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_cool_off
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.forms import AuthenticationForm
from django.db.models import Sum
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.request import Request
from rest_framework.response import Response


def address_failures(request: HttpRequest) -> int:
    """Wrong passwords from the request's address, at any username, within the cool-off."""
    AxesProxyHandler.update_request(request)
    since = request.axes_attempt_time - get_cool_off(request)
    recent = AccessAttempt.objects.filter(ip_address=request.axes_ip_address, attempt_time__gte=since)
    return recent.aggregate(failures=Sum("failures_since_start"))["failures"] or 0


class LoginBrakes(AxesStandaloneBackend):
    """Axes' lock of one username at one address, and the lock of the whole address."""

    def authenticate(
        self, request: HttpRequest, username: str | None = None, password: str | None = None, **kwargs: Any
    ) -> None:
        if request is not None and address_failures(request) >= settings.LOUPE_LOGIN_ADDRESS_FAILURE_LIMIT:
            request.axes_locked_out = True
            request.loupe_address_locked_out = True
            raise AxesBackendPermissionDenied("too many failed logins from this address")
        return super().authenticate(request, username, password, **kwargs)


def _wait_seconds(request: HttpRequest) -> int:
    return math.ceil(get_cool_off(request).total_seconds())


def lockout_message(seconds: int, *, whole_address: bool = False) -> str:
    minutes = math.ceil(seconds / 60)
    wait = f"wait {minutes} minute{'s' if minutes != 1 else ''} before trying again, or ask an administrator"
    if whole_address:
        return (
            f"Too many failed logins from your address: {wait} to reset it (manage.py axes_reset_ip ADDRESS)."
        )
    return (
        f"Too many failed logins for this username from your address: {wait} to reset it "
        "(manage.py axes_reset_username USERNAME)."
    )


def _request_message(request: Any, seconds: int) -> str:
    return lockout_message(seconds, whole_address=getattr(request, "loupe_address_locked_out", False))


def lockout_response(
    request: HttpRequest, original_response: HttpResponse | None, credentials: dict[str, Any] | None
) -> HttpResponse:
    """AXES_LOCKOUT_CALLABLE: the login page again, with the reason; JSON under /api/."""
    seconds = _wait_seconds(request)
    message = _request_message(request, seconds)
    if request.path.startswith("/api/"):
        response: HttpResponse = JsonResponse({"detail": message}, status=429)
    else:
        username = (credentials or {}).get("username") or ""
        form = AuthenticationForm(request, initial={"username": username})
        context = {"form": form, "lockout": message, "next": request.POST.get("next", "")}
        response = render(request, "registration/login.html", context, status=429)
    response["Retry-After"] = str(seconds)
    return response


class TokenView(ObtainAuthToken):
    """DRF's token endpoint, answering a locked-out username and address as the login page does.

    Axes marks the refusal on the request it was given — DRF's, which the middleware never sees — so
    the view turns it into the lockout answer itself.
    """

    def finalize_response(self, request: Request, response: Response, *args: Any, **kwargs: Any) -> Any:
        if getattr(request, "axes_locked_out", False):
            seconds = _wait_seconds(request)
            response = Response({"detail": _request_message(request, seconds)}, status=429)
            response["Retry-After"] = str(seconds)
        return super().finalize_response(request, response, *args, **kwargs)
