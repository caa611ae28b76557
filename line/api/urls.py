from django.urls import path
from rest_framework.routers import DefaultRouter

from line.api import views

# No format-suffix routes (`/jobs/1.json`): the API speaks JSON only, and its custom actions take no
# `format` argument (a suffixed action was a TypeError 500, even for another team's id).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("stations", views.StationViewSet, basename="station")
router.register("inspections", views.InspectionViewSet, basename="inspection")

urlpatterns = [
    path("collections/<int:collection_id>/inspect/", views.InspectView.as_view(), name="collection-inspect"),
    path("collections/<int:collection_id>/line-policy/", views.LinePolicyView.as_view(), name="line-policy"),
    path("collections/<int:collection_id>/drift/", views.DriftView.as_view(), name="collection-drift"),
    *router.urls,
]
