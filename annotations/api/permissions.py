"""Who may do what through the API.

Two fences, in this order. Every queryset and every id in a request body is looked up through the
membership-scoped selectors, so another team's object does not exist (404, or 400 "does not exist"
for a body reference) before any role is checked. Then the member's role in the object's project
gates writes: reading needs membership only, each write action names the least role it needs.

A third, in the services: nothing changes in an archived collection (`collection_writable_require`),
whoever asks; `api_exception_handler` answers that refusal as a 409 on every route.
"""

from typing import Any

from django.contrib.auth.models import AbstractBaseUser, AnonymousUser
from django.core.exceptions import ObjectDoesNotExist
from rest_framework import status
from rest_framework.exceptions import APIException, NotFound, PermissionDenied, ValidationError
from rest_framework.permissions import SAFE_METHODS, BasePermission
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler

from annotations.models import ROLE_RANK, Role
from annotations.selectors import user_role
from annotations.services.projects import (
    CollectionArchived,
    CollectionNameTaken,
    DefectTypeNameTaken,
    HotkeyRefused,
)


def role_require(
    *, user: AbstractBaseUser | AnonymousUser, project_id: int, minimum: Role, doing: str
) -> None:
    """Raise unless the user's role in the project is `minimum` or above.

    Raises:
        NotFound: the user is not a member (for them the project does not exist).
        PermissionDenied: a member whose role is too low; the message says which role is needed.
    """
    role = user_role(user=user, project_id=project_id)
    if role is None:
        raise NotFound()
    if ROLE_RANK[role] < ROLE_RANK[minimum]:
        raise PermissionDenied(
            f"{doing} needs the {minimum.value} role or above; your role in this project is {role.value}"
        )


class ProjectRole(BasePermission):
    """Gates writes on an object by the user's role in its project.

    The view names, per write action, the least role it needs (`action_roles`) and how to find an
    object's project (`project_id_of`). Reads need membership only, which the scoped queryset
    already ensured. A write action the view forgot to name needs a manager.
    """

    def has_object_permission(self, request: Request, view: Any, obj: Any) -> bool:
        if request.method in SAFE_METHODS:
            return True
        minimum = view.action_roles.get(view.action, Role.MANAGER)
        doing = f"{request.method} {request.path}"
        role_require(user=request.user, project_id=view.project_id_of(obj), minimum=minimum, doing=doing)
        return True


class ArchivedConflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_code = "collection_archived"


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    """DRF's handler, which also answers the services' refusals that any route can meet: a write into
    an archived collection (409), a defect type's hotkey the annotator cannot use and a name taken
    (400), and a row a service no longer finds (404: deleted while the request ran, e.g. an image
    deleted between reading it and writing its annotation)."""
    if isinstance(exc, ObjectDoesNotExist):
        exc = NotFound(f"{exc} It was deleted meanwhile: reload the list.")
    elif isinstance(exc, CollectionArchived):
        exc = ArchivedConflict(str(exc))
    elif isinstance(exc, HotkeyRefused):
        exc = ValidationError({"hotkey": [str(exc)]})
    elif isinstance(exc, CollectionNameTaken | DefectTypeNameTaken):
        exc = ValidationError({"name": [str(exc)]})  # a clash the serializer's own check missed (a race)
    return exception_handler(exc, context)
