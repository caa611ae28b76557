import numpy as np
import pytest
from django.urls import reverse

from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from tests.frontend.helpers import add_image, label, mask_region


@pytest.fixture
def labeled(team):
    """team.image (32×24) labeled twice, with one region of each kind."""
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    label(team.image, author=team.annotator, verdict="unsure", comment="first look")
    mask = np.zeros((24, 32), dtype=bool)
    mask[10:14, 20:26] = True
    label(
        team.image,
        author=team.reviewer,
        verdict="defective",
        regions=[
            RegionInput(
                kind="box",
                geometry={"x": 1.0, "y": 2.0, "width": 8.0, "height": 6.5},
                defect_type_id=team.defect_type.pk,
            ),
            RegionInput(
                kind="polygon",
                geometry={"points": [[10.0, 1.0], [20.0, 1.0], [15.0, 9.0]]},
                defect_type_id=dent.pk,
                precision="rough",
            ),
            RegionInput(
                kind="scribble",
                geometry={"points": [[2.0, 20.0], [12.0, 22.0], [18.0, 20.0]], "width": 3.0},
                defect_type_id=dent.pk,
                precision="rough",
            ),
            RegionInput(kind="point", geometry={"x": 28.0, "y": 4.0}, defect_type_id=team.defect_type.pk),
            mask_region(mask, team.defect_type.pk),
        ],
    )
    return {"team": team, "dent": dent}


def test_image_page_shows_image_labels_and_history(client, labeled):
    team = labeled["team"]
    image = team.image
    client.force_login(team.viewer)
    response = client.get(reverse("image-detail", args=[image.pk]))
    assert response.status_code == 200
    html = response.content.decode()

    assert "first.png" in html
    assert reverse("image-display", args=[image.pk]) in html
    assert reverse("image-labels", args=[image.pk]) in html
    assert '<span class="badge verdict verdict-defective">Defective</span>' in html
    # Overlay in image pixels, scaled by the viewBox
    assert 'viewBox="0 0 32 24"' in html
    assert '<rect class="shape box" x="1" y="2" width="8" height="6.5" stroke="#e6194b"' in html
    assert 'points="10,1 20,1 15,9" stroke="#3cb44b"' in html
    assert 'class="shape polygon rough"' in html
    assert (
        '<polyline class="shape scribble" points="2,20 12,22 18,20" stroke="#3cb44b" stroke-width="3"' in html
    )
    assert '<circle class="shape point" cx="28" cy="4"' in html
    # Legend, regions, metadata
    assert "scratch" in html and "dent" in html
    assert "--swatch: #e6194b" in html and "--swatch: #3cb44b" in html
    for kind in ("Box", "Polygon", "Scribble", "Point", "Mask"):
        assert f"<td>{kind}</td>" in html
    assert html.count(">Rough</span>") == 2 and html.count(">Exact</span>") == 3
    assert "24 px" in html  # the mask's area
    assert image.sha256 in html
    assert "32 × 24 px" in html and "PNG" in html and "8-bit" in html and "upload" in html
    # History: newest first, with who and why
    revisions = html[html.index('class="table compact revisions"') :]
    assert revisions.index("<td>v2</td>") < revisions.index("<td>v1</td>")
    assert team.reviewer.username in revisions and team.annotator.username in revisions
    assert revisions.count("Manual Edit") == 2
    assert "first look" in revisions


def test_image_page_of_an_unlabeled_image(client, team):
    client.force_login(team.viewer)
    html = client.get(reverse("image-detail", args=[team.image.pk])).content.decode()
    assert '<span class="badge verdict verdict-unlabeled">Unlabeled</span>' in html
    assert "No regions." in html and "Never labeled." in html
    assert reverse("image-labels", args=[team.image.pk]) not in html  # no masks, no mask overlay


def test_previous_and_next_stay_in_the_collection_and_its_filters(client, team, other_team):
    second = add_image(team.collection, "second.png", seed=11, split="train")
    third = add_image(team.collection, "third.png", seed=12)
    fourth = add_image(team.collection, "fourth.png", seed=13, split="train")
    client.force_login(team.viewer)

    html = client.get(reverse("image-detail", args=[second.pk])).content.decode()
    assert f'rel="prev" href="{reverse("image-detail", args=[team.image.pk])}"' in html
    assert f'rel="next" href="{reverse("image-detail", args=[third.pk])}"' in html

    html = client.get(reverse("image-detail", args=[fourth.pk])).content.decode()
    assert 'rel="next"' not in html  # the other team's newer image is not a neighbour

    html = client.get(reverse("image-detail", args=[second.pk]), {"split": "train"}).content.decode()
    assert 'rel="prev"' not in html
    assert f'rel="next" href="{reverse("image-detail", args=[fourth.pk])}?split=train"' in html


def test_defect_type_name_is_escaped_on_the_image_page(client, team):
    xss, _ = defect_type_get_or_create(collection=team.collection, name="<script>alert(1)</script>")
    label(
        team.image,
        author=team.annotator,
        verdict="defective",
        regions=[RegionInput(kind="point", geometry={"x": 3.0, "y": 3.0}, defect_type_id=xss.pk)],
        comment="<script>alert(1)</script>",
    )
    client.force_login(team.viewer)
    html = client.get(reverse("image-detail", args=[team.image.pk])).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert html.count("&lt;script&gt;alert(1)&lt;/script&gt;") >= 4  # legend, region row, SVG title, comment


def test_another_teams_image_page_is_a_404(client, team, other_team):
    client.force_login(team.manager)
    assert client.get(reverse("image-detail", args=[other_team.image.pk])).status_code == 404


def test_a_colour_that_is_not_plain_hex_never_reaches_an_attribute(client, team):
    team.defect_type.color = '"onx=1'  # 7 characters: fits the column on PostgreSQL too
    team.defect_type.save()
    label(
        team.image,
        author=team.annotator,
        regions=[
            RegionInput(kind="point", geometry={"x": 3.0, "y": 3.0}, defect_type_id=team.defect_type.pk)
        ],
    )
    client.force_login(team.viewer)
    html = client.get(reverse("image-detail", args=[team.image.pk])).content.decode()
    assert "onx=1" not in html
    assert 'fill="#ff00ff"' in html
