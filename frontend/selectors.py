"""Reads of the pages: what a page shows, scoped by membership through the apps' selectors."""

from django.db.models import QuerySet

from annotations.models import Collection, Image
from annotations.selectors import User, image_neighbours
from frontend.forms import ImageFilterForm
from inference.models import ModelVersion
from inference.selectors import active_model_version, image_cursor, scored_image_list


def grid_images(
    *, user: User, collection: Collection, form: ImageFilterForm, version: ModelVersion | None
) -> QuerySet[Image]:
    """The collection's images as the grid's filters and order pick them, scored by `version`."""
    return scored_image_list(
        user=user,
        collection_id=collection.pk,
        model_version_id=version.pk if version else None,
        order=form.ordering(),
        **form.filters(),
    )


def grid_neighbours(*, user: User, image: Image, form: ImageFilterForm) -> tuple[int | None, int | None]:
    """The images before and after this one in the grid, with the grid's filters and order."""
    version = active_model_version(collection_id=image.collection_id)
    order = form.ordering()
    cursor = image_cursor(image_id=image.pk, order=order, model_version_id=version.pk if version else None)
    images = grid_images(user=user, collection=image.collection, form=form, version=version)
    return image_neighbours(images, order=order, cursor=cursor)
