"""The annotator in Chromium: draw with the mouse, save, reload, and never overwrite someone else."""

import io

import numpy as np
import pytest
from PIL import Image as PILImage

from annotations.geometry import mask_bounds
from annotations.models import Annotation, Image, Region
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.frontend.helpers import add_image, label

pytestmark = pytest.mark.django_db(transaction=True)

STAGE = ".annotator-stage"


def picture(width: int = 640, height: int = 480, seed: int = 0) -> bytes:
    """A brushed-metal-like RGB image, big enough to draw on."""
    rng = np.random.default_rng(seed)
    rows = np.linspace(0, 1, height)[:, None]
    grain = rng.normal(0, 6, size=(height, width)) + rng.normal(0, 10, size=(1, width))
    gray = 110 + 50 * rows + grain
    tint = np.array([1.0, 1.02, 1.06]) if seed % 2 else np.array([1.05, 1.0, 0.95])
    pixels = np.clip(gray[..., None] * tint, 0, 255).astype(np.uint8)
    out = io.BytesIO()
    PILImage.fromarray(pixels, mode="RGB").save(out, format="PNG")
    return out.getvalue()


def open_annotator(page, image: Image) -> None:
    page.goto(f"/images/{image.pk}/annotate/")
    wait_saved(page, "saved")


def wait_saved(page, state: str = "saved") -> None:
    try:
        page.wait_for_selector(f"#annotator[data-save-state='{state}']")
    except Exception as error:
        status = page.locator(".save-status").all_text_contents()
        raise AssertionError(f"the annotator never reached {state!r}: {status} {page.errors}") from error


def to_page(page, x: float, y: float) -> tuple[float, float]:
    """Image pixels → page coordinates, from the stage's transform (the canvas publishes it)."""
    stage = page.locator(STAGE)
    box = stage.bounding_box()
    view = stage.evaluate("e => ({s: +e.dataset.scale, x: +e.dataset.x, y: +e.dataset.y})")
    return box["x"] + view["x"] + x * view["s"], box["y"] + view["y"] + y * view["s"]


def drag(page, start: tuple[float, float], end: tuple[float, float]) -> None:
    page.mouse.move(*to_page(page, *start))
    page.mouse.down()
    page.mouse.move(*to_page(page, *end), steps=10)
    page.mouse.up()


def click(page, x: float, y: float) -> None:
    page.mouse.click(*to_page(page, x, y))


def regions_listed(page) -> list[str]:
    return page.locator(".region-item .region-kind").all_text_contents()


def approx(value: float, expected: float, tolerance: float = 4) -> bool:
    return abs(value - expected) <= tolerance


