"""CVAT for images 1.1 XML (https://docs.cvat.ai/docs/other/xml_format/): `<annotations>` with the
labels declared under `<meta>` and one `<image name width height>` per image holding its shapes.

Read: `<box xtl ytl xbr ybr>` → box; `<polygon points="x,y;x,y;...">` → polygon; `<polyline>` →
scribble (width 1: CVAT has no stroke width); `<points>` → one point region per point; `<mask rle
left top width height>` (runs over the mask's box, row-major, zeros first) → mask. `<tag>` says
nothing Loupe keeps and is passed over; other shapes (ellipse, cuboid, skeleton) are refused. A label
the meta does not declare is refused. An image listed with no shape is normal. A document with a
DOCTYPE or entities is refused unread (no entity expansion).

Write: `annotations.xml` beside `images/`, image names relative to `images/`.
"""

import xml.etree.ElementTree as ET
from pathlib import Path

from annotations.formats.labels import (
    NORMAL,
    UNTYPED,
    LabeledImage,
    LabeledRegion,
    LabelFile,
    LabelFormatError,
    WriteReport,
    category_names,
    image_path,
    images_reference,
    number,
    relative,
    whole,
)
from annotations.formats.rle import cvat_decode, cvat_encode
from annotations.geometry import mask_decode, mask_encode

LABEL_FILE = "annotations.xml"
KINDS = {"box": "rectangle", "polygon": "polygon", "polyline": "polyline", "points": "points", "mask": "mask"}


def label_files(root: Path) -> list[Path]:
    """The XML files at the top of the dataset's folder."""
    return sorted(root.glob("*.xml"))


def _parse(path: Path, where: str) -> ET.Element:
    content = path.read_bytes()
    if b"<!DOCTYPE" in content or b"<!ENTITY" in content:
        raise LabelFormatError(f"{where}: a DOCTYPE or entity declaration is not accepted in a CVAT file")
    try:
        return ET.fromstring(content)
    except ET.ParseError as error:
        raise LabelFormatError(f"{where} is not well-formed XML: {error}") from None


def _points(text: str | None, where: str) -> list[list[float]]:
    if not text:
        raise LabelFormatError(f"{where}: 'points' is missing")
    try:
        pairs = [pair.split(",") for pair in text.strip().split(";")]
        return [[number(x, where=where), number(y, where=where)] for x, y in pairs]
    except ValueError:
        raise LabelFormatError(f"{where}: 'points' must read x,y;x,y;...") from None


def _shape(element: ET.Element, size: tuple[int, int], where: str) -> list[LabeledRegion]:
    label, tag = element.get("label"), element.tag
    points = _points(element.get("points"), where) if tag in ("polygon", "polyline", "points") else []
    if tag == "box":
        x1, y1, x2, y2 = (number(element.get(key), where=where) for key in ("xtl", "ytl", "xbr", "ybr"))
        return [LabeledRegion("box", {"x": x1, "y": y1, "width": x2 - x1, "height": y2 - y1}, label)]
    if tag == "polygon":
        return [LabeledRegion("polygon", {"points": points}, label)]
    if tag == "polyline":
        return [LabeledRegion("scribble", {"points": points, "width": 1}, label)]
    if tag == "points":
        return [LabeledRegion("point", {"x": x, "y": y}, label) for x, y in points]
    if tag == "mask":
        box = tuple(int(number(element.get(key), where=where)) for key in ("left", "top", "width", "height"))
        try:
            counts = [int(value) for value in (element.get("rle") or "").split(",")]
            mask = cvat_decode(counts, box=box, image_size=size)  # type: ignore[arg-type]
        except ValueError as error:
            raise LabelFormatError(f"{where}: its 'rle' does not fit: {error}") from None
        return [LabeledRegion("mask", mask_encode(mask), label)]
    raise LabelFormatError(f"{where}: <{tag}> cannot be imported (box, polygon, polyline, points, mask can)")


