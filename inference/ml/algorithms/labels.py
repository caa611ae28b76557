"""Labeled images, as every algorithm's ``fit`` takes them: one kind of (weak) label per image.

- ``mask``: the defect's pixels; ``box``: boxes around defects; ``scribble`` / ``point``: strokes or
  clicks on defects; ``image``: "defective somewhere in this image";
- ``normal_hard``: a normal image a reviewer said the model raised a false alarm on.

An algorithm that learns from labels (``uses_labels``) reads them all; the others learn the
``normal_hard`` images as more normal images and leave the rest.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, get_args

import numpy as np
from numpy.typing import NDArray
from PIL import Image

from inference.ml.preprocessing import ImageInput

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