def test_upload_draw_save_reload(page):
    team = factories.team()
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    login(page, team.annotator)

    # Upload from the grid: two images and a file that is not one, which is reported on its own.
    page.goto(f"/collections/{team.collection.pk}/")
    page.set_input_files(
        ".upload-form input[type=file]",
        [
            {"name": "panel-a.png", "mimeType": "image/png", "buffer": picture(seed=1)},
            {"name": "panel-b.png", "mimeType": "image/png", "buffer": picture(seed=2)},
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not an image"},
        ],
    )
    page.click(".upload-form button[type=submit]")
    page.wait_for_selector(".message-success")
    assert "2 images added" in page.locator(".message-success").inner_text()
    assert "notes.txt: the file is not an image" in page.locator(".message-error").inner_text()
    image = Image.objects.get(collection=team.collection, original_name="panel-a.png")
    assert (image.width, image.height) == (640, 480)

    # The grid links every image to the annotator; once loaded, its tools are ready.
    page.click(f".tile[data-image-id='{image.pk}'] .tile-annotate")
    wait_saved(page)
    assert page.locator(".tool-button[data-tool='box']").is_enabled()
    assert page.locator(".verdict-button[data-verdict='normal']").is_enabled()
    assert page.errors == []

    # A box of "dent" (the collection's second defect type: hotkey 2), exact.
    page.keyboard.press("2")
    page.keyboard.press("b")
    drag(page, (100, 100), (200, 180))
    assert regions_listed(page) == ["Box"]
    # Undo and redo.
    page.keyboard.press("Control+z")
    assert regions_listed(page) == []
    page.keyboard.press("Control+Shift+z")
    assert regions_listed(page) == ["Box"]

    # A rough polygon of "scratch" (hotkey 1): clicks, then Enter.
    page.keyboard.press("Escape")
    page.keyboard.press("1")
    page.keyboard.press("x")
    page.keyboard.press("p")
    for x, y in [(300, 100), (420, 120), (360, 220)]:
        click(page, x, y)
    page.keyboard.press("Enter")
    assert regions_listed(page) == ["Box", "Polygon"]

    # A brush mask, back to exact.
    page.keyboard.press("Escape")
    page.keyboard.press("x")
    page.keyboard.press("r")
    drag(page, (100, 320), (300, 320))
    assert regions_listed(page) == ["Box", "Polygon", "Mask"]
    page.keyboard.press("v")

    wait_saved(page)
    screenshot(page, "annotator-drawn.png")

    # The shortcut sheet.
    page.keyboard.press("?")
    assert page.locator("dialog.shortcut-sheet").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("dialog.shortcut-sheet").is_visible()

    # In the database: three regions where they were drawn; the image became defective.
    annotation = Annotation.objects.get(image=image)
    assert annotation.verdict == "defective"
    assert annotation.updated_by == team.annotator
    regions = {r.kind: r for r in Region.objects.filter(annotation=annotation)}
    assert set(regions) == {"box", "polygon", "mask"}
    box = regions["box"].geometry
    assert approx(box["x"], 100) and approx(box["y"], 100), box
    assert approx(box["width"], 100) and approx(box["height"], 80), box
    assert regions["box"].defect_type == dent and regions["box"].precision == "exact"
    points = regions["polygon"].geometry["points"]
    assert len(points) == 3
    for (x, y), (ex, ey) in zip(points, [(300, 100), (420, 120), (360, 220)], strict=True):
        assert approx(x, ex) and approx(y, ey), points
    assert regions["polygon"].defect_type == team.defect_type and regions["polygon"].precision == "rough"
    mask = regions["mask"].geometry
    assert (mask["width"], mask["height"]) == (640, 480)
    x, y, width, height = mask_bounds(mask)
    assert approx(x, 100, 12) and approx(x + width, 300, 12), (x, width)
    assert approx(y + height / 2, 320, 4) and 4 <= height <= 40, (y, height)
    assert regions["mask"].precision == "exact"

    # Reload: the regions come back from the server.
    page.reload()
    wait_saved(page)
    assert regions_listed(page) == ["Box", "Polygon", "Mask"]
    assert page.locator(".verdict-button[data-verdict='defective']").get_attribute("aria-pressed") == "true"

    # Select the box by clicking its edge, delete it; the deletion is saved.
    page.keyboard.press("v")
    click(page, 100, 140)
    assert page.locator(".region-item[aria-pressed='true'] .region-kind").inner_text() == "Box"
    page.keyboard.press("Delete")
    assert regions_listed(page) == ["Polygon", "Mask"]
    page.keyboard.press("n")
    wait_saved(page)
    annotation.refresh_from_db()
    assert annotation.verdict == "normal"
    assert sorted(Region.objects.filter(annotation=annotation).values_list("kind", flat=True)) == [
        "mask",
        "polygon",
    ]
    screenshot(page, "annotator-reloaded.png")

    # ] goes to the next image of the collection.
    next_image = Image.objects.get(collection=team.collection, original_name="panel-b.png")
    page.keyboard.press("]")
    page.wait_for_url(f"**/images/{next_image.pk}/annotate/")
    wait_saved(page)
    assert page.errors == []
    assert page.dialogs == []


