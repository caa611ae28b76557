import re

import pytest
from django.urls import reverse

from annotations.models import Annotation, DefectType
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from frontend.views import collection as views
from inference.models import Prediction
from inference.services.reviews import review_submit
from tests.frontend.helpers import add_image, label
from tests.inference.helpers import scored_version

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


def test_grid_page_costs_a_fixed_number_of_queries(client, scored, django_assert_max_num_queries):
    team = scored["team"]
    client.force_login(team.annotator)
    url = reverse("collection-detail", args=[team.collection.pk])
    # However many images, scores and reviews: session, user, the collection, the active model (two),
    # the page and whether one comes before it, the defect types, the regions, the scores, the reviews,
    # the counts, the role for the upload form and selection, the jobs, the defect types of the filter,
    # the images the model has not scored (for "Score"), the label exports, the collection's size
    # (which tells whether its counts may be kept: asked once a minute).
    with django_assert_max_num_queries(18):
        response = client.get(url, {"after": scored["images"]["first.png"].pk, "order": ""})
    assert len(tile_names(response.content.decode())) == 4
    # Ordered by score: also the cursor's score, and the count of the images that have one.
    with django_assert_max_num_queries(20):
        client.get(url, {"order": "-score", "after": scored["images"]["scratched.png"].pk})


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


def _review(image, reviewer, decision):
    prediction = Prediction.objects.get(image=image)
    version = Annotation.objects.get(image=image).version
    return review_submit(
        prediction=prediction, reviewer=reviewer, decision=decision, expected_version=version
    )


@pytest.fixture
def scored(grid):
    """The grid scored by a model (first.png has no score; dented and unsure tie), with reviews."""
    team, images = grid["team"], grid["images"]
    # Raw scores: the normalized score is half of them, with 0.5 at the threshold.
    raw = {"scratched.png": 1.8, "dented.png": 1.2, "good.png": 0.4, "unsure.png": 1.2}
    version = scored_version(
        team.collection, {images[name]: score for name, score in raw.items()}, test=False
    )
    _review(images["scratched.png"], team.reviewer, "true_defect")
    _review(images["good.png"], team.manager, "unsure")
    _review(images["good.png"], team.reviewer, "false_positive")
    return {**grid, "version": version}


def tile_html(html: str, image) -> str:
    tile = html[html.index(f'data-image-id="{image.pk}"') :]
    return tile[: tile.index("</li>")]


def test_tiles_show_the_score_and_the_last_review(client, scored):
    team, images = scored["team"], scored["images"]
    client.force_login(team.viewer)
    html = client.get(reverse("collection-detail", args=[team.collection.pk])).content.decode()

    assert f"Scores of model {scored['version'].pk}" in html
    scratched = tile_html(html, images["scratched.png"])
    assert 'class="score score-above"' in scratched
    assert '<span class="score-value">0.90</span>' in scratched and "width: 90%" in scratched
    assert '<span class="badge review review-true_defect">True Defect</span>' in scratched
    assert f"by {team.reviewer.username}" in scratched
    good = tile_html(html, images["good.png"])
    assert 'class="score score-below"' in good and '<span class="score-value">0.20</span>' in good
    # The last of its two reviews.
    assert "review-false_positive" in good and "review-unsure" not in good
    dented = tile_html(html, images["dented.png"])
    assert '<span class="badge review">Not reviewed</span>' in dented
    first = tile_html(html, images["first.png"])
    assert "score-value" not in first and "Not reviewed" in first


def test_without_a_model_there_is_no_score_and_no_score_filter(client, grid):
    team = grid["team"]
    client.force_login(team.viewer)
    url = reverse("collection-detail", args=[team.collection.pk])
    html = client.get(url).content.decode()
    assert "score-value" not in html and "Not reviewed" not in html and 'name="score_min"' not in html
    # A score filter cannot match without scores.
    html = client.get(url, {"score_min": 0}).content.decode()
    assert tile_names(html) == []
    assert "No image matches these filters." in html


