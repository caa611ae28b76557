"""Editing drawn regions in Chromium: boxes moved and resized, polygon vertices dragged, added and
deleted, points and scribbles moved; every edit undoable and saved on top of the version it read."""

import pytest

from annotations.models import Annotation, Region
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from tests import factories
from tests.browser.conftest import login, screenshot
from tests.browser.test_annotator import (
    STAGE,
    approx,
    click,
    drag,
    open_annotator,
    picture,
    regions_listed,
    to_page,
    wait_saved,
)
from tests.frontend.helpers import add_image, label

pytestmark = pytest.mark.django_db(transaction=True)

SQUARE = [[100.0, 100.0], [300.0, 100.0], [300.0, 300.0], [100.0, 300.0]]


def saved_geometry(image, kind: str) -> dict:
    return Region.objects.get(annotation__image=image, kind=kind).geometry


def cursor_at(page, x: float, y: float) -> str:
    page.mouse.move(*to_page(page, x, y))
    return page.locator(STAGE).evaluate("e => e.style.cursor")


def edited(page, image, version: int) -> Annotation:
    """Wait for the edit after `version` to be saved; the annotation as stored."""
    page.wait_for_function(
        "v => { const r = document.querySelector('#annotator'); return r.dataset.saveState === 'saved'"
        " && +r.dataset.version > v; }",
        arg=version,
    )
    return Annotation.objects.get(image=image)


def test_a_box_is_moved_and_resized_inside_the_image(page):
    team = factories.team()
    image = add_image(team.collection, "plate.png", seed=0, content=picture(seed=5))
    login(page, team.annotator)
    open_annotator(page, image)
    page.keyboard.press("b")
    drag(page, (100, 100), (200, 180))
    version = edited(page, image, 0).version

    # With the select tool the pointer says what a drag will do.
    page.keyboard.press("v")
    click(page, 150, 140)
    assert cursor_at(page, 150, 140) == "move"
    assert cursor_at(page, 200, 180) == "nwse-resize"
    assert cursor_at(page, 150, 100) == "ns-resize"
    assert cursor_at(page, 400, 400) == ""

    # Drag inside: the box moves, its size kept.
    drag(page, (150, 140), (190, 170))
    annotation = edited(page, image, version)
    box = saved_geometry(image, "box")
    assert approx(box["x"], 140, 1.5) and approx(box["y"], 130, 1.5), box
    assert approx(box["width"], 100, 0.5) and approx(box["height"], 80, 0.5), box

    # The bottom-right corner resizes; the top-left one, dragged past the image, stops at its edge.
    drag(page, (240, 210), (300, 260))
    drag(page, (140, 130), (-60, -60))
    annotation = edited(page, image, annotation.version)
    box = saved_geometry(image, "box")
    assert (box["x"], box["y"]) == (0, 0), box
    assert approx(box["width"], 300, 1.5) and approx(box["height"], 260, 1.5), box

    # A side dragged over the opposite one stops at the minimum size instead of flipping.
    drag(page, (300, 130), (-100, 130))
    annotation = edited(page, image, annotation.version)
    box = saved_geometry(image, "box")
    assert box["x"] == 0 and 1 <= box["width"] <= 4, box

    # Undo puts the width back; moving past the bottom-right stops at the edges.
    page.keyboard.press("Control+z")
    annotation = edited(page, image, annotation.version)
    assert approx(saved_geometry(image, "box")["width"], 300, 1.5)
    drag(page, (150, 130), (900, 900))
    annotation = edited(page, image, annotation.version)
    box = saved_geometry(image, "box")
    assert box["x"] + box["width"] == 640 and box["y"] + box["height"] == 480, box
    assert approx(box["width"], 300, 1.5)

    # Zoomed in 4×, a handle is still grabbed 4 screen pixels off its corner (handles keep their
    # screen size), and the drag's distance is in image pixels.
    stage = page.locator(STAGE)
    scale = float(stage.get_attribute("data-scale"))
    page.mouse.move(*to_page(page, box["x"], box["y"]))
    for _ in range(4):
        page.mouse.wheel(0, -240)
    zoomed = float(stage.get_attribute("data-scale"))
    assert zoomed > scale * 3
    x, y = to_page(page, box["x"], box["y"])
    page.mouse.move(x - 4, y - 4)
    page.mouse.down()
    page.mouse.move(x - 4 - 20 * zoomed, y - 4, steps=6)
    page.mouse.up()
    annotation = edited(page, image, annotation.version)
    resized = saved_geometry(image, "box")
    assert approx(resized["x"], box["x"] - 20, 1.5) and resized["x"] + resized["width"] == 640, resized
    assert annotation.updated_by == team.annotator
    assert regions_listed(page) == ["Box"]
    assert page.errors == []


