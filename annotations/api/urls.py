from django.urls import path
from rest_framework.authtoken.views import ObtainAuthToken
from rest_framework.routers import DefaultRouter

from annotations.api import views

# The images route is config/urls.py's: inference serves it, with the score filters on top of
# views.ImageViewSet (annotations knows nothing of models and scores).
router = DefaultRouter()
router.register("projects", views.ProjectViewSet, basename="project")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("collections", views.CollectionViewSet, basename="collection")
router.register("defect-types", views.DefectTypeViewSet, basename="defect-type")

urlpatterns = [
    path("auth/token/", ObtainAuthToken.as_view(), name="auth-token"),
    *router.urls,
]
