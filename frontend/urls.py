from django.contrib.auth import views as auth_views
from django.urls import path

from frontend import views

urlpatterns = [
    path("", views.project_list, name="project-list"),
    path("login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("projects/<int:project_id>/", views.project_detail, name="project-detail"),
    path("projects/<int:project_id>/stations/", views.project_station_create, name="project-station-create"),
    path(
        "projects/<int:project_id>/stations/<int:station_id>/revoke/",
        views.project_station_revoke,
        name="project-station-revoke",
    ),
    path(
        "projects/<int:project_id>/collections/",
        views.project_collection_create,
        name="project-collection-create",
    ),
    path("projects/<int:project_id>/members/", views.project_member_add, name="project-member-add"),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/role/",
        views.project_member_role,
        name="project-member-role",
    ),
    path(
        "projects/<int:project_id>/members/<int:membership_id>/remove/",
        views.project_member_remove,
        name="project-member-remove",
    ),
    path("collections/<int:collection_id>/", views.collection_detail, name="collection-detail"),
    path(
        "collections/<int:collection_id>/label-exports/",
        views.collection_label_export,
        name="collection-label-export",
    ),
    path("collections/<int:collection_id>/settings/", views.collection_settings, name="collection-settings"),
    path(
        "collections/<int:collection_id>/settings/rename/", views.collection_rename, name="collection-rename"
    ),
    path(
        "collections/<int:collection_id>/settings/archive/",
        views.collection_archive_view,
        name="collection-archive",
    ),
    path(
        "collections/<int:collection_id>/settings/restore/",
        views.collection_restore_view,
        name="collection-restore",
    ),
    path(
        "collections/<int:collection_id>/settings/automation/",
        views.collection_automation,
        name="collection-automation",
    ),
    path(
        "collections/<int:collection_id>/defect-types/",
        views.defect_type_add,
        name="collection-defect-type-add",
    ),
    path(
        "collections/<int:collection_id>/defect-types/<int:defect_type_id>/",
        views.defect_type_change,
        name="collection-defect-type-change",
    ),
    path(
        "collections/<int:collection_id>/defect-types/<int:defect_type_id>/delete/",
        views.defect_type_remove,
        name="collection-defect-type-delete",
    ),
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
    path("collections/<int:collection_id>/score/", views.collection_score, name="collection-score"),
    path(
        "disagreements/<int:disagreement_id>/resolve/",
        views.disagreement_settle,
        name="disagreement-settle",
    ),
]
