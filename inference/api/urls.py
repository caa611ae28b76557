from django.urls import path
from rest_framework.routers import DefaultRouter

from config.api import FileNegotiation
from inference.api import views

router = DefaultRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("exports", views.ExportViewSet, basename="export")
router.register("predictions", views.PredictionViewSet, basename="prediction")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = [
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