def test_stale_edit_shows_conflict_and_keeps_their_labels(page):
    team = factories.team()
    image = add_image(team.collection, "shared.png", seed=0, content=picture(seed=3))
    login(page, team.annotator)
    open_annotator(page, image)

    # Meanwhile a reviewer labels the same image.
    theirs = label(
        image,
        author=team.reviewer,
        verdict="defective",
        regions=[
            RegionInput(
                kind="box",
                geometry={"x": 10.0, "y": 10.0, "width": 50.0, "height": 40.0},
                defect_type_id=team.defect_type.pk,
            )
        ],
    )

    # The annotator's edit, based on the version read before, is refused: a banner says so.
    page.keyboard.press("b")
    drag(page, (300, 300), (400, 380))
    wait_saved(page, "conflict")
    banner = page.locator(".annotator-banner")
    assert banner.is_visible()
    assert "NOT saved" in banner.inner_text()
    assert team.reviewer.username in banner.inner_text()
    screenshot(page, "annotator-conflict.png")

    annotation = Annotation.objects.get(image=image)
    assert annotation.version == theirs.version
    assert annotation.updated_by == team.reviewer
    assert list(annotation.regions.values_list("kind", "geometry")) == [
        ("box", {"x": 10.0, "y": 10.0, "width": 50.0, "height": 40.0})
    ]
    # Nothing can be changed until their labels are loaded.
    assert page.locator(".tool-button[data-tool='box']").is_disabled()

    page.click(".annotator-banner button")
    wait_saved(page)
    assert not banner.is_visible()
    assert regions_listed(page) == ["Box"]

    # Editing on top of theirs works again: a point and a scribble (rough by nature).
    page.keyboard.press("o")
    click(page, 320, 240)
    page.keyboard.press("s")
    drag(page, (100, 400), (250, 420))
    assert regions_listed(page) == ["Box", "Point", "Scribble"]
    wait_saved(page)
    annotation.refresh_from_db()
    assert annotation.version > theirs.version
    regions = {r.kind: r for r in annotation.regions.all()}
    assert sorted(regions) == ["box", "point", "scribble"]
    point = regions["point"].geometry
    assert approx(point["x"], 320) and approx(point["y"], 240), point
    scribble = regions["scribble"]
    assert scribble.precision == "rough" and scribble.geometry["width"] > 1
    assert approx(scribble.geometry["points"][0][0], 100) and approx(scribble.geometry["points"][-1][0], 250)
    # The browser logs the refused PUT; nothing else went wrong.
    assert [e for e in page.errors if "412 (Precondition Failed)" not in e] == []


def test_viewer_sees_read_only(page):
    team = factories.team()
    image = add_image(team.collection, "look.png", seed=0, content=picture(seed=4))
    label(
        image,
        author=team.annotator,
        verdict="defective",
        regions=[RegionInput(kind="point", geometry={"x": 20.0, "y": 30.0}, defect_type_id=None)],
    )
    login(page, team.viewer)
    # The image page links to the annotator.
    page.goto(f"/images/{image.pk}/")
    page.click("text=Annotate")
    wait_saved(page, "readonly")
    assert "Read only" in page.locator(".annotator-banner").inner_text()
    assert regions_listed(page) == ["Point"]
    assert page.locator(".tool-button[data-tool='box']").is_disabled()
    page.keyboard.press("b")
    drag(page, (100, 100), (200, 200))
    page.keyboard.press("d")
    assert regions_listed(page) == ["Point"]
    assert Annotation.objects.get(image=image).version == 1

    # Zoom at the pointer with the wheel, pan with the middle button, fit again with F.
    stage = page.locator(STAGE)
    scale = float(stage.get_attribute("data-scale"))
    page.mouse.move(*to_page(page, 320, 240))
    page.mouse.wheel(0, -400)
    zoomed = float(stage.get_attribute("data-scale"))
    assert zoomed > scale * 1.5
    x = float(stage.get_attribute("data-x"))
    page.mouse.down(button="middle")
    page.mouse.move(*to_page(page, 200, 240), steps=5)
    page.mouse.up(button="middle")
    assert float(stage.get_attribute("data-x")) < x - 50
    page.keyboard.press("f")
    assert float(stage.get_attribute("data-scale")) == pytest.approx(scale)
    assert page.errors == []
