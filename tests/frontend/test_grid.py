import re

import pytest
from django.urls import reverse

from annotations.models import DefectType
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from frontend import views
from tests.frontend.helpers import add_image, label

BOX = {"x": 2.0, "y": 2.0, "width": 5.0, "height": 4.0}


@pytest.fixture
def grid(team):
    """first.png (unlabeled) plus four images with splits, verdicts and defect types."""
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    images = {
        "first.png": team.image,
        "scratched.png": add_image(team.collection, "scratched.png", seed=1, split="train"),
        "dented.png": add_image(team.collection, "dented.png", seed=2, split="test"),
        "good.png": add_image(team.collection, "good.png", seed=3, split="train"),
        "unsure.png": add_image(team.collection, "unsure.png", seed=4, split="test"),
    }
    label(
        images["scratched.png"],
        author=team.annotator,
        verdict="defective",
        regions=[RegionInput(kind="box", geometry=BOX, defect_type_id=team.defect_type.pk)],
    )
    label(
        images["dented.png"],
        author=team.annotator,
        verdict="defective",
        regions=[
            RegionInput(kind="box", geometry=BOX, defect_type_id=dent.pk),
            RegionInput(kind="point", geometry={"x": 3.0, "y": 3.0}, defect_type_id=dent.pk),
        ],
    )
    label(images["good.png"], author=team.annotator, verdict="normal")
    label(images["unsure.png"], author=team.annotator, verdict="unsure")
    return {"team": team, "images": images, "dent": dent}


def tile_names(html: str) -> list[str]:
    return re.findall(r'<span class="tile-name" title="[^"]*">([^<]*)</span>', html)


def test_grid_shows_tiles_with_badges_and_counts(client, grid):
    team = grid["team"]
    client.force_login(team.viewer)
    response = client.get(reverse("collection-detail", args=[team.collection.pk]))
    assert response.status_code == 200
    html = response.content.decode()

    assert tile_names(html) == ["first.png", "scratched.png", "dented.png", "good.png", "unsure.png"]
    assert html.count('loading="lazy"') == 5
    for image in grid["images"].values():
        assert reverse("image-thumbnail", args=[image.pk]) in html
    dented = html[html.index(f'data-image-id="{grid["images"]["dented.png"].pk}"') :]
    dented = dented[: dented.index("</li>")]
    assert '<span class="badge verdict verdict-defective">Defective</span>' in dented
    assert "Test" in dented and "dent" in dented and "2 regions" in dented and "scratch" not in dented
    assert '<span class="badge verdict verdict-unlabeled">Unlabeled</span>' in html
    assert '<span class="badge verdict verdict-normal">Normal</span>' in html
    assert '<span class="badge verdict verdict-unsure">Unsure</span>' in html
    # Counts summary
    assert 'data-count="total">5<' in html
    assert 'data-count="split-train">2<' in html
    assert 'data-count="split-test">2<' in html
    assert 'data-count="split-unassigned">1<' in html
    assert 'data-count="verdict-defective">2<' in html
    assert 'data-count="verdict-unlabeled">1<' in html


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"split": "train"}, ["scratched.png", "good.png"]),
        ({"verdict": "defective"}, ["scratched.png", "dented.png"]),
        ({"verdict": "defective", "split": "test"}, ["dented.png"]),
        ({"defect_type": "dent"}, ["dented.png"]),
        ({"defect_type": "scratch", "split": "test"}, []),
        ({"split": "bogus"}, ["first.png", "scratched.png", "dented.png", "good.png", "unsure.png"]),
    ],
)
def test_filters_narrow_the_grid(client, grid, params, expected):
    team = grid["team"]
    if "defect_type" in params:
        params["defect_type"] = DefectType.objects.get(
            collection=team.collection, name=params["defect_type"]
        ).pk
    client.force_login(team.viewer)
    html = client.get(reverse("collection-detail", args=[team.collection.pk]), params).content.decode()
    assert tile_names(html) == expected
    assert f'data-count="matching">{len(expected)} image' in html
    # The summary stays the collection's.
    assert 'data-count="total">5<' in html


def test_another_teams_defect_type_is_not_a_filter(client, grid, other_team):
    client.force_login(grid["team"].viewer)
    url = reverse("collection-detail", args=[grid["team"].collection.pk])
    html = client.get(url, {"defect_type": other_team.defect_type.pk}).content.decode()
    assert len(tile_names(html)) == 5


def test_pages_follow_the_id_cursor(client, grid, monkeypatch):
    monkeypatch.setattr(views, "GRID_PAGE_SIZE", 2)
    team = grid["team"]
    client.force_login(team.viewer)
    url = reverse("collection-detail", args=[team.collection.pk])
    ids = [image.pk for image in grid["images"].values()]

    first = client.get(url).content.decode()
    assert tile_names(first) == ["first.png", "scratched.png"]
    assert 'rel="prev"' not in first
    assert f'href="?after={ids[1]}"' in first

    second = client.get(url, {"after": ids[1]}).content.decode()
    assert tile_names(second) == ["dented.png", "good.png"]
    assert f'href="?before={ids[2]}"' in second
    assert f'href="?after={ids[3]}"' in second

    last = client.get(url, {"after": ids[3]}).content.decode()
    assert tile_names(last) == ["unsure.png"]
    assert 'rel="next"' not in last
    assert f'href="?before={ids[4]}"' in last

    back = client.get(url, {"before": ids[4]}).content.decode()
    assert tile_names(back) == ["dented.png", "good.png"]

    # Filters travel with the cursor.
    filtered = client.get(url, {"split": "train", "verdict": "", "after": 0}).content.decode()
    assert tile_names(filtered) == ["scratched.png", "good.png"]
    assert 'rel="next"' not in filtered


def test_grid_page_costs_a_fixed_number_of_queries(client, grid, django_assert_max_num_queries):
    team = grid["team"]
    client.force_login(team.viewer)
    url = reverse("collection-detail", args=[team.collection.pk])
    # However many images: session, user, the page's reads, the jobs, and the role for the upload form.
    with django_assert_max_num_queries(11):
        client.get(url, {"after": grid["images"]["scratched.png"].pk})


def test_another_teams_collection_is_a_404(client, team, other_team):
    client.force_login(team.manager)
    assert client.get(reverse("collection-detail", args=[other_team.collection.pk])).status_code == 404


def test_defect_type_name_is_escaped_in_the_grid(client, team):
    xss, _ = defect_type_get_or_create(collection=team.collection, name="<script>alert(1)</script>")
    label(
        team.image,
        author=team.annotator,
        verdict="defective",
        regions=[RegionInput(kind="box", geometry=BOX, defect_type_id=xss.pk)],
    )
    client.force_login(team.viewer)
    html = client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 3  # legend, filter option, tile
