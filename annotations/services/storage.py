"""Stored files by folder, through Django's storage API (local disk or S3 alike)."""

from django.core.files.storage import default_storage

# Every app stores a collection's files under `<area>/<collection id>/`: images and thumbnails here;
# in inference model versions (with their exports), prediction heatmaps, staged imports and label
# exports. A new area must be added here, or deleting a collection leaves its files behind.
COLLECTION_AREAS = ("images", "thumbnails", "models", "predictions", "imports", "label-exports")


def storage_tree_delete(*, prefix: str) -> None:
    """Delete every stored file under the folder `prefix` (nothing when it does not exist)."""
    try:
        folders, files = default_storage.listdir(prefix)
    except FileNotFoundError:
        return
    for name in files:
        default_storage.delete(f"{prefix}/{name}")
    for folder in folders:
        storage_tree_delete(prefix=f"{prefix}/{folder}")


def collection_files_delete(*, collection_id: int) -> None:
    """Delete every stored file of a collection, in every area of `COLLECTION_AREAS`."""
    for area in COLLECTION_AREAS:
        storage_tree_delete(prefix=f"{area}/{collection_id}")
