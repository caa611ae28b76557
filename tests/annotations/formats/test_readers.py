"""Each reader on a small file written by hand in the format's published shape (not Loupe's output):
what it reads, and what it refuses, with a message that says what to fix; and an MVTec AD category
written by hand, through the importer."""

import base64
import hashlib
import io
import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.formats import FORMATS, coco, cvat, labelme, yolo
from annotations.formats.labels import LabelFormatError
from annotations.geometry import mask_decode
from annotations.models import Collection, Image, Region
from annotations.services.importing import dataset_import
from annotations.services.projects import project_create
from inference.services.importing import dataset_plan
from tests.factories import UserFactory


def _image(path: Path, width: int = 8, height: int = 6) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    PILImage.new("L", (width, height), 128).save(path)
    return path


def test_coco_boxes_polygons_and_both_rle_forms(tmp_path):
    # https://cocodataset.org/#format-data: polygons for single objects, RLE for crowds (iscrowd=1).
    (tmp_path / "instances.json").write_text(
        json.dumps(
            {
                "images": [{"id": 7, "file_name": "a.png", "width": 4, "height": 3}],
                "categories": [
                    {"id": 1, "name": "scratch", "supercategory": "defect"},
                    {"id": 2, "name": "dent"},
                ],
                "annotations": [
                    {"id": 1, "image_id": 7, "category_id": 1, "bbox": [0.5, 1, 2, 1.5], "iscrowd": 0},
                    {
                        "id": 2,
                        "image_id": 7,
                        "category_id": 1,
                        "segmentation": [[0, 0, 4, 0, 4, 3]],
                        "bbox": [0, 0, 4, 3],
                        "iscrowd": 0,
                    },
                    # Column-major: column 0 is (0,0)=0 (1,0)=0 (2,0)=0, column 1 all set, the rest clear.
                    {
                        "id": 3,
                        "image_id": 7,
                        "category_id": 2,
                        "segmentation": {"counts": [3, 3, 6], "size": [3, 4]},
                        "iscrowd": 1,
                    },
                    {
                        "id": 4,
                        "image_id": 7,
                        "category_id": 2,
                        "segmentation": {"counts": "336", "size": [3, 4]},
                        "iscrowd": 1,
                    },
                ],
            }
        )
    )
    (image,) = coco.read(tmp_path / "instances.json", tmp_path).images
    assert (image.name, image.width, image.height, image.verdict) == ("a.png", 4, 3, None)
    box, polygon, listed, packed = image.regions
    assert (box.kind, box.geometry, box.defect_type) == (
        "box",
        {"x": 0.5, "y": 1, "width": 2, "height": 1.5},
        "scratch",
    )
    assert polygon.geometry == {"points": [[0, 0], [4, 0], [4, 3]]}
    expected = np.zeros((3, 4), dtype=bool)
    expected[:, 1] = True
    assert listed.kind == "mask" and listed.defect_type == "dent"
    assert (mask_decode(listed.geometry) == expected).all()
    # "336" is [3, 3, 6] packed (each count below 16 is one character, its value + 48).
    assert packed.kind == "mask" and packed.geometry == listed.geometry


@pytest.mark.parametrize(
    "change, message",
    [
        (
            lambda d: d["annotations"][0].update(category_id=9),
            "category id 9, which 'categories' does not declare",
        ),
        (lambda d: d["annotations"][0].update(image_id=8), "image id 8, which is not listed"),
        (
            lambda d: d["annotations"][0].update(segmentation={"counts": [1, 2], "size": [3, 4]}),
            "add up to 3",
        ),
        (
            lambda d: d["annotations"][0].update(segmentation={"counts": [12], "size": [4, 3]}),
            "not its image's",
        ),
        (lambda d: d.pop("images"), "'images' must be a list"),
        (lambda d: d["images"][0].update(file_name="../../etc/passwd"), "outside the dataset's folder"),
    ],
)
def test_a_coco_file_that_does_not_hold_together_is_refused(tmp_path, change, message):
    document = {
        "images": [{"id": 1, "file_name": "a.png", "width": 4, "height": 3}],
        "categories": [{"id": 1, "name": "scratch"}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "bbox": [0, 0, 1, 1]}],
    }
    change(document)
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "c.json").write_text(json.dumps(document))
    with pytest.raises(LabelFormatError, match=message.replace("(", r"\(").replace(")", r"\)")):
        coco.read(tmp_path / "sub" / "c.json", tmp_path / "sub")


