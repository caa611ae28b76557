"""The authorization matrix's table: for every API operation (by operation id) and every page route (by
URL name), how to call it and the least role it needs. An operation in the schema, or a route in the
resolver, that is missing here fails `test_every_route_has_an_entry`: add its line.

Placeholders: `{collection}`, `{image}`, ... are filled with the ids of the team under attack
(`world.ID_KINDS`), `{staging}` and `{username}` with its upload key and a member's username; a path
parameter is filled from its name (`collection_id` is a collection, `{id}` is the entry's `kind`).
`<png>` is a small PNG upload. Query parameters of a list that name an object (`collection`,
`model_version`, ...) are filled from the schema by the matrix itself, one at a time.
"""

from dataclasses import dataclass, field
from typing import Any

from annotations.models import Role

PNG = "<png>"


@dataclass(frozen=True)
class Entry:
    role: Role | None = Role.VIEWER
    """The least role that may call it (reads: any member); None: anyone signed in, naming nothing."""
    kind: str | None = None
    """What the path's `{id}` names."""
    body: Any = None
    query: dict[str, Any] = field(default_factory=dict)
    multipart: bool = False
    methods: tuple[str, ...] = ("GET",)
    """Pages only: the methods it answers (API operations take theirs from the schema)."""
    public: bool = False
    """Anonymous callers may use it (they still must learn nothing of a team)."""
    station: bool = False
    """A station key of the collection may call it (its own collection's route only)."""


READ = Entry
M, R, A, V = Role.MANAGER, Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER
POINT = {"kind": "point", "geometry": {"x": 1, "y": 1}, "defect_type": "{defect_type}"}

