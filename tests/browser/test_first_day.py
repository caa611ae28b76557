"""A team's first day, from the browser alone, on a fresh database with a real Celery worker: log in,
create a project, a collection and two defect types, add a member as reviewer, drag in a folder and a
zip and see each import job finish with its summary, label a box and move and resize it, drag a polygon
vertex, train, see the models page update on its own, promote with the confirmation, and export the
labels in every format (each file holding the box and the polygon)."""

import base64
import io
import json
import xml.etree.ElementTree as ET
import zipfile

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.models import Collection, Image, Membership, Project, Region, Role
from frontend.views import label_exports as label_exports_view
from inference.models import Job, JobKind, JobStatus, ModelVersion
from inference.services.demo import demo_dataset_write
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_annotator import approx, click, drag, open_annotator, picture
from tests.browser.test_imports import DROP_FOLDER, DROP_ZIP, folder_files
from tests.inference.conftest import broker_dir, celery_worker_process, job_settings, wait_for_job

__all__ = ["broker_dir", "celery_worker_process", "job_settings"]  # fixtures, for this module's test

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]
FORMATS = ("coco", "labelme", "yolo", "cvat", "mvtec")


def _import_summary(page) -> str:
    page.wait_for_selector(".import-summary-line, .import-summary .error", timeout=120_000)
    return page.inner_text("[data-import-summary]")


def _geometry(image: Image, kind: str) -> dict:
    return Region.objects.get(annotation__image=image, kind=kind).geometry


def _saved_after(page, version: int) -> None:
    page.wait_for_function(
        "v => { const r = document.querySelector('#annotator'); return r.dataset.saveState === 'saved'"
        " && +r.dataset.version > v; }",
        arg=version,
    )


def _member(archive: zipfile.ZipFile, suffix: str) -> bytes:
    (name,) = [name for name in archive.namelist() if name.endswith(suffix)]
    return archive.read(name)


def _exported_shapes(format: str, archive: zipfile.ZipFile) -> tuple[list[float], list[float]]:
    """part-0.png's box ([x, y, width, height]) and polygon ([x1, y1, ...]) as an export holds them,
    read from the format's own file."""
    if format == "coco":
        document = json.loads(_member(archive, "annotations.json"))
        (image,) = [i for i in document["images"] if i["file_name"].endswith("part-0.png")]
        found = [a for a in document["annotations"] if a["image_id"] == image["id"]]
        (box,) = [a["bbox"] for a in found if not a["segmentation"]]
        (polygon,) = [a["segmentation"][0] for a in found if a["segmentation"]]
        return box, polygon
    if format == "labelme":
        shapes = {s["shape_type"]: s["points"] for s in json.loads(_member(archive, "part-0.json"))["shapes"]}
        (x1, y1), (x2, y2) = shapes["rectangle"]
        return [x1, y1, x2 - x1, y2 - y1], [value for point in shapes["polygon"] for value in point]
    if format == "yolo":
        lines = [line.split()[1:] for line in _member(archive, "part-0.txt").decode().splitlines()]
        (cx, cy, w, h), polygon = [[float(v) for v in line] for line in sorted(lines, key=len)]
        box = [(cx - w / 2) * 640, (cy - h / 2) * 480, w * 640, h * 480]
        return box, [value * (640 if index % 2 == 0 else 480) for index, value in enumerate(polygon)]
    assert format == "cvat"
    root = ET.fromstring(_member(archive, "annotations.xml"))
    (image,) = [i for i in root.iter("image") if i.get("name").endswith("part-0.png")]
    xtl, ytl, xbr, ybr = (float(image.find("box").get(key)) for key in ("xtl", "ytl", "xbr", "ybr"))
    pairs = image.find("polygon").get("points").split(";")
    return [xtl, ytl, xbr - xtl, ybr - ytl], [float(v) for pair in pairs for v in pair.split(",")]


