"""Each writer's files against the format's published description, parsed here without Loupe's
readers: COCO (https://cocodataset.org/#format-data), YOLO (https://docs.ultralytics.com/datasets/),
LabelMe 5 (its JSON as labelme saves it), CVAT for images 1.1
(https://docs.cvat.ai/docs/manual/advanced/xml_format/) and the MVTec AD layout (anomalib's reader)."""

import base64
import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np
import pytest
import yaml
from PIL import Image as PILImage

from annotations.models import Collection
from annotations.services.label_export import labels_export_write
from annotations.services.projects import project_create
from tests.annotations.formats.helpers import HEIGHT, WIDTH, dent_mask, labeled_collection
from tests.factories import UserFactory

# What labeled_collection gives boxes.png (scratch) and weak.png (dent), in image pixels.
BOX = {"x": 2.5, "y": 3.0, "width": 10.25, "height": 7.0}
POLYGON = [[20, 5], [35.5, 6], [30, 20.75]]


@pytest.fixture
def export(db, tmp_path):
    """Write the labeled collection in a format; its folder."""
    user = UserFactory(username="writer")
    collection = Collection.objects.create(
        project=project_create(name="Writers", created_by=user), name="tiles"
    )
    labeled_collection(collection, user)

    def write(format: str) -> Path:
        folder = tmp_path / format
        folder.mkdir()
        labels_export_write(collection=collection, format=format, directory=folder)
        return folder

    return write


def _coco_counts(packed: str) -> list[int]:
    """The COCO API's `rleFrString`, written from its description: 5-bit groups + 48, least
    significant first, 0x20 continues, the last group's 0x10 is the sign; from the third count on
    (index > 2), each is a difference from the count two before."""
    counts, position = [], 0
    while position < len(packed):
        value, shift, more = 0, 0, True
        while more:
            group = ord(packed[position]) - 48
            value |= (group & 0x1F) << shift
            more = bool(group & 0x20)
            position, shift = position + 1, shift + 5
            if not more and group & 0x10:
                value |= -1 << shift
        counts.append(value + (counts[-2] if len(counts) > 2 else 0))
    return counts


def _runs_mask(counts: list[int], shape: tuple[int, int], order: str) -> np.ndarray:
    values = np.arange(len(counts)) % 2 == 1  # zeros first
    return np.repeat(values, counts).reshape(shape, order=order)


def test_coco_images_annotations_and_categories(export):
    folder = export("coco")
    document = json.loads((folder / "annotations.json").read_text())

    assert {"images", "annotations", "categories"} <= set(document)
    categories = {c["id"]: c["name"] for c in document["categories"]}
    assert set(categories.values()) == {"scratch", "dent"}
    images = {i["id"]: i for i in document["images"]}
    for image in images.values():
        assert (image["width"], image["height"]) == (WIDTH, HEIGHT)
        # Named as COCO names them, relative to the images' folder (images/ here, train2017/ there).
        assert (folder / "images" / image["file_name"]).is_file() and "/" not in image["file_name"]
    by_image: dict[str, list[dict]] = {}
    for annotation in document["annotations"]:
        assert {"id", "image_id", "category_id", "bbox", "area", "iscrowd", "segmentation"} <= set(annotation)
        assert annotation["iscrowd"] == 0  # one defect each, so evaluation counts every one
        assert annotation["category_id"] in categories
        name = Path(images[annotation["image_id"]]["file_name"]).name
        by_image.setdefault(name, []).append(annotation)
    assert len({a["id"] for a in document["annotations"]}) == len(document["annotations"])

    box, polygon = by_image["boxes.png"]
    assert categories[box["category_id"]] == categories[polygon["category_id"]] == "scratch"
    assert box["bbox"] == [BOX["x"], BOX["y"], BOX["width"], BOX["height"]]  # [x, y, width, height]
    assert box["area"] == BOX["width"] * BOX["height"]
    # A polygon: a list of flat [x1, y1, x2, y2, ...] lists; its bbox is its extent.
    assert polygon["segmentation"] == [[value for point in POLYGON for value in point]]
    assert polygon["bbox"] == [20, 5, 15.5, 15.75]

    (mask,) = by_image["mask.png"]
    rle = mask["segmentation"]
    assert rle["size"] == [HEIGHT, WIDTH] and isinstance(rle["counts"], str)  # size is [height, width]
    decoded = _runs_mask(_coco_counts(rle["counts"]), (HEIGHT, WIDTH), order="F")  # down the columns
    assert (decoded == dent_mask()).all()
    assert mask["bbox"] == [0, 0, 33, 28] and mask["area"] == int(dent_mask().sum())
    (weak,) = by_image["weak.png"]  # its point and scribble have no COCO form
    assert weak["bbox"] == [0.0, 0.0, 40.0, 30.0] and categories[weak["category_id"]] == "dent"
    assert "unlabeled.png" not in by_image and "normal-test.png" not in by_image