API: dict[str, Entry | tuple[Entry, ...]] = {
    # Anonymous by nature: a wrong password for a member's name is answered as for a name nobody has.
    "v1_auth_token_create": Entry(
        role=None, public=True, body={"username": "{username}", "password": "not the password"}
    ),
    "v1_projects_list": READ(kind="project"),
    "v1_projects_create": Entry(role=None, body={"name": "a project of my own"}),
    "v1_projects_retrieve": READ(kind="project"),
    "v1_projects_partial_update": Entry(M, "project", {"description": "mine now"}),
    "v1_memberships_list": READ(kind="membership"),
    "v1_memberships_create": Entry(
        M, body={"project": "{project}", "username": "{username}", "role": "viewer"}
    ),
    "v1_memberships_retrieve": READ(kind="membership"),
    "v1_memberships_partial_update": Entry(M, "membership", {"role": "viewer"}),
    "v1_memberships_destroy": Entry(M, "membership"),
    "v1_collections_list": READ(kind="collection"),
    "v1_collections_create": Entry(M, body={"project": "{project}", "name": "intruder"}),
    "v1_collections_retrieve": READ(kind="collection"),
    "v1_collections_partial_update": Entry(M, "collection", {"name": "renamed"}),
    "v1_collections_destroy": Entry(M, "collection"),
    "v1_collections_archive_create": Entry(M, "collection"),
    "v1_collections_restore_create": Entry(M, "collection"),
    "v1_collections_drift_retrieve": READ(),
    "v1_collections_line_policy_retrieve": READ(),
    "v1_collections_line_policy_partial_update": Entry(M, body={"keep_band": 0.2}),
    "v1_collections_imports_staged_create": Entry(
        A, body={"files": PNG, "paths": ["train/good/intruder.png"]}, multipart=True
    ),
    "v1_collections_imports_create": Entry(A, body={"staging": "{staging}"}),
    "v1_collections_label_exports_list": READ(),
    # Any member may export: an export reads only what members read.
    "v1_collections_label_exports_create": Entry(V, body={"format": "coco"}),
    "v1_collections_label_exports_download_retrieve": READ(),
    "collections_inspect": Entry(M, body={"images": PNG}, multipart=True, station=True),
    "v1_defect_types_list": READ(kind="defect_type"),
    "v1_defect_types_create": Entry(M, body={"collection": "{collection}", "name": "intruder"}),
    "v1_defect_types_retrieve": READ(kind="defect_type"),
    "v1_defect_types_partial_update": Entry(M, "defect_type", {"name": "renamed"}),
    "v1_defect_types_destroy": Entry(M, "defect_type"),
    "v1_images_list": READ(kind="image"),
    "v1_images_create": Entry(A, body={"collection": "{collection}", "files": PNG}, multipart=True),
    "v1_images_retrieve": READ(kind="image"),
    "v1_images_partial_update": Entry(A, "image", {"split": "test"}),
    "v1_images_destroy": Entry(M, "image"),
    "v1_images_bulk_create": Entry(A, body={"images": ["{image}"], "verdict": "normal", "split": "test"}),
    "v1_images_file_retrieve": READ(kind="image"),
    "v1_images_thumbnail_retrieve": READ(kind="image"),
    "v1_images_revisions_list": READ(kind="image"),
    "v1_images_annotation_retrieve": READ(kind="image"),
    "v1_images_annotation_update": Entry(
        A, "image", {"verdict": "defective", "regions": [POINT], "version": "{annotation_version}"}
    ),
    "v1_images_annotation_partial_update": Entry(
        A, "image", {"regions": [POINT], "version": "{annotation_version}"}
    ),
    "v1_jobs_list": READ(kind="job"),
    "v1_jobs_create": (
        Entry(R, body={"kind": "score", "collection": "{collection}", "model_version": "{model_version}"}),
        Entry(M, body={"kind": "train", "collection": "{collection}", "parent": "{model_version}"}),
    ),
    "v1_jobs_retrieve": READ(kind="job"),
    "v1_jobs_cancel_create": Entry(R, "job"),  # the seeded job scores: a reviewer's to start and stop
    "v1_model_versions_list": READ(kind="model_version"),
    "v1_model_versions_retrieve": READ(kind="model_version"),
    "v1_model_versions_scores_retrieve": READ(kind="model_version"),
    "v1_model_versions_images_overlay_retrieve": READ(kind="model_version"),
    "v1_model_versions_threshold_create": Entry(M, "model_version", {"threshold": 0.5}),
    "v1_model_versions_promote_create": Entry(M, "model_version"),
    "v1_model_versions_exports_list": READ(kind="model_version"),
    "v1_model_versions_exports_create": Entry(M, "model_version"),
    "v1_exports_retrieve": READ(kind="export"),
    "v1_exports_destroy": Entry(M, "export"),
    "v1_exports_files_retrieve": READ(kind="export"),
    "v1_predictions_list": READ(kind="prediction"),
    "v1_predictions_retrieve": READ(kind="prediction"),
    "v1_predictions_heatmap_retrieve": READ(kind="prediction"),
    "v1_predictions_overlay_retrieve": READ(kind="prediction"),
    "v1_reviews_list": READ(kind="review"),
    "v1_reviews_retrieve": READ(kind="review"),
    "v1_reviews_create": Entry(
        R, body={"prediction": "{prediction}", "decision": "true_defect", "version": "{annotation_version}"}
    ),
    "v1_reviews_next_create": Entry(R, body={"model_version": "{model_version}", "scope": "all"}),
    # Gives back only the caller's own claim: any member may call it (a viewer holds none).
    "v1_reviews_release_create": Entry(V, body={"prediction": "{prediction}"}),
    "v1_disagreements_list": READ(kind="disagreement"),
    "v1_disagreements_retrieve": READ(kind="disagreement"),
    "v1_disagreements_resolve_create": Entry(R, "disagreement", {"resolution": "kept_label"}),
    "v1_stations_list": READ(kind="station"),
    "v1_stations_create": Entry(M, body={"collection": "{collection}", "name": "intruder line"}),
    "v1_stations_retrieve": READ(kind="station"),
    "v1_stations_revoke_create": Entry(M, "station"),
    "v1_inspections_list": READ(kind="inspection"),
    "v1_inspections_retrieve": READ(kind="inspection"),
}

