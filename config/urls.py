from django.contrib import admin
from django.contrib.auth.decorators import login_required
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import SimpleRouter

from inference.api import views as inference_views

# Images are labeled in annotations and scored in inference: the route takes inference's ViewSet,
# annotations' own extended by the score and review filters (annotations imports nothing of inference).
images_router = SimpleRouter()
images_router.register("images", inference_views.ImageViewSet, basename="image")

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/v1/", include("annotations.api.urls")),
    path("api/v1/", include(images_router.urls)),
    path("api/v1/", include("inference.api.urls")),
    path("api/v1/", include("line.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    # Signed-in users only (the schema too: SPECTACULAR_SETTINGS); a person is sent to the login page.
    # The split view serves Swagger UI's start-up script as a file, as the Content-Security-Policy needs.
    path(
        "api/docs/",
        login_required(SpectacularSwaggerSplitView.as_view(url_name="schema")),
        name="api-docs",
    ),
    path("", include("frontend.urls")),
]

handler500 = "config.errors.server_error"