def test_yolo_lines_are_normalised_and_the_names_are_declared(export):
    folder = export("yolo")
    data = yaml.safe_load((folder / "data.yaml").read_text())
    names = data["names"]
    assert (data["train"], data["val"]) == ("images/train", "images/test")
    assert all((folder / data["path"] / data[split]).is_dir() for split in ("train", "val"))
    assert [names[index] for index in sorted(names)] == (folder / "classes.txt").read_text().split()
    classes = {name: index for index, name in names.items()}

    box, polygon = [line.split() for line in (folder / "labels/test/boxes.txt").read_text().splitlines()]
    # A box: `class cx cy w h`, each normalised by the image's width or height.
    assert int(box[0]) == classes["scratch"] and len(box) == 5
    cx, cy = (BOX["x"] + BOX["width"] / 2) / WIDTH, (BOX["y"] + BOX["height"] / 2) / HEIGHT
    assert [float(v) for v in box[1:]] == pytest.approx(
        [cx, cy, BOX["width"] / WIDTH, BOX["height"] / HEIGHT]
    )
    # A segment: `class x1 y1 x2 y2 ...`, normalised likewise.
    assert int(polygon[0]) == classes["scratch"]
    expected = [value for x, y in POLYGON for value in (x / WIDTH, y / HEIGHT)]
    assert [float(v) for v in polygon[1:]] == pytest.approx(expected)
    assert all(0 <= float(v) <= 1 for v in box[1:] + polygon[1:])

    (weak,) = [line.split() for line in (folder / "labels/unassigned/weak.txt").read_text().splitlines()]
    assert int(weak[0]) == classes["dent"] and [float(v) for v in weak[1:]] == [0.5, 0.5, 1.0, 1.0]
    # A normal image has an empty label file; an unlabeled one, and a mask (no YOLO form), none.
    assert (folder / "labels/test/normal-test.txt").read_text() == ""
    assert (folder / "labels/train/normal-train.txt").read_text() == ""
    assert not (folder / "labels/test/mask.txt").exists()
    assert not (folder / "labels/unassigned/unlabeled.txt").exists()
    assert (folder / "images/test/boxes.png").is_file()


def test_labelme_files_beside_their_images(export):
    folder = export("labelme")
    assert not (folder / "unlabeled.json").exists()
    documents = {path.stem: json.loads(path.read_text()) for path in folder.glob("*.json")}
    assert set(documents) == {"normal-train", "normal-test", "boxes", "mask", "weak"}
    for stem, document in documents.items():
        assert isinstance(document["version"], str) and document["version"].count(".") == 2
        assert document["imagePath"] == f"{stem}.png" and (folder / document["imagePath"]).is_file()
        assert (document["imageHeight"], document["imageWidth"]) == (HEIGHT, WIDTH)
        assert document["imageData"] is None
        for shape in document["shapes"]:
            assert {"label", "points", "shape_type", "group_id", "flags"} <= set(shape)
    assert documents["normal-test"]["shapes"] == []

    rectangle, polygon = documents["boxes"]["shapes"]
    assert (rectangle["label"], rectangle["shape_type"]) == ("scratch", "rectangle")
    # A rectangle is its two opposite corners.
    assert rectangle["points"] == [[BOX["x"], BOX["y"]], [BOX["x"] + BOX["width"], BOX["y"] + BOX["height"]]]
    assert (polygon["label"], polygon["shape_type"], polygon["points"]) == ("scratch", "polygon", POLYGON)
    assert [s["shape_type"] for s in documents["weak"]["shapes"]] == ["point", "linestrip", "rectangle"]

    (mask,) = documents["mask"]["shapes"]
    # A mask (LabelMe 5): its inclusive box as two points, and the box's crop as a base64 PNG.
    assert mask["shape_type"] == "mask" and mask["points"] == [[0, 0], [32, 27]]
    crop = np.asarray(PILImage.open(io.BytesIO(base64.b64decode(mask["mask"])))) > 0
    assert (crop == dent_mask()[0:28, 0:33]).all()