# What a path parameter names, by its name (`{id}`: the entry's kind).
PATH_KINDS = {
    "collection_id": "collection",
    "image_id": "image",
    "job_id": "label_export_job",
    "project_id": "project",
    "membership_id": "membership",
    "station_id": "station",
    "defect_type_id": "defect_type",
    "version_id": "model_version",
    "disagreement_id": "disagreement",
}
PATH_VALUES = {"name": "model.onnx"}  # the seeded export's file

GET, POST = ("GET",), ("POST",)

PAGES: dict[str, Entry] = {
    "login": Entry(role=None, public=True, methods=("GET", "POST"), body={"username": "{username}"}),
    "logout": Entry(role=None, public=True, methods=POST),
    "project-list": Entry(role=None, methods=("GET", "POST"), body={"name": "a project of my own"}),
    "project-detail": READ(query={"archived": "1"}),
    "project-station-create": Entry(M, body={"collection": "{collection}", "name": "intruder"}, methods=POST),
    "project-station-revoke": Entry(M, methods=POST),
    "project-collection-create": Entry(M, body={"name": "intruder"}, methods=POST),
    "project-member-add": Entry(M, body={"user": "loner-no-project", "role": "viewer"}, methods=POST),
    "project-member-role": Entry(M, body={"member-{membership}-role": "viewer"}, methods=POST),
    "project-member-remove": Entry(M, methods=POST),
    "collection-detail": READ(query={"defect_type": "{defect_type}"}),
    "collection-label-export": Entry(V, body={"format": "coco"}, methods=POST),
    "collection-settings": READ(),
    "collection-rename": Entry(M, body={"name": "renamed"}, methods=POST),
    "collection-archive": Entry(M, methods=POST),
    "collection-restore": Entry(M, methods=POST),
    "collection-automation": Entry(M, body={"score_new_uploads": "on"}, methods=POST),
    "collection-defect-type-add": Entry(
        M, body={"new-name": "intruder", "new-color": "#123456"}, methods=POST
    ),
    "collection-defect-type-change": Entry(
        M, body={"type-{defect_type}-name": "renamed", "type-{defect_type}-color": "#123456"}, methods=POST
    ),
    "collection-defect-type-delete": Entry(M, methods=POST),
    "image-detail": READ(query={"defect_type": "{defect_type}"}),
    "image-thumbnail": READ(),
    "image-display": READ(),
    "image-labels": READ(),
    "image-annotate": READ(),
    "collection-upload": Entry(A, body={"files": PNG}, multipart=True, methods=POST),
    "collection-models": READ(),
    "collection-train": Entry(M, body={"algorithm": "patchcore", "image_size": 64}, methods=POST),
    "collection-model-export": Entry(M, methods=POST),
    "collection-review": READ(query={"version": "{model_version}"}),
    "collection-learning-settings": Entry(
        M,
        body={"review_strategy": "random", "retrain_after_reviews": 5, "algorithm": "patchcore"},
        methods=POST,
    ),
    "collection-score": Entry(R, methods=POST),
    "disagreement-settle": Entry(R, body={"resolution": "kept_label"}, methods=POST),
    # The API's schema and its docs hold no team's data; who may read them is the settings' choice.
    "schema": Entry(role=None, public=True),
    "api-docs": Entry(role=None, public=True),
}

# The inspection service's own routes (`line.inspection_urls`, `manage.py serve_inspection`).
INSPECTION_PAGES: dict[str, Entry] = {
    "collection-inspect": Entry(M, body={"images": PNG}, multipart=True, methods=POST, station=True),
    # A load balancer's health check: which collections' models the process holds (ids, no names).
    "inspection-health": Entry(role=None, public=True),
}

# Routes of the resolver that are not the project's pages: Django's admin (staff only, its own login)
# and the API's root and format-suffix variants, which the schema's operations stand for.
NOT_PAGES = ("admin:",)
