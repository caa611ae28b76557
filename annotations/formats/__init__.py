"""Label formats in and out: COCO, LabelMe, YOLO, CVAT for images 1.1 and the MVTec AD layout.

Plain functions over the neutral dataclasses of `labels` (no Django). Each format says where an image
goes in an export (`place`), writes its label files (`write`), and reads a dataset's folder into one
`LabelFile` per label file (`read`), refusing a malformed file whole; the MVTec layout is read by the
learning core's reader (`inference.ml.data`) instead.
"""

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from annotations.formats import coco, cvat, labelme, mvtec, yolo
from annotations.formats.labels import (
    DEFECTIVE,
    IMAGES,
    NORMAL,
    LabeledImage,
    LabelFile,
    LabelFormatError,
    WriteReport,
    relative,
)

# (label files read, [(label file, why it was refused)])
ReadResult = tuple[list[LabelFile], list[tuple[str, str]]]


@dataclass(frozen=True)
class LabelFormat:
    """One format.

    Attributes:
        name: as the command line and the API spell it.
        place: where an image (by its file name, split, verdict and first defect type) goes in an
            export, relative to its folder; None when the format has no place for it.
        write: writes the label files of the placed images into the export's folder.
        read: reads a dataset's folder; None when `dataset_plan` reads the layout itself.
        sidecar: for LabelMe, whose label files stand beside their images, the label file of an image
            (image path, dataset folder): an image without one is imported unlabeled. None: the reader
            lists every image to import (YOLO lists those without a label file as unlabeled).
    """

    name: str
    place: Callable[..., str | None]
    write: Callable[..., WriteReport]
    read: Callable[[Path], ReadResult] | None = None
    sidecar: Callable[[Path, Path], Path] | None = None


def _each(
    paths: list[Path],
    read_one: Callable[[Path], LabelFile],
    root: Path,
    label_of: Callable[[Path], Path] = lambda path: path,
) -> ReadResult:
    """Read each path; a label file that fails is refused (by its dataset-relative path), alone."""
    files, refused = [], []
    for path in paths:
        try:
            label_file = read_one(path)
        except LabelFormatError as error:
            refused.append((relative(label_of(path), root), str(error)))
        else:
            files.append(label_file)
    return files, refused


def _per_file(module: ModuleType) -> Callable[[Path], ReadResult]:
    """A reader of the formats whose label files stand on their own (`label_files`, `read`)."""
    return lambda root: _each(module.label_files(root), lambda path: module.read(path, root), root)


def _yolo_read(root: Path) -> ReadResult:
    names = yolo.class_names(root)
    return _each(
        yolo.image_files(root),
        lambda image: yolo.read(image, root, names=names),
        root,
        lambda image: yolo.label_path(image, root),
    )


def _beside_images(file_name: str, **_: str | None) -> str:
    return f"{IMAGES}/{file_name}"


def _by_split(file_name: str, *, split: str, **_: str | None) -> str:
    return f"{IMAGES}/{split}/{file_name}"


def _beside_labels(file_name: str, **_: str | None) -> str:
    return file_name


def _decided_beside_images(file_name: str, *, verdict: str, **_: str | None) -> str | None:
    """CVAT has no way to say an image is unlabeled or unsure: those are left out."""
    return f"{IMAGES}/{file_name}" if verdict in (NORMAL, DEFECTIVE) else None


FORMATS = {
    "coco": LabelFormat("coco", _beside_images, coco.write, _per_file(coco)),
    "labelme": LabelFormat("labelme", _beside_labels, labelme.write, _per_file(labelme), labelme.sidecar),
    "yolo": LabelFormat("yolo", _by_split, yolo.write, _yolo_read),
    "cvat": LabelFormat("cvat", _decided_beside_images, cvat.write, _per_file(cvat)),
    "mvtec": LabelFormat("mvtec", mvtec.place, mvtec.write),
}
# The formats a label import reads (the MVTec layout and plain folders are `dataset_plan`'s own).
READABLE = tuple(name for name, spec in FORMATS.items() if spec.read is not None)

__all__ = ["FORMATS", "READABLE", "LabelFormat", "LabeledImage", "LabelFile", "LabelFormatError"]
