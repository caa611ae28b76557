from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("collections/<int:collection_id>/", views.collection_detail, name="collection-detail"),
    path("images/<int:image_id>/", views.image_detail, name="image-detail"),
    path("images/<int:image_id>/thumbnail.jpg", views.image_thumbnail, name="image-thumbnail"),
    path("images/<int:image_id>/display/", views.image_display, name="image-display"),
    path("images/<int:image_id>/labels.png", views.image_labels, name="image-labels"),
    path("images/<int:image_id>/annotate/", views.image_annotate, name="image-annotate"),
    path("collections/<int:collection_id>/upload/", views.collection_upload, name="collection-upload"),
    path("collections/<int:collection_id>/models/", views.collection_models, name="collection-models"),
    path("collections/<int:collection_id>/models/train/", views.collection_train, name="collection-train"),
    path(
        "collections/<int:collection_id>/models/<int:version_id>/export/",
        views.collection_model_export,
        name="collection-model-export",
    ),
    path("collections/<int:collection_id>/review/", views.collection_review, name="collection-review"),
    path(
        "collections/<int:collection_id>/learning/",
        views.collection_learning_settings,
        name="collection-learning-settings",
    ),
]
