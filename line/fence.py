"""A station key reaches its own collection's inspect route and nothing else.

Station keys ride in the same header as people's API tokens (``Authorization: Token KEY``) and are
told apart by their prefix. This middleware answers every other route a station asks for with 404,
as if it did not exist, and a revoked or unknown station key with 401, before any view runs; the
inspect view then finds the station on the request (:class:`StationAuthentication`).
"""

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.urls import reverse
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed
from rest_framework.request import Request

from line.models import Station
from line.services.stations import KEY_PREFIX, station_for_key, station_touch

STATION_ATTRIBUTE = "loupe_station"


def presented_station_key(request: HttpRequest) -> str | None:
    """The station key in the request's Authorization header, if it holds one."""
    scheme, _, key = request.META.get("HTTP_AUTHORIZATION", "").partition(" ")
    key = key.strip()
    return key if scheme.lower() == "token" and key.startswith(KEY_PREFIX) else None


class StationFence:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        key = presented_station_key(request)
        if key is None:
            return self.get_response(request)
        station = station_for_key(key=key)
        if station is None or station.revoked_at is not None:
            detail = "this station key was revoked" if station else "this station key is not valid"
            return JsonResponse({"detail": detail}, status=401, headers={"WWW-Authenticate": "Token"})
        if request.path != reverse("collection-inspect", args=[station.collection_id]):
            return JsonResponse({"detail": "Not found."}, status=404)
        station_touch(station=station)
        setattr(request, STATION_ATTRIBUTE, station)
        return self.get_response(request)


class StationPrincipal:
    """Who a station's request runs as: signed in, a member of nothing."""

    is_authenticated = True
    is_anonymous = False
    is_active = True
    is_staff = False
    is_superuser = False
    pk = None

    def __init__(self, station: Station) -> None:
        self.station = station

    def __str__(self) -> str:
        return str(self.station)


class StationAuthentication(BaseAuthentication):
    """The station the fence let through; other credentials are left to the next authenticator."""

    def authenticate(self, request: Request) -> tuple[StationPrincipal, Station] | None:
        station: Any = getattr(request._request, STATION_ATTRIBUTE, None)
        if station is not None:
            return StationPrincipal(station), station
        if presented_station_key(request._request) is not None:
            raise AuthenticationFailed("station keys work only where the station fence lets them in")
        return None

    def authenticate_header(self, request: Request) -> str:
        return "Token"