def test_labelme_shapes(tmp_path):
    crop = io.BytesIO()
    PILImage.fromarray(np.array([[255, 0], [255, 255]], dtype=np.uint8)).save(crop, format="PNG")
    document = {
        "version": "5.4.1",
        "flags": {},
        "imagePath": "a.png",
        "imageData": None,
        "imageHeight": 6,
        "imageWidth": 8,
        "shapes": [
            {
                "label": "scratch",
                "points": [[1, 1], [5, 1], [5, 4]],
                "shape_type": "polygon",
                "group_id": None,
                "flags": {},
            },
            {"label": "scratch", "points": [[6, 5], [2, 1]], "shape_type": "rectangle", "flags": {}},
            {"label": "dent", "points": [[3, 3]], "shape_type": "point", "flags": {}},
            {"label": "dent", "points": [[0, 0], [7, 5], [2, 2]], "shape_type": "linestrip", "flags": {}},
            {
                "label": "dent",
                "points": [[4, 2], [5, 3]],
                "shape_type": "mask",
                "mask": base64.b64encode(crop.getvalue()).decode(),
            },
            {"label": "old", "points": [[0, 0], [1, 0], [1, 1]]},  # LabelMe 3 had no shape_type: a polygon
        ],
    }
    (tmp_path / "a.json").write_text(json.dumps(document))
    (image,) = labelme.read(tmp_path / "a.json", tmp_path).images
    assert image.name == "a.png" and (image.width, image.height) == (8, 6)
    kinds = [(r.kind, r.defect_type) for r in image.regions]
    assert kinds == [
        ("polygon", "scratch"),
        ("box", "scratch"),
        ("point", "dent"),
        ("scribble", "dent"),
        ("mask", "dent"),
        ("polygon", "old"),
    ]
    assert image.regions[1].geometry == {"x": 2, "y": 1, "width": 4, "height": 4}
    mask = mask_decode(image.regions[4].geometry)
    assert mask.sum() == 3 and mask[2, 4] and not mask[2, 5] and mask[3, 5]


def test_labelme_refuses_a_circle_and_what_is_not_labelme(tmp_path):
    circle = {
        "imagePath": "a.png",
        "imageWidth": 8,
        "imageHeight": 6,
        "shapes": [{"label": "x", "points": [[1, 1], [2, 2]], "shape_type": "circle"}],
    }
    (tmp_path / "a.json").write_text(json.dumps(circle))
    with pytest.raises(LabelFormatError, match="'circle' cannot be imported.*polygon"):
        labelme.read(tmp_path / "a.json", tmp_path)
    (tmp_path / "b.json").write_text('{"images": []}')
    with pytest.raises(LabelFormatError, match="is this LabelMe JSON"):
        labelme.read(tmp_path / "b.json", tmp_path)
    (tmp_path / "c.json").write_text('{"shapes": [')
    with pytest.raises(LabelFormatError, match="not valid JSON"):
        labelme.read(tmp_path / "c.json", tmp_path)


def test_yolo_boxes_segments_names_and_splits(tmp_path):
    # https://docs.ultralytics.com/datasets/: images/<split>, labels/<split>, data.yaml with names.
    (tmp_path / "data.yaml").write_text(
        "path: .\ntrain: images/train\nval: images/val\nnames:\n  0: scratch\n  1: dent\n"
    )
    image = _image(tmp_path / "images" / "val" / "a.png", 10, 20)
    _image(tmp_path / "images" / "train" / "b.png")
    (tmp_path / "labels" / "val").mkdir(parents=True)
    (tmp_path / "labels" / "val" / "a.txt").write_text("0 0.5 0.5 0.2 0.1\n\n1 0.1 0.1 0.9 0.1 0.5 0.9\n")
    files, refused = FORMATS["yolo"].read(tmp_path)
    assert refused == []
    by_name = {f.images[0].name: f.images[0] for f in files}
    a, b = by_name["images/val/a.png"], by_name["images/train/b.png"]
    assert (a.split, b.split, b.verdict) == ("test", "train", "unlabeled")
    box, segment = a.regions
    assert box.kind == "box" and box.defect_type == "scratch"
    assert box.geometry == pytest.approx({"x": 4.0, "y": 9.0, "width": 2.0, "height": 2.0})
    assert segment.kind == "polygon" and segment.defect_type == "dent"
    assert [v for p in segment.geometry["points"] for v in p] == pytest.approx([1, 2, 9, 2, 5, 18])
    assert yolo.label_path(image, tmp_path) == tmp_path / "labels" / "val" / "a.txt"


