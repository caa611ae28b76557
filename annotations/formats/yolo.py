"""YOLO (Ultralytics) detection and segmentation labels (https://docs.ultralytics.com/datasets/detect/,
/datasets/segment/): beside `images/<split>/<name>.<ext>` a `labels/<split>/<name>.txt` (or a `.txt`
beside the image), one object a line: `class cx cy w h` for a box, `class x1 y1 x2 y2 ...` (three
points or more) for a segment, coordinates normalised to 0–1 by the image's width and height. Class
names come from `data.yaml` (`names`, a list or an index→name map) or `classes.txt` (one a line).

Read: a box → box, a segment → polygon; a split folder named train → train, val, valid or test →
test. An image with a label file is labeled (an empty file: normal); one without is not. Coordinates
are multiplied back by the image size, so they come back to within floating-point rounding (~1e-12 px),
not bit for bit.

Write: `images/<split>/`, `labels/<split>/`, `data.yaml` (train: images/train, val and test:
images/test) and `classes.txt`; an image neither normal nor defective gets no label file (it comes
back unlabeled). YOLO has no masks, points or scribbles: they are left out (reported).
"""

from pathlib import Path

import yaml

from annotations.formats.labels import (
    DEFECTIVE,
    IMAGE_SUFFIXES,
    NORMAL,
    UNLABELED,
    UNTYPED,
    LabeledImage,
    LabeledRegion,
    LabelFile,
    LabelFormatError,
    WriteReport,
    category_names,
    image_size,
    relative,
)

SPLITS = {"train": "train", "val": "test", "valid": "test", "validation": "test", "test": "test"}
# Rounding in the writer's division may put a coordinate a hair outside 0–1.
TOLERANCE = 1e-9


def class_names(root: Path) -> list[str]:
    """The class names of the dataset.

    Raises:
        LabelFormatError: neither data.yaml nor classes.txt declares them.
    """
    for name in ("data.yaml", "dataset.yaml"):
        if (root / name).is_file():
            try:
                data = yaml.safe_load((root / name).read_text(encoding="utf-8"))
            except (yaml.YAMLError, UnicodeDecodeError) as error:
                raise LabelFormatError(f"{name} is not valid YAML: {error}") from None
            names = data.get("names") if isinstance(data, dict) else None
            if isinstance(names, dict) and sorted(names) == list(range(len(names))):
                return [str(names[index]) for index in range(len(names))]
            if isinstance(names, list):
                return [str(name) for name in names]
            raise LabelFormatError(f"{name}: 'names' must be a list, or a map from 0, 1, 2, ... to names")
    for name in ("classes.txt", "obj.names"):
        if (root / name).is_file():
            lines = (root / name).read_text(encoding="utf-8").splitlines()
            return [line.strip() for line in lines if line.strip()]
    raise LabelFormatError("no class names: put them in data.yaml ('names') or classes.txt, one a line")


def label_path(image: Path, root: Path) -> Path:
    """The label file of an image: in `labels/` where the image is in `images/`, else beside it."""
    parts = list(image.relative_to(root).parts)
    if "images" in parts[:-1]:
        index = len(parts) - 1 - parts[::-1].index("images")
        parts[index] = "labels"
        return (root.joinpath(*parts)).with_suffix(".txt")
    return image.with_suffix(".txt")


def _split(image: Path, root: Path) -> str | None:
    parts = image.relative_to(root).parts[:-1]
    return next((SPLITS[part] for part in reversed(parts) if part in SPLITS), None)


def image_files(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)


