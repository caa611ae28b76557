from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView
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
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="api-docs"),
    path("", include("frontend.urls")),
]