@pytest.mark.parametrize(
    "line, message",
    [
        ("2 0.5 0.5 0.1 0.1", "class 2 is not declared"),
        ("0 0.5 1.5 0.1 0.1", "outside 0–1"),
        ("0 0.5 0.5", "got 3 values"),
    ],
)
def test_a_yolo_file_with_a_bad_line_is_refused_alone(tmp_path, line, message):
    (tmp_path / "classes.txt").write_text("scratch\ndent\n")
    _image(tmp_path / "a.png")
    _image(tmp_path / "b.png")
    (tmp_path / "a.txt").write_text(line + "\n")
    (tmp_path / "b.txt").write_text("")
    files, refused = FORMATS["yolo"].read(tmp_path)
    assert [f.images[0].name for f in files] == ["b.png"] and files[0].images[0].regions == ()
    ((where, why),) = refused
    assert where == "a.txt" and message in why and "a.txt: line 1" in why


def test_yolo_without_names_says_where_to_put_them(tmp_path):
    _image(tmp_path / "a.png")
    with pytest.raises(LabelFormatError, match="data.yaml .* or classes.txt"):
        FORMATS["yolo"].read(tmp_path)


CVAT_XML = """<?xml version="1.0" encoding="utf-8"?>
<annotations>
  <version>1.1</version>
  <meta>
    <task>
      <id>3</id><name>tiles</name><size>1</size><mode>annotation</mode>
      <labels>
        <label><name>scratch</name><color>#ff0000</color><type>any</type><attributes></attributes></label>
        <label><name>dent</name><color>#00ff00</color><type>any</type><attributes></attributes></label>
      </labels>
    </task>
    <dumped>2024-01-01 00:00:00+00:00</dumped>
  </meta>
  <image id="0" name="a.png" width="8" height="6">
    <box label="scratch" source="manual" occluded="0" xtl="1.00" ytl="2.00" xbr="4.50" ybr="5.00"
         z_order="0"></box>
    <polygon label="scratch" source="manual" occluded="0" points="1.00,1.00;6.00,1.00;6.00,5.00"
             z_order="0"></polygon>
    <polyline label="dent" source="manual" occluded="0" points="0.00,0.00;7.00,5.00" z_order="0"></polyline>
    <points label="dent" source="manual" occluded="0" points="2.00,2.00;3.00,4.00" z_order="0"></points>
    <mask label="dent" source="manual" occluded="0" rle="1, 2, 1" left="5" top="3" width="2" height="2"
          z_order="0"></mask>
    <tag label="scratch" source="manual"></tag>
  </image>
</annotations>
"""


def test_cvat_shapes(tmp_path):
    (tmp_path / "annotations.xml").write_text(CVAT_XML)
    _image(tmp_path / "images" / "a.png")
    label_file = cvat.read(tmp_path / "annotations.xml", tmp_path)
    assert label_file.categories == ("scratch", "dent")
    (image,) = label_file.images
    assert image.name == "images/a.png"  # CVAT keeps its images in images/ beside the XML
    kinds = [(r.kind, r.defect_type) for r in image.regions]
    assert kinds == [
        ("box", "scratch"),
        ("polygon", "scratch"),
        ("scribble", "dent"),
        ("point", "dent"),
        ("point", "dent"),
        ("mask", "dent"),
    ]
    assert image.regions[0].geometry == {"x": 1.0, "y": 2.0, "width": 3.5, "height": 3.0}
    mask = mask_decode(image.regions[5].geometry)
    # Runs over the 2×2 box at (5, 3), row by row: 0 | 1 1 | 0 → (6, 3) and (5, 4) set.
    assert mask.sum() == 2 and mask[3, 6] and mask[4, 5]


