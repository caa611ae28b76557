"""The routes of a process that serves inspections only (``manage.py serve_inspection``): the inspect
route, at the same path as in the whole platform, and a health check."""

from django.urls import path

from line.api import views

urlpatterns = [
    path(
        "api/v1/collections/<int:collection_id>/inspect/",
        views.InspectView.as_view(),
        name="collection-inspect",
    ),
    path("healthz", views.health, name="inspection-health"),
]

handler500 = "config.errors.server_error"
