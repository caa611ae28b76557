"""Building test data for the pages through the real services."""

import io
import json

import numpy as np
from PIL import Image as PILImage

from annotations.geometry import mask_encode
from annotations.models import Annotation, Collection, Image, RevisionReason
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import image_inspect, image_store
from tests.conftest import png_bytes


def add_image(
    collection: Collection,
    name: str,
    *,
    seed: int,
    split: str = "unassigned",
    content: bytes | None = None,
) -> Image:
    inspected = image_inspect(content=content if content is not None else png_bytes(seed=seed))
    return image_store(collection=collection, inspected=inspected, original_name=name, split=split).image


def label(image: Image, *, author, verdict: str | None = None, regions=None, comment: str = "") -> Annotation:
    """Change an image's labels through the real service, as the editor would."""
    annotation = Annotation.objects.get(image=image)
    return annotation_update(
        annotation_id=annotation.pk,
        expected_version=annotation.version,
        author=author,
        reason=RevisionReason.MANUAL_EDIT,
        verdict=verdict,
        regions=regions,
        comment=comment,
    )


def mask_region(mask: np.ndarray, defect_type_id: int | None) -> RegionInput:
    return RegionInput(kind="mask", geometry=mask_encode(mask), defect_type_id=defect_type_id)


def decode(content: bytes) -> PILImage.Image:
    image = PILImage.open(io.BytesIO(content))
    image.load()
    return image


def page_config(response, element_id: str) -> dict:
    """The JSON configuration a page hands its script in `<script id=element_id>` (json_script)."""
    html = response.content.decode()
    marker = f'<script id="{element_id}" type="application/json">'
    start = html.index(marker) + len(marker)
    return json.loads(html[start : html.index("</script>", start)])
