import pytest

from annotations.models import RevisionReason, Split
from annotations.services.annotations import RegionInput, annotation_update
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import defect_type_get_or_create
from tests.annotations.api.helpers import API, png_bytes, results


@pytest.fixture
def images(team):
    """The team's collection with six images: splits, verdicts and defect types set as named."""
    dent, _ = defect_type_get_or_create(collection=team.collection, name="dent")
    plan = {
        "first": (Split.UNASSIGNED, "unlabeled", None),
        "scratched": (Split.TEST, "defective", team.defect_type),
        "dented": (Split.TEST, "defective", dent),
        "both": (Split.TRAIN, "defective", team.defect_type),
        "normal-1": (Split.TRAIN, "normal", None),
        "normal-2": (Split.TRAIN, "normal", None),
    }
    stored = {"first": team.image}
    for seed, (name, (split, verdict, defect_type)) in enumerate(plan.items(), start=100):
        if name == "first":
            continue
        image = image_store(
            collection=team.collection, inspected=image_inspect(content=png_bytes(seed=seed)), split=split
        ).image
        kinds = [defect_type] if defect_type else []
        if name == "both":
            kinds.append(dent)
        regions = [
            RegionInput(kind="point", geometry={"x": 1.0, "y": 1.0}, defect_type_id=t.pk) for t in kinds
        ]
        annotation_update(
            annotation_id=image.annotation.pk,
            expected_version=0,
            author=team.annotator,
            reason=RevisionReason.IMPORT,
            verdict=verdict,
            regions=regions,
        )
        stored[name] = image
    stored["dent"] = dent
    return stored


def names(response, images) -> set[str]:
    by_id = {image.pk: name for name, image in images.items() if name != "dent"}
    return {by_id[item["id"]] for item in results(response)}


@pytest.mark.parametrize(
    "query, expected",
    [
        ("split=train", {"both", "normal-1", "normal-2"}),
        ("split=test", {"scratched", "dented"}),
        ("verdict=normal", {"normal-1", "normal-2"}),
        ("verdict=unlabeled", {"first"}),
        ("defect_type={scratch}", {"scratched", "both"}),
        ("defect_type={dent}", {"dented", "both"}),
        ("split=test&verdict=defective&defect_type={dent}", {"dented"}),
        ("collection={collection}&split=unassigned", {"first"}),
    ],
)
def test_filters_return_the_right_images(team, images, as_user, query, expected):
    query = query.format(scratch=team.defect_type.pk, dent=images["dent"].pk, collection=team.collection.pk)

    response = as_user(team.viewer).get(f"{API}/images/?{query}")

    assert names(response, images) == expected


@pytest.mark.parametrize("query", ["split=validation", "verdict=maybe", "defect_type=abc", "collection=x"])
def test_a_bad_filter_is_a_400_not_an_empty_list(team, as_user, query):
    response = as_user(team.viewer).get(f"{API}/images/?{query}")

    assert response.status_code == 400
    assert query.split("=")[0] in response.json()


def test_cursor_pages_cover_every_image_once_newest_first(team, images, as_user):
    client = as_user(team.viewer)
    seen, url = [], f"{API}/images/?page_size=4"
    while url:
        page = client.get(url).json()
        assert len(page["results"]) <= 4
        seen += [item["id"] for item in page["results"]]
        url = page["next"]

    assert seen == sorted((image.pk for name, image in images.items() if name != "dent"), reverse=True)


def test_an_image_shows_its_label_state_and_links(team, images, as_user):
    body = as_user(team.viewer).get(f"{API}/images/{images['both'].pk}/").json()

    assert (body["verdict"], body["annotation_version"], body["split"]) == ("defective", 1, "train")
    assert (body["width"], body["height"], body["mode"], body["bit_depth"]) == (32, 24, "L", 8)
    assert body["file_url"].endswith(f"/api/v1/images/{images['both'].pk}/file/")
