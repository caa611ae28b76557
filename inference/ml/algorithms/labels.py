"""Labeled images, as every algorithm's ``fit`` takes them: one kind of (weak) label per image.

- ``mask``: the defect's pixels; ``box``: boxes around defects; ``scribble`` / ``point``: strokes or
  clicks on defects; ``image``: "defective somewhere in this image";
- ``normal_hard``: a normal image a reviewer said the model raised a false alarm on.

An algorithm that learns from labels (``uses_labels``) reads them all; the others learn the
``normal_hard`` images as more normal images and leave the rest. :func:`cell_coverage` says which
feature cells a label's marks cover, through the same geometry as the image's features.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Literal, get_args

import numpy as np
import torch
import torch.nn.functional as F
from numpy.typing import NDArray
from PIL import Image, ImageDraw

from inference.ml.preprocessing import ImageInput, PreprocessConfig, View, image_views

LabelKind = Literal["mask", "box", "scribble", "point", "image", "normal_hard"]
LABEL_KINDS: tuple[str, ...] = get_args(LabelKind)
DEFECT_KINDS: frozenset[str] = frozenset(LABEL_KINDS) - {"normal_hard"}
"""Label kinds that say an image is defective (all but ``normal_hard``)."""

Box = tuple[float, float, float, float]
"""``(x, y, width, height)`` in image px, ``(x, y)`` the top-left corner."""
Point = tuple[float, float]
"""``(x, y)`` in image px."""


@dataclass(frozen=True)
class Scribble:
    """A stroke drawn over a defect.

    Attributes:
        points: the polyline's ``(x, y)`` vertices, image px (one vertex draws a dot).
        width: stroke width, image px.
    """

    points: tuple[Point, ...]
    width: float = 3.0


@dataclass(frozen=True)
class LabeledImage:
    """An image with one kind of (weak) label.

    Attributes:
        image: the image (array or PIL image), as given to ``fit``.
        kind: what the label says, see the module docstring.
        mask: ``kind="mask"``: ``(H, W)`` bool, true on the defect, at the image's size.
        boxes: ``kind="box"``: boxes around the defects.
        scribbles: ``kind="scribble"``: strokes over the defects.
        points: ``kind="point"``: clicks on the defects.

    Raises:
        ValueError: unknown kind, or the kind's geometry is missing or does not fit the image.
    """

    image: ImageInput
    kind: LabelKind
    mask: NDArray[np.bool_] | None = None
    boxes: tuple[Box, ...] = ()
    scribbles: tuple[Scribble, ...] = ()
    points: tuple[Point, ...] = ()

    def __post_init__(self) -> None:
        if self.kind not in LABEL_KINDS:
            raise ValueError(f"unknown label kind {self.kind!r}; choose from {', '.join(LABEL_KINDS)}")
        if self.kind == "mask" and (self.mask is None or np.shape(self.mask) != self.shape):
            raise ValueError(
                f"a mask label needs a boolean mask of the image's shape {self.shape}, "
                f"got {None if self.mask is None else np.shape(self.mask)}"
            )
        needed = {"box": self.boxes, "scribble": self.scribbles, "point": self.points}
        if self.kind in needed and not needed[self.kind]:
            raise ValueError(f"a {self.kind} label needs at least one {self.kind}")

    @property
    def shape(self) -> tuple[int, int]:
        """``(height, width)`` of the image, px."""
        if isinstance(self.image, Image.Image):
            return self.image.height, self.image.width
        return int(self.image.shape[0]), int(self.image.shape[1])

    @property
    def is_defective(self) -> bool:
        """Whether the label says the image shows a defect."""
        return self.kind in DEFECT_KINDS


def rasterize(label: LabeledImage) -> NDArray[np.float32]:
    """The label's marks drawn at the image's size: 1 on a mask, box, stroke or point, else 0.

    Returns:
        ``(H, W)`` float32; all zeros for ``image`` and ``normal_hard`` labels.
    """
    height, width = label.shape
    if label.kind == "mask":
        assert label.mask is not None
        return np.asarray(label.mask, bool).astype(np.float32)
    canvas = Image.new("L", (width, height))
    draw = ImageDraw.Draw(canvas)
    for x, y, box_width, box_height in label.boxes:
        # Every pixel the box touches, at least one (PIL's rectangle includes its far corner).
        left, top = int(x), int(y)
        right = max(left, int(np.ceil(x + box_width)) - 1)
        bottom = max(top, int(np.ceil(y + box_height)) - 1)
        draw.rectangle((left, top, right, bottom), fill=1)
    for scribble in label.scribbles:
        radius = scribble.width / 2
        if len(scribble.points) > 1:
            draw.line(scribble.points, fill=1, width=max(1, round(scribble.width)), joint="curve")
        for x, y in (scribble.points[0], scribble.points[-1]):  # round caps
            draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=1)
    for x, y in label.points:
        draw.point((x, y), fill=1)
    return np.asarray(canvas, np.float32)


def cell_coverage(
    label: LabeledImage, config: PreprocessConfig, stride: int
) -> tuple[NDArray[np.float32], list[View]]:
    """Fraction of every feature cell covered by the label's marks, on the image's canvases.

    The marks go through the same geometry as the image (letterbox, resize or tiles), so cells line up
    with the features the backbone computes.

    Args:
        label: the labeled image.
        config: the preprocessing its features use.
        stride: canvas px per feature cell.

    Returns:
        ``(V, h, w)`` float32 in [0, 1], one grid per canvas, and the ``V`` canvases' views.
    """
    # Intensity normalisation would rescale the 0/1 marks; the geometry is all that matters here.
    views = image_views(rasterize(label), 0, replace(config, normalize_intensity=False))
    canvases = torch.stack([canvas[:1] for canvas, _ in views])
    coverage = F.avg_pool2d(canvases, stride)[:, 0].numpy()
    return coverage, [view for _, view in views]