def _coordinate(text: str, scale: int, where: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise LabelFormatError(f"{where}: {text!r} is not a number") from None
    if not -TOLERANCE <= value <= 1 + TOLERANCE:
        raise LabelFormatError(f"{where}: {text} lies outside 0–1 (YOLO coordinates are normalised)")
    return min(max(value, 0.0), 1.0) * scale


def _region(line: str, names: list[str], size: tuple[int, int], where: str) -> LabeledRegion:
    fields = line.split()
    try:
        index = int(fields[0])
    except ValueError:
        raise LabelFormatError(f"{where}: the class {fields[0]!r} is not a whole number") from None
    if not 0 <= index < len(names):
        raise LabelFormatError(f"{where}: class {index} is not declared (there are {len(names)} names)")
    width, height = size
    values = [_coordinate(text, (width, height)[i % 2], where) for i, text in enumerate(fields[1:])]
    if len(values) == 4:
        cx, cy, w, h = values
        box = {"x": max(cx - w / 2, 0.0), "y": max(cy - h / 2, 0.0), "width": w, "height": h}
        box["width"] = min(box["width"], width - box["x"])
        box["height"] = min(box["height"], height - box["y"])
        return LabeledRegion("box", box, names[index])
    if len(values) >= 6 and len(values) % 2 == 0:
        points = [[values[i], values[i + 1]] for i in range(0, len(values), 2)]
        return LabeledRegion("polygon", {"points": points}, names[index])
    raise LabelFormatError(
        f"{where}: a line is 'class cx cy w h' or 'class x1 y1 x2 y2 x3 y3 ...', got {len(fields)} values"
    )


def read(image: Path, root: Path, *, names: list[str]) -> LabelFile:
    """The label file of one image; an image without one is unlabeled (a file of no line: normal).

    Raises:
        LabelFormatError: a line is malformed, out of 0–1, or names an undeclared class.
    """
    path = label_path(image, root)
    where = relative(path, root)
    size = image_size(image)
    if size is None:
        raise LabelFormatError(f"{where}: its image {relative(image, root)} cannot be read")
    name, split = relative(image, root), _split(image, root)
    if not path.is_file():
        return LabelFile(where, (LabeledImage(name, *size, verdict=UNLABELED, split=split),), tuple(names))
    try:
        lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    except UnicodeDecodeError:
        raise LabelFormatError(f"{where} is not UTF-8 text") from None
    regions = tuple(_region(line, names, size, f"{where}: line {n + 1}") for n, line in enumerate(lines))
    return LabelFile(where, (LabeledImage(name, *size, regions, split=split),), tuple(names))


def _line(region: LabeledRegion, image: LabeledImage, classes: dict[str, int]) -> str | None:
    geometry, width, height = region.geometry, image.width, image.height
    index = classes[region.defect_type or UNTYPED]
    if region.kind == "box":
        cx = (geometry["x"] + geometry["width"] / 2) / width
        cy = (geometry["y"] + geometry["height"] / 2) / height
        values = [cx, cy, geometry["width"] / width, geometry["height"] / height]
    elif region.kind == "polygon":
        values = [value for x, y in geometry["points"] for value in (x / width, y / height)]
    else:
        return None
    return " ".join([str(index), *(repr(value) for value in values)])


def write(images: list[LabeledImage], directory: Path, *, categories: list[str]) -> WriteReport:
    """Write a label file for each labeled image (their names `images/<split>/<file>` relative to
    `directory`), `data.yaml` and `classes.txt`."""
    report = WriteReport()
    names = category_names(images, categories)
    classes = {name: index for index, name in enumerate(names)}
    for image in images:
        if image.decided_verdict not in (NORMAL, DEFECTIVE):
            continue
        lines = []
        for region in image.regions:
            line = _line(region, image, classes)
            if line is None:
                report.left_out.append((image.name, f"a {region.kind} has no YOLO form"))
            else:
                lines.append(line)
        if image.decided_verdict == DEFECTIVE and not lines:
            # An empty label file says "nothing here": a defective image without one is left unlabeled.
            report.left_out.append((image.name, "defective with no box or polygon: it gets no label file"))
            continue
        target = label_path(directory / image.name, directory)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    data = {
        "path": ".",
        "train": "images/train",
        "val": "images/test",
        "test": "images/test",
        "names": dict(enumerate(names)),
    }
    (directory / "data.yaml").write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    (directory / "classes.txt").write_text("".join(f"{name}\n" for name in names), encoding="utf-8")
    return report
