from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from annotations.api import views

router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("collections", views.CollectionViewSet, basename="collection")
router.register("defect-types", views.DefectTypeViewSet, basename="defect-type")
router.register("images", views.ImageViewSet, basename="image")

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    *router.urls,
]