@pytest.mark.parametrize(
    "params, expected",
    [
        ({"score_min": 0.5}, ["scratched.png", "dented.png", "unsure.png"]),
        ({"score_max": 0.5}, ["good.png"]),
        ({"score_min": 0.5, "score_max": 0.7}, ["dented.png", "unsure.png"]),
        ({"score_min": 0.5, "verdict": "defective"}, ["scratched.png", "dented.png"]),
        ({"score_min": 2}, ["first.png", "scratched.png", "dented.png", "good.png", "unsure.png"]),
        ({"reviewed": "yes"}, ["scratched.png", "good.png"]),
        ({"reviewed": "no"}, ["first.png", "dented.png", "unsure.png"]),
        ({"reviewed": "no", "score_min": 0.5}, ["dented.png", "unsure.png"]),
        # Ties in score go by id, the same way as the score; images without a score are left out.
        ({"order": "-score"}, ["scratched.png", "unsure.png", "dented.png", "good.png"]),
        ({"order": "score"}, ["good.png", "dented.png", "unsure.png", "scratched.png"]),
        ({"order": "score", "split": "test"}, ["dented.png", "unsure.png"]),
    ],
)
def test_score_and_review_filters_and_the_score_order(client, scored, params, expected):
    team = scored["team"]
    client.force_login(team.viewer)
    html = client.get(reverse("collection-detail", args=[team.collection.pk]), params).content.decode()
    assert tile_names(html) == expected
    assert f'data-count="matching">{len(expected)} image' in html


def test_score_order_pages_on_score_and_id(client, scored, monkeypatch):
    monkeypatch.setattr(views, "GRID_PAGE_SIZE", 2)
    team, images = scored["team"], scored["images"]
    client.force_login(team.viewer)
    url = reverse("collection-detail", args=[team.collection.pk])

    first = client.get(url, {"order": "-score"}).content.decode()
    assert tile_names(first) == ["scratched.png", "unsure.png"]
    assert 'rel="prev"' not in first
    assert f'href="?order=-score&amp;after={images["unsure.png"].pk}"' in first

    # The cursor is the id; its score is read again, so the tie with dented.png is broken by the id.
    second = client.get(url, {"order": "-score", "after": images["unsure.png"].pk}).content.decode()
    assert tile_names(second) == ["dented.png", "good.png"]
    assert 'rel="next"' not in second
    assert f'href="?order=-score&amp;before={images["dented.png"].pk}"' in second

    back = client.get(url, {"order": "-score", "before": images["dented.png"].pk}).content.decode()
    assert tile_names(back) == ["scratched.png", "unsure.png"]
    assert 'rel="prev"' not in back and 'rel="next"' in back


def test_links_keep_filters_and_order_and_the_image_pages_follow_them(client, scored):
    team, images = scored["team"], scored["images"]
    client.force_login(team.viewer)
    params = {"reviewed": "no", "score_min": "0.5", "order": "-score", "bogus": "1"}
    html = client.get(reverse("collection-detail", args=[team.collection.pk]), params).content.decode()
    query = "?reviewed=no&amp;score_min=0.5&amp;order=-score"
    unsure = images["unsure.png"].pk
    assert f'href="{reverse("image-detail", args=[unsure])}{query}"' in html
    assert f'href="{reverse("image-annotate", args=[unsure])}{query}"' in html

    # In that order unsure.png comes first, then dented.png (same score, lower id).
    page = client.get(reverse("image-detail", args=[unsure]), params).content.decode()
    assert 'rel="prev"' not in page
    assert f'rel="next" href="{reverse("image-detail", args=[images["dented.png"].pk])}{query}"' in page
    annotate = client.get(reverse("image-annotate", args=[images["dented.png"].pk]), params)
    config = annotate.context["config"]
    assert config["previousUrl"] == reverse("image-annotate", args=[unsure]) + query.replace("&amp;", "&")
    assert config["nextUrl"] is None
