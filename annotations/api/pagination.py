from rest_framework.pagination import CursorPagination


class IdCursorPagination(CursorPagination):
    """Stable pages over any number of rows: a cursor on the id, newest first."""

    ordering = "-id"
    page_size_query_param = "page_size"
    max_page_size = 500


class RevisionCursorPagination(IdCursorPagination):
    """A label's history, oldest change first."""

    ordering = "version"
