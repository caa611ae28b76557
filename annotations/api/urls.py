from django.urls import path
from rest_framework.routers import DefaultRouter
from rest_framework.settings import api_settings

from annotations.api import views
from config.lockout import TokenView

# The images route is config/urls.py's: inference serves it, with the score filters on top of
# views.ImageViewSet (annotations knows nothing of models and scores).
# No format-suffix routes (`/jobs/1.json`): the API speaks JSON only, and its custom actions take no
# `format` argument (a suffixed action was a TypeError 500, even for another team's id).
router = DefaultRouter()
router.include_format_suffixes = False
router.register("projects", views.ProjectViewSet, basename="project")
router.register("memberships", views.MembershipViewSet, basename="membership")
router.register("collections", views.CollectionViewSet, basename="collection")
router.register("defect-types", views.DefectTypeViewSet, basename="defect-type")

urlpatterns = [
    # DRF's token view (answering a login lockout as the login page does, config/lockout.py) names its
    # own parsers: it takes the API's (a JSON nesting cap among them).
    path(
        "auth/token/",
        TokenView.as_view(parser_classes=api_settings.DEFAULT_PARSER_CLASSES),
        name="auth-token",
    ),
    *router.urls,
]
