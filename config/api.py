"""What both REST APIs are built from: the membership-scoped ViewSet, file negotiation, and filters
that validate query parameters (django-filter) and hand them to a membership-scoped selector.

Neither app owns this module: `annotations.api` and `inference.api` both build on it, so neither
imports the other's views.
"""

from typing import Any

import django_filters
from django import forms
from django.db.models import Model, QuerySet
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import OpenApiResponse, extend_schema_field
from rest_framework import fields, serializers, status, viewsets
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.serializers import Serializer

from annotations.api.permissions import ProjectRole
from annotations.models import Role

# The largest value a 64-bit signed database integer holds: every id and version is below it, and a
# larger one would overflow in the database driver (a 500) instead of matching nothing.
MAX_BIGINT = 2**63 - 1


class DetailOutput(serializers.Serializer):
    detail = serializers.CharField()


# Every error is JSON: {"detail": ...} or each field's messages (a 400), so one open schema for all.
ERROR_SCHEMA = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "additionalProperties": True,
}
BAD_REQUEST = OpenApiResponse(ERROR_SCHEMA, description="The message says what is wrong")


class FileNegotiation(BaseContentNegotiation):
    """File routes answer with the file's own type whatever the client accepts (an <img> asks for
    image/*); their errors are JSON."""

    def select_parser(self, request: Request, parsers: list) -> Any:
        return parsers[0]

    def select_renderer(self, request: Request, renderers: list, format_suffix: str | None = None) -> tuple:
        return renderers[0], renderers[0].media_type


# --- filters ------------------------------------------------------------------------------------


def _documented(filter_: django_filters.Filter, schema: dict[str, Any]) -> django_filters.Filter:
    """The filter, with its OpenAPI schema (and its help text as the description) stated."""
    help_text = filter_.extra.get("help_text")
    return extend_schema_field({**schema, **({"description": help_text} if help_text else {})})(filter_)


class IdFilter(django_filters.Filter):
    """An object's id: a whole number from 1 to the largest 64-bit integer."""

    field_class = forms.IntegerField

    def __init__(self, *, field_name: str, help_text: str = "", **kwargs: Any) -> None:
        super().__init__(
            field_name=field_name, help_text=help_text, min_value=1, max_value=MAX_BIGINT, **kwargs
        )
        _documented(self, {"type": "integer", "format": "int64", "minimum": 1, "maximum": MAX_BIGINT})


class NumberFilter(django_filters.Filter):
    """A finite number (no NaN, no infinity)."""

    field_class = forms.FloatField

    def __init__(self, *, field_name: str, help_text: str = "", **kwargs: Any) -> None:
        super().__init__(field_name=field_name, help_text=help_text, **kwargs)
        _documented(self, {"type": "number", "format": "double"})


class _BooleanField(forms.Field):
    """true or false, spelled as DRF's BooleanField takes them; anything else is an error, not
    "no filter" (Django's NullBooleanField would read it as unset)."""

    def to_python(self, value: Any) -> bool | None:
        if value in self.empty_values or value in fields.BooleanField.NULL_VALUES:
            return None
        if value in fields.BooleanField.TRUE_VALUES:
            return True
        if value in fields.BooleanField.FALSE_VALUES:
            return False
        raise forms.ValidationError(f"{value!r} is not a boolean: say true or false", code="invalid")


class BooleanFilter(django_filters.Filter):
    field_class = _BooleanField

    def __init__(self, *, field_name: str, help_text: str = "", **kwargs: Any) -> None:
        super().__init__(field_name=field_name, help_text=help_text, **kwargs)
        _documented(self, {"type": "boolean"})


class SelectorFilterSet(django_filters.FilterSet):
    """Query parameters, validated by type, as the keyword arguments of a membership-scoped selector.

    Each filter's `field_name` is the selector's keyword; a parameter left out (or empty) is not
    passed. The selector makes the list, so scoping by membership stays in one place; a value that
    does not validate is a 400 naming the parameter.
    """

    @staticmethod
    def selector(**arguments: Any) -> QuerySet:
        raise NotImplementedError

    def selector_arguments(self) -> dict[str, Any]:
        data = self.form.cleaned_data
        return {
            filter_.field_name: data[name]
            for name, filter_ in self.filters.items()
            if data.get(name) not in (None, "")
        }

    def filter_queryset(self, queryset: QuerySet) -> QuerySet:
        return self.selector(user=self.request.user, **self.selector_arguments())


