from django.urls import path
from rest_framework.routers import DefaultRouter

from config.api import FileNegotiation
from inference.api import disagreements, imports, label_exports, views

# No format-suffix routes (`/jobs/1.json`): the API speaks JSON only, and its custom actions take no
# `format` argument (a suffixed action was a TypeError 500, even for another team's id).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("jobs", views.JobViewSet, basename="job")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("exports", views.ExportViewSet, basename="export")
router.register("predictions", views.PredictionViewSet, basename="prediction")
router.register("reviews", views.ReviewViewSet, basename="review")
router.register("disagreements", disagreements.DisagreementViewSet, basename="disagreement")

urlpatterns = [
    path(
        "collections/<int:collection_id>/label-exports/",
        label_exports.LabelExportListView.as_view(),
        name="label-export-list",
    ),
    path(
        "collections/<int:collection_id>/label-exports/<int:job_id>/download/",
        label_exports.LabelExportDownloadView.as_view(),
        name="label-export-download",
    ),
    path("collections/<int:collection_id>/imports/", imports.ImportStartView.as_view(), name="import-start"),
    path(
        "collections/<int:collection_id>/imports/staged/",
        imports.ImportStageView.as_view(),
        name="import-stage",
    ),
    # A file path inside the export (it may hold a slash), ending with the file's own name: no slash.
    path(
        "exports/<int:pk>/files/<path:name>",
        views.ExportViewSet.as_view(
            {"get": "files"}, detail=True, basename="export", content_negotiation_class=FileNegotiation
        ),
        name="export-file",
    ),
    *router.urls,
]
