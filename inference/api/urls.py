from rest_framework.routers import DefaultRouter

from inference.api import views

router = DefaultRouter()
router.register("jobs", views.JobViewSet, basename="job")
router.register("model-versions", views.ModelVersionViewSet, basename="model-version")
router.register("predictions", views.PredictionViewSet, basename="prediction")
router.register("reviews", views.ReviewViewSet, basename="review")

urlpatterns = router.urls