class ListFilterBackend(DjangoFilterBackend):
    """The view's FilterSet, for its list only: a detail route takes no filters."""

    def filter_queryset(self, request: Request, queryset: QuerySet, view: Any) -> QuerySet:
        if getattr(view, "action", None) != "list":
            return queryset
        return super().filter_queryset(request, queryset, view)


# --- views --------------------------------------------------------------------------------------


class ScopedViewSet(viewsets.GenericViewSet):
    """Objects from a membership-scoped selector; writes gated by the role named in `action_roles`;
    the list filtered by `filterset_class` (a `SelectorFilterSet`)."""

    permission_classes = [IsAuthenticated, ProjectRole]
    filter_backends = [ListFilterBackend]
    filterset_class: type[SelectorFilterSet] | None = None
    output_serializer: type[Serializer]
    action_roles: dict[str, Role] = {}

    def get_serializer_class(self) -> type[Serializer]:
        return self.output_serializer

    def project_id_of(self, obj: Model) -> int:
        raise NotImplementedError

    def input(
        self,
        serializer: type[Serializer],
        *,
        instance: Any = None,
        partial: bool | None = None,
        **context: Any,
    ) -> dict[str, Any]:
        """The request body, validated; PATCH leaves out what it does not change unless `partial=False`."""
        data = serializer(
            instance,
            data=self.request.data,
            partial=self.request.method == "PATCH" if partial is None else partial,
            context={"request": self.request, **context},
        )
        data.is_valid(raise_exception=True)
        return data.validated_data

    def output(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        return Response(self.output_serializer(instance, context=self.get_serializer_context()).data, code)


# --- schema -------------------------------------------------------------------------------------

_ERRORS = {
    "400": "The request does not validate: the message names what is wrong",
    "401": "No valid credentials were sent",
    "403": "The caller's role in the project is too low for this (the message says which is needed)",
    "404": "Nothing the caller can see has this id",
    "409": "The change conflicts with the object's state (an archived collection, a newer version)",
    "412": "If-Match names a version that is no longer the current one",
    "413": "The upload is larger than the limit the message gives",
    "429": "Too many failed attempts: Retry-After says when to try again",
}


def _errors_of(path: str, method: str, operation: dict[str, Any]) -> list[str]:
    """The error statuses any operation like this one can answer, whatever its view says."""
    parameters = operation.get("parameters", [])
    body = operation.get("requestBody", {}).get("content", {})
    codes = ["401", "403"]
    if body or any(parameter["in"] == "query" for parameter in parameters) or "{" in path:
        codes.append("400")
    if "{" in path:
        codes.append("404")
    if method != "get":
        codes.append("409")
    if any(parameter["in"] == "header" and parameter["name"] == "If-Match" for parameter in parameters):
        codes.append("412")
    if "multipart/form-data" in body:
        codes.append("413")
    if path.endswith("/auth/token/"):  # a sign-in: guessing it locks the name out (config/lockout.py)
        codes.append("429")
    return codes


def schema_error_responses(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: each operation documents the errors the API's common
    layers answer (authentication, roles, scoping by membership, validation, the archive's 409,
    If-Match, the upload limit), where its view did not document them itself; an integer in a path
    is an id (a route matches no other)."""
    result.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            for parameter in operation.get("parameters", []):
                if parameter["in"] == "path" and parameter.get("schema", {}).get("type") == "integer":
                    parameter["schema"].update(minimum=1, maximum=MAX_BIGINT)
            responses = operation.setdefault("responses", {})
            for code in _errors_of(path, method, operation):
                responses.setdefault(code, {"content": error, "description": _ERRORS[code]})
    return result
