"""Server-rendered pages, one module per page. Every read goes through the selectors, so what a user
is not a member of does not exist for them: another team's project, collection or image is a 404, on
pages and image bytes alike."""

from frontend.views.annotate import image_annotate
from frontend.views.collection import collection_detail, collection_upload
from frontend.views.images import image_detail, image_display, image_labels, image_thumbnail
from frontend.views.label_exports import collection_label_export
from frontend.views.models import (
    collection_model_export,
    collection_models,
    collection_train,
    parent_deltas,
)
from frontend.views.projects import (
    project_collection_create,
    project_detail,
    project_list,
    project_member_add,
    project_member_remove,
    project_member_role,
    project_station_create,
    project_station_revoke,
)
from frontend.views.review import collection_learning_settings, collection_review
from frontend.views.scoring import collection_score, disagreement_settle
from frontend.views.settings import (
    collection_archive_view,
    collection_automation,
    collection_rename,
    collection_restore_view,
    collection_settings,
    defect_type_add,
    defect_type_change,
    defect_type_remove,
)

__all__ = [
    "collection_archive_view",
    "collection_automation",
    "collection_detail",
    "collection_label_export",
    "collection_learning_settings",
    "collection_model_export",
    "collection_models",
    "collection_rename",
    "collection_restore_view",
    "collection_review",
    "collection_score",
    "collection_settings",
    "collection_train",
    "collection_upload",
    "defect_type_add",
    "defect_type_change",
    "defect_type_remove",
    "disagreement_settle",
    "image_annotate",
    "image_detail",
    "image_display",
    "image_labels",
    "image_thumbnail",
    "parent_deltas",
    "project_collection_create",
    "project_detail",
    "project_list",
    "project_member_add",
    "project_member_remove",
    "project_member_role",
    "project_station_create",
    "project_station_revoke",
]
