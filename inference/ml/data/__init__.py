"""Datasets on disk, read for the learning core."""

from inference.ml.data.mvtec import (
    IMAGE_SUFFIXES,
    NORMAL_TYPE,
    Category,
    ImageFiles,
    discover_categories,
    images_in,
    is_category,
    load_mask,
)

__all__ = [
    "IMAGE_SUFFIXES",
    "NORMAL_TYPE",
    "Category",
    "ImageFiles",
    "discover_categories",
    "images_in",
    "is_category",
    "load_mask",
]
