from typing import Any

from django.db.models import QuerySet
from rest_framework.request import Request

from annotations.api.pagination import IdCursorPagination


class ScoredImagePagination(IdCursorPagination):
    """Images newest first, or in the score order the list was asked for (`order`, validated by
    `filters.ScoredImageFilterSet` before the page is cut); the id breaks ties."""

    ORDERINGS = {"score": ("score", "id"), "-score": ("-score", "-id")}

    def get_ordering(self, request: Request, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        return self.ORDERINGS.get(request.query_params.get("order", ""), (self.ordering,))