def test_polygon_vertices_points_and_scribbles(page):
    team = factories.team()
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    image = add_image(team.collection, "edges.png", seed=0, content=picture(seed=6))
    label(
        image,
        author=team.manager,
        verdict="defective",
        regions=[
            RegionInput(kind="polygon", geometry={"points": SQUARE}, defect_type_id=dent.pk),
            RegionInput(kind="point", geometry={"x": 450.0, "y": 400.0}, defect_type_id=None),
            RegionInput(
                kind="scribble",
                geometry={"points": [[400.0, 100.0], [500.0, 150.0]], "width": 8.0},
                defect_type_id=None,
                precision="rough",
            ),
        ],
    )
    login(page, team.annotator)
    open_annotator(page, image)
    page.keyboard.press("v")
    click(page, 200, 200)
    assert page.locator(".region-item[aria-pressed='true'] .region-kind").inner_text() == "Polygon"

    # Drag a vertex.
    assert cursor_at(page, 300, 300) == "crosshair"
    drag(page, (300, 300), (350, 320))
    annotation = edited(page, image, 1)
    points = saved_geometry(image, "polygon")["points"]
    assert len(points) == 4 and approx(points[2][0], 350, 1.5) and approx(points[2][1], 320, 1.5), points

    # A double-click on an edge adds a vertex there; so does an Alt-click.
    page.mouse.dblclick(*to_page(page, 200, 100))
    page.keyboard.down("Alt")
    assert cursor_at(page, 100, 200) == "copy"
    click(page, 100, 200)
    page.keyboard.up("Alt")
    annotation = edited(page, image, annotation.version)
    points = saved_geometry(image, "polygon")["points"]
    assert len(points) == 6, points
    assert approx(points[1][0], 200, 1.5) and approx(points[1][1], 100, 1.5), points
    assert approx(points[5][0], 100, 1.5) and approx(points[5][1], 200, 1.5), points

    # A right-click on a vertex removes it, and so does Delete on a selected vertex.
    page.mouse.click(*to_page(page, 200, 100), button="right")
    click(page, 100, 200)
    page.keyboard.press("Delete")
    annotation = edited(page, image, annotation.version)
    points = saved_geometry(image, "polygon")["points"]
    assert [[round(x), round(y)] for x, y in points] == [[100, 100], [300, 100], [350, 320], [100, 300]]

    # Never below three vertices: the fourth goes, the third stays, and the page says why.
    click(page, 100, 300)
    page.keyboard.press("Delete")
    annotation = edited(page, image, annotation.version)
    click(page, 100, 100)
    page.keyboard.press("Delete")
    assert "at least 3 vertices" in page.locator(".save-status").inner_text()
    assert regions_listed(page) == ["Polygon", "Point", "Scribble"]
    screenshot(page, "annotator-edit.png")

    # A point and a scribble move with a drag (the scribble stops at the image's edge).
    drag(page, (450, 400), (500, 430))
    drag(page, (450, 125), (700, 125))
    annotation = edited(page, image, annotation.version)
    point = saved_geometry(image, "point")
    assert approx(point["x"], 500, 1.5) and approx(point["y"], 430, 1.5), point
    scribble = saved_geometry(image, "scribble")
    assert scribble["points"][1][0] == 640 and approx(scribble["points"][0][0], 540, 1.5), scribble
    assert len(saved_geometry(image, "polygon")["points"]) == 3
    polygon = Region.objects.get(annotation=annotation, kind="polygon")
    assert polygon.defect_type == dent and polygon.precision == "exact"

    # Undo takes back the scribble's move, then the point's: the server gets each state.
    page.keyboard.press("Control+z")
    page.keyboard.press("Control+z")
    annotation = edited(page, image, annotation.version)
    assert approx(saved_geometry(image, "point")["x"], 450, 1.5)
    assert approx(saved_geometry(image, "scribble")["points"][0][0], 400, 1.5)
    assert page.errors == []


def test_an_edit_on_a_stale_version_is_refused_and_keeps_theirs(page):
    team = factories.team()
    image = add_image(team.collection, "shared.png", seed=0, content=picture(seed=7))
    mine = {"x": 100.0, "y": 100.0, "width": 80.0, "height": 60.0}
    label(image, author=team.annotator, verdict="defective", regions=[RegionInput(kind="box", geometry=mine)])
    login(page, team.annotator)
    open_annotator(page, image)

    theirs = {"x": 10.0, "y": 10.0, "width": 50.0, "height": 40.0}
    stored = label(image, author=team.reviewer, regions=[RegionInput(kind="box", geometry=theirs)])
    page.keyboard.press("v")
    drag(page, (140, 130), (300, 300))

    wait_saved(page, "conflict")
    assert "NOT saved" in page.locator(".annotator-banner").inner_text()
    annotation = Annotation.objects.get(image=image)
    assert annotation.version == stored.version and annotation.updated_by == team.reviewer
    assert list(annotation.regions.values_list("geometry", flat=True)) == [theirs]
    assert [e for e in page.errors if "412 (Precondition Failed)" not in e] == []
