"""Server-rendered pages, one module per page. Every read goes through the selectors, so what a user
is not a member of does not exist for them: another team's project, collection or image is a 404, on
pages and image bytes alike."""

from frontend.views.annotate import image_annotate
from frontend.views.collection import collection_detail, collection_upload
from frontend.views.images import image_detail, image_display, image_labels, image_thumbnail
from frontend.views.models import (
    collection_model_export,
    collection_models,
    collection_train,
    parent_deltas,
)
from frontend.views.projects import project_detail, project_list
from frontend.views.review import collection_learning_settings, collection_review

__all__ = [
    "collection_detail",
    "collection_learning_settings",
    "collection_model_export",
    "collection_models",
    "collection_review",
    "collection_train",
    "collection_upload",
    "image_annotate",
    "image_detail",
    "image_display",
    "image_labels",
    "image_thumbnail",
    "parent_deltas",
    "project_detail",
    "project_list",
]