def read(path: Path, root: Path) -> LabelFile:
    """The images and regions of one CVAT for images XML file.

    Raises:
        LabelFormatError: it is not CVAT XML, or a shape is malformed or has an undeclared label.
    """
    where = relative(path, root)
    document = _parse(path, where)
    if document.tag != "annotations":
        raise LabelFormatError(f"{where}: the root element is <{document.tag}>, not <annotations> (CVAT XML)")
    labels = tuple(dict.fromkeys(n.text or "" for n in document.iterfind("meta//labels/label/name")))
    images = []
    for element in document.iterfind("image"):
        reference = element.get("name") or ""
        at = f"{where}: image {reference!r}"
        size = (
            whole(element.get("width"), where=f"{at} width"),
            whole(element.get("height"), where=f"{at} height"),
        )
        regions: list[LabeledRegion] = []
        for index, child in enumerate(element):
            if child.tag == "tag":
                continue
            shape_at = f"{at}, shape {index + 1}"
            if child.get("label") not in labels:
                raise LabelFormatError(f"{shape_at}: label {child.get('label')!r} is not declared in <meta>")
            regions += _shape(child, size, shape_at)
        images.append(LabeledImage(image_path(path, reference, root), *size, tuple(regions)))
    return LabelFile(where, tuple(images), labels)


def _element(region: LabeledRegion, label: str) -> ET.Element:
    geometry = region.geometry
    attributes = {"label": label, "source": "manual", "occluded": "0", "z_order": "0"}
    if region.kind == "box":
        corners = {
            "xtl": geometry["x"],
            "ytl": geometry["y"],
            "xbr": geometry["x"] + geometry["width"],
            "ybr": geometry["y"] + geometry["height"],
        }
        return ET.Element("box", attributes | {key: repr(value) for key, value in corners.items()})
    if region.kind in ("polygon", "scribble"):
        points = ";".join(f"{x!r},{y!r}" for x, y in geometry["points"])
        tag = "polygon" if region.kind == "polygon" else "polyline"
        return ET.Element(tag, attributes | {"points": points})
    if region.kind == "point":
        return ET.Element("points", attributes | {"points": f"{geometry['x']!r},{geometry['y']!r}"})
    if region.kind == "mask":
        counts, (left, top, width, height) = cvat_encode(mask_decode(geometry))
        box = {"left": left, "top": top, "width": width, "height": height}
        return ET.Element(
            "mask", attributes | {"rle": ", ".join(map(str, counts))} | {k: str(v) for k, v in box.items()}
        )
    raise ValueError(f"unknown region kind {region.kind!r}")


def write(images: list[LabeledImage], directory: Path, *, categories: list[str]) -> WriteReport:
    """Write `annotations.xml` for `images` (their names `images/<file>`, relative to `directory`)."""
    names = category_names(images, categories)
    document = ET.Element("annotations")
    ET.SubElement(document, "version").text = "1.1"
    task = ET.SubElement(ET.SubElement(document, "meta"), "task")
    ET.SubElement(task, "name").text = directory.name
    ET.SubElement(task, "size").text = str(len(images))
    ET.SubElement(task, "mode").text = "annotation"
    labels = ET.SubElement(task, "labels")
    for name in names:
        label = ET.SubElement(labels, "label")
        ET.SubElement(label, "name").text = name
        ET.SubElement(label, "type").text = "any"
    report = WriteReport()
    for image_id, image in enumerate(images):
        if image.decided_verdict != NORMAL and not image.regions:
            # An image CVAT lists with no shape reads back as normal.
            report.left_out.append((image.name, "defective with no region: CVAT cannot say so"))
            continue
        attributes = {"id": str(image_id), "name": images_reference(image.name), "width": str(image.width)}
        element = ET.SubElement(document, "image", attributes | {"height": str(image.height)})
        for region in image.regions:
            element.append(_element(region, region.defect_type or UNTYPED))
    ET.indent(document)
    ET.ElementTree(document).write(directory / LABEL_FILE, encoding="utf-8", xml_declaration=True)
    return report