def _assert_exported(format: str, archive: zipfile.ZipFile, box: dict, points: list) -> None:
    if format == "mvtec":  # one mask painted with both: inside each, and not elsewhere
        mask = np.asarray(PILImage.open(io.BytesIO(_member(archive, "part-0_mask.png"))))
        assert mask.shape == (480, 640) and set(np.unique(mask)) == {0, 255}
        inside_box = (int(box["y"] + box["height"] / 2), int(box["x"] + box["width"] / 2))
        inside_polygon = tuple(int(sum(p[axis] for p in points) / len(points)) for axis in (1, 0))
        assert mask[inside_box] == mask[inside_polygon] == 255 and mask[450, 20] == 0
        return
    exported_box, polygon = _exported_shapes(format, archive)
    assert exported_box == pytest.approx([box["x"], box["y"], box["width"], box["height"]], abs=1e-6), format
    assert polygon == pytest.approx([value for point in points for value in point], abs=1e-6), format


def test_a_team_starts_from_the_browser_alone(page, celery_worker_process, tmp_path, monkeypatch):
    assert not Project.objects.exists()
    engineer = factories.UserFactory(username="quality-engineer")
    factories.UserFactory(username="teammate", email="teammate@example.com")
    celery_worker_process()
    login(page, engineer)

    # Set-up: a project, a collection, two defect types, a reviewer.
    page.fill("input[name=name]", "Brushed plates")
    with page.expect_navigation():
        page.get_by_role("button", name="Create project").click()
    page.fill("#new-collection input[name=name]", "Plate top")
    with page.expect_navigation():
        page.get_by_role("button", name="Create collection").click()
    collection = Collection.objects.get(name="Plate top")
    for name in ("scratch", "dent"):
        form = page.locator("form.new-type")
        form.locator("input[name=new-name]").fill(name)
        with page.expect_navigation():
            form.get_by_role("button", name="Add defect type").click()
    assert sorted(collection.defect_types.values_list("name", flat=True)) == ["dent", "scratch"]
    page.get_by_role("link", name="Brushed plates").click()
    page.fill("#members input[name=user]", "teammate")
    page.select_option("#members select[name=role]", "reviewer")
    with page.expect_navigation():
        page.get_by_role("button", name="Add member").click()
    assert Membership.objects.get(user__username="teammate").role == Role.REVIEWER

    # A folder in the MVTec AD layout, then a zip of plain pictures, each an import job the worker runs.
    category = demo_dataset_write(root=tmp_path / "drop", train=8, test_normal=2, test_per_defect=1)
    defects = len(list((category / "ground_truth").iterdir()))
    page.goto(f"/collections/{collection.pk}/")
    page.evaluate(DROP_FOLDER, folder_files(category))  # dragged in: walked through its entries
    summary = _import_summary(page)
    folder_images = 8 + 2 + defects
    assert summary.strip() == (
        f"Imported from the MVTec AD layout: {folder_images} images added, 0 already in the collection"
        f" (skipped), 0 refused; {defects} ground-truth masks read; {folder_images} images labeled from"
        " their folders."
    )
    assert collection.images.count() == folder_images
    assert collection.images.filter(split="train", annotation__verdict="normal").count() == 8
    pictures = io.BytesIO()
    with zipfile.ZipFile(pictures, "w") as archive:
        for seed in range(3):
            archive.writestr(f"line-4/part-{seed}.png", picture(seed=20 + seed))
    page.evaluate(DROP_ZIP, ["line-4.zip", base64.b64encode(pictures.getvalue()).decode()])
    page.wait_for_function(
        "() => document.querySelector('[data-import-summary]').innerText.includes('plain folder')",
        timeout=120_000,
    )
    assert page.inner_text("[data-import-summary]").strip() == (
        "Imported from a plain folder: 3 images added, 0 already in the collection (skipped), 0 refused."
    )
    assert collection.images.count() == folder_images + 3
    assert Job.objects.filter(kind=JobKind.IMPORT, status=JobStatus.SUCCEEDED).count() == 2
    screenshot(page, "first-day-imported.png")

    # A box drawn, moved and resized; a polygon's vertex dragged.
    part = Image.objects.get(collection=collection, original_name="part-0.png")
    open_annotator(page, part)
    page.keyboard.press("b")
    drag(page, (100, 100), (200, 180))
    _saved_after(page, 0)
    page.keyboard.press("v")
    click(page, 150, 140)
    drag(page, (150, 140), (190, 170))
    _saved_after(page, 1)
    drag(page, (240, 210), (300, 260))
    _saved_after(page, 2)
    box = _geometry(part, "box")
    assert approx(box["x"], 140, 1.5) and approx(box["y"], 130, 1.5), box
    assert approx(box["width"], 160, 1.5) and approx(box["height"], 130, 1.5), box
    page.keyboard.press("Escape")
    page.keyboard.press("p")
    for x, y in [(400, 100), (520, 100), (460, 220)]:
        click(page, x, y)
    page.keyboard.press("Enter")
    _saved_after(page, 3)
    page.keyboard.press("v")
    click(page, 460, 140)
    drag(page, (460, 220), (470, 300))
    _saved_after(page, 4)
    points = _geometry(part, "polygon")["points"]
    assert approx(points[2][0], 470, 1.5) and approx(points[2][1], 300, 1.5), points
    screenshot(page, "first-day-annotated.png")

    # Train from the models page; the page shows the new version by itself when the worker is done.
    page.goto(f"/collections/{collection.pk}/models/")
    page.select_option("form.train-form select[name=algorithm]", "patchcore")
    page.fill("form.train-form input[name=image_size]", "128")
    with page.expect_navigation():
        page.get_by_role("button", name="Train").click()
    page.evaluate("window.notReloaded = true")
    training = Job.objects.get(kind=JobKind.TRAIN)
    wait_for_job(training.pk, timeout=300)
    version = ModelVersion.objects.get(collection=collection)
    page.wait_for_selector(f"tr[data-version-id='{version.pk}'] button[data-show-version]", timeout=60_000)
    assert page.evaluate("window.notReloaded") is True
    screenshot(page, "first-day-trained.png")

    # Promote, confirmed.
    page.click(f"button[data-show-version='{version.pk}']")
    page.wait_for_selector("#promote:not([disabled])")
    page.click("#promote")
    page.locator("dialog.confirm-dialog").get_by_role("button", name="Promote").click()
    page.wait_for_function("() => document.querySelector('#promote').textContent === 'In production'")
    version.refresh_from_db()
    assert version.promoted_by == engineer

    # The labels, in every format, from the collection page: each holds the box and the polygon.
    page.goto(f"/collections/{collection.pk}/")
    for name in FORMATS:
        page.select_option(".label-exports select[name=format]", name)
        with page.expect_download() as download:
            page.locator(".label-exports").get_by_role("button", name="Export labels").click()
        with zipfile.ZipFile(download.value.path()) as exported:
            assert any(entry.endswith("part-0.png") for entry in exported.namelist()), name
            _assert_exported(name, exported, box, points)
    # A large collection's export runs in the background and is listed with its download.
    monkeypatch.setattr(label_exports_view, "DIRECT_EXPORT_LIMIT", 0)
    page.select_option(".label-exports select[name=format]", "cvat")
    with page.expect_navigation():
        page.locator(".label-exports").get_by_role("button", name="Export labels").click()
    wait_for_job(Job.objects.get(kind=JobKind.LABEL_EXPORT).pk, timeout=120)
    page.reload()
    listed = page.locator(".label-export-list li").first
    assert listed.get_attribute("data-status") == "succeeded"
    with page.expect_download() as download:
        listed.get_by_role("link").click()
    with zipfile.ZipFile(download.value.path()) as exported:
        _assert_exported("cvat", exported, box, points)
    page.locator(".label-exports").scroll_into_view_if_needed()
    screenshot(page, "first-day-label-exports.png")
    assert page.errors == [], page.errors