@pytest.mark.parametrize(
    "change, message",
    [
        (lambda x: x.replace('<box label="scratch"', '<box label="crack"'), "label 'crack' is not declared"),
        (lambda x: x.replace('rle="1, 2, 1"', 'rle="1, 2"'), "add up to 3 pixels, the mask has 4"),
        (lambda x: x.replace("</annotations>", ""), "not well-formed XML"),
        (lambda x: x.replace("<annotations>", '<!DOCTYPE a [<!ENTITY b "c">]><annotations>'), "DOCTYPE"),
        (
            lambda x: x.replace("<tag ", '<ellipse cx="1" cy="1" rx="1" ry="1" ').replace(
                "</tag>", "</ellipse>"
            ),
            "<ellipse> cannot",
        ),
    ],
)
def test_a_cvat_file_that_does_not_hold_together_is_refused(tmp_path, change, message):
    (tmp_path / "annotations.xml").write_text(change(CVAT_XML))
    with pytest.raises(LabelFormatError, match=message):
        cvat.read(tmp_path / "annotations.xml", tmp_path)


def _mvtec_fixture(root: Path) -> dict[str, np.ndarray]:
    """An MVTec AD category written by hand: train/good, test/good, test/<defect> and
    ground_truth/<defect>/<stem>_mask.png (0 or 255); the masks by test image."""
    rng = np.random.default_rng(5)
    for name in (
        "train/good/000.png",
        "train/good/001.png",
        "test/good/000.png",
        "test/crack/000.png",
        "test/crack/001.png",
        "test/dent/000.png",
    ):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(rng.integers(0, 255, (12, 16), dtype=np.uint8)).save(root / name)
    crack, empty, dent = (np.zeros((12, 16), dtype=bool) for _ in range(3))
    crack[2:5, 3:9] = True
    dent[8:11, 12:15] = True
    dent[0, 0] = True
    masks = {"crack/000": crack, "crack/001": empty, "dent/000": dent}
    for name, mask in masks.items():
        defect, stem = name.split("/")
        path = root / "ground_truth" / defect / f"{stem}_mask.png"
        path.parent.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(mask.astype(np.uint8) * 255, mode="L").save(path)
    return masks


@pytest.mark.django_db
def test_an_mvtec_category_written_by_hand(tmp_path):
    masks = _mvtec_fixture(tmp_path / "bottle")
    (plan,) = dataset_plan(tmp_path / "bottle", format="mvtec")
    assert (plan.name, plan.layout, plan.refused) == ("bottle", "mvtec", [])
    planned = {str(p.path.relative_to(tmp_path / "bottle")): p for p in plan.images}
    assert {name: (p.split, p.verdict, p.defect_type) for name, p in planned.items()} == {
        "train/good/000.png": ("train", "normal", None),
        "train/good/001.png": ("train", "normal", None),
        "test/good/000.png": ("test", "normal", None),
        "test/crack/000.png": ("test", "defective", "crack"),
        "test/crack/001.png": ("test", "defective", "crack"),
        "test/dent/000.png": ("test", "defective", "dent"),
    }
    assert planned["test/dent/000.png"].mask_path == tmp_path / "bottle/ground_truth/dent/000_mask.png"

    user = UserFactory(username="mvtec")
    (summary,) = dataset_import(plans=[plan], project=project_create(name="Line 4", created_by=user))
    assert (summary.added, summary.masks, summary.empty_masks, summary.rejected) == (6, 3, 1, [])
    collection = Collection.objects.get(name="bottle")
    assert sorted(collection.defect_types.values_list("name", flat=True)) == ["crack", "dent"]
    by_content = {hashlib.sha256(p.path.read_bytes()).hexdigest(): name for name, p in planned.items()}
    for image in Image.objects.filter(collection=collection).select_related("annotation"):
        split, folder, file_name = by_content[image.sha256].split("/")
        regions = list(image.annotation.regions.select_related("defect_type"))
        assert image.split == split, image.original_name
        expected = masks.get(f"{folder}/{Path(file_name).stem}")
        if expected is None or not expected.any():  # normal, or a mask that marks nothing
            assert image.annotation.verdict == ("normal" if folder == "good" else "defective"), image
            assert regions == []
            continue
        assert image.annotation.verdict == "defective"
        (region,) = regions
        assert (region.kind, region.precision, region.defect_type.name) == ("mask", "exact", folder)
        assert (mask_decode(region.geometry) == expected).all()
    assert Region.objects.filter(annotation__image__collection=collection).count() == 2