def _points(text: str) -> list[list[float]]:
    return [[float(v) for v in pair.split(",")] for pair in text.split(";")]


def test_cvat_for_images_1_1(export):
    folder = export("cvat")
    root = ET.parse(folder / "annotations.xml").getroot()

    assert root.tag == "annotations" and root.find("version").text == "1.1"
    labels = [label.findtext("name") for label in root.iterfind("meta/task/labels/label")]
    assert set(labels) == {"scratch", "dent"}
    images = {Path(image.get("name")).name: image for image in root.iterfind("image")}
    assert set(images) == {"normal-train.png", "normal-test.png", "boxes.png", "mask.png", "weak.png"}
    assert len({image.get("id") for image in images.values()}) == 5
    for image in images.values():
        assert (int(image.get("width")), int(image.get("height"))) == (WIDTH, HEIGHT)
        assert (folder / "images" / image.get("name")).is_file()  # CVAT's export keeps them in images/
    assert list(images["normal-test.png"]) == []

    box, polygon = list(images["boxes.png"])
    assert (box.tag, box.get("label"), polygon.tag, polygon.get("label")) == (
        "box",
        "scratch",
        "polygon",
        "scratch",
    )
    corners = [float(box.get(key)) for key in ("xtl", "ytl", "xbr", "ybr")]
    assert corners == [BOX["x"], BOX["y"], BOX["x"] + BOX["width"], BOX["y"] + BOX["height"]]
    assert _points(polygon.get("points")) == POLYGON  # "x,y;x,y;..."
    assert [shape.tag for shape in images["weak.png"]] == ["points", "polyline", "box"]

    (mask,) = list(images["mask.png"])
    # A mask: runs over its box (left, top, width, height), row by row, zeros first.
    left, top, width, height = (int(mask.get(key)) for key in ("left", "top", "width", "height"))
    counts = [int(v) for v in mask.get("rle").split(",")]
    crop = _runs_mask(counts, (height, width), order="C")
    assert (left, top, width, height) == (0, 0, 33, 28)
    assert (crop == dent_mask()[top : top + height, left : left + width]).all()


def test_mvtec_layout_and_its_masks(export):
    folder = export("mvtec")
    files = sorted(str(path.relative_to(folder)) for path in folder.rglob("*") if path.is_file())

    assert files == [
        "ground_truth/dent/mask_mask.png",
        "ground_truth/dent/weak_mask.png",
        "ground_truth/scratch/boxes_mask.png",
        "test/dent/mask.png",
        "test/dent/weak.png",
        "test/good/normal-test.png",
        "test/scratch/boxes.png",
        "train/good/normal-train.png",
    ]
    masks = {}
    for path in folder.glob("ground_truth/*/*_mask.png"):
        with PILImage.open(path) as image:
            assert image.mode == "L" and image.size == (WIDTH, HEIGHT)
            masks[path.name] = np.asarray(image)
        assert set(np.unique(masks[path.name])) <= {0, 255}
    assert (masks["mask_mask.png"] == dent_mask() * 255).all()
    assert (masks["weak_mask.png"] == 255).all()  # its full-image box; the point and scribble left out
    boxes = masks["boxes_mask.png"]
    assert boxes[5, 6] == 255 and boxes[10, 28] == 255 and boxes[HEIGHT - 1, 0] == 0
