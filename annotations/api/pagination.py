import math

from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.pagination import Cursor, CursorPagination
from rest_framework.request import Request


class IdCursorPagination(CursorPagination):
    """Stable pages over any number of rows: a cursor on the id, newest first.

    A cursor this list did not give out is a 400 naming `cursor` (DRF answers 404, and takes the
    position it holds as it is: a forged one reached the database as text, or past 64 bits)."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500

    def decode_cursor(self, request: Request) -> Cursor | None:
        try:
            cursor = super().decode_cursor(request)
        except NotFound:
            raise ValidationError({self.cursor_query_param: ["not a cursor this list gave out"]}) from None
        if cursor is not None and cursor.position is not None and not self._position_valid(cursor.position):
            raise ValidationError({self.cursor_query_param: ["not a cursor this list gave out"]})
        return cursor

    def _position_valid(self, position: str) -> bool:
        """Whether the position fits the field the list is ordered by: an id or a version is a
        64-bit integer, anything else (a score) a finite number."""
        from config.api import MAX_BIGINT  # here: config.api's views import DRF, which reads this module

        field = self.ordering[0].lstrip("-")
        try:
            if field in ("id", "version"):
                return abs(int(position)) <= MAX_BIGINT
            return math.isfinite(float(position))
        except ValueError:
            return False


class RevisionCursorPagination(IdCursorPagination):
    """A label's history, oldest change first."""

    ordering = "version"
