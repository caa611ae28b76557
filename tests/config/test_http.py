import pytest
from django.http import HttpResponse
from django.test import RequestFactory

from config.http import MalformedIfMatch, conditional, if_match


def get(**headers):
    return RequestFactory().get("/", headers=headers)


def test_a_held_etag_is_a_304_without_building_the_response():
    built = []

    def build():
        built.append(1)
        return HttpResponse(b"png")

    fresh = conditional(get(), "heatmap-1", build, max_age=3600)
    held = conditional(get(**{"If-None-Match": 'W/"x", "heatmap-1"'}), "heatmap-1", build, max_age=3600)

    assert (fresh.status_code, fresh.content, fresh["ETag"]) == (200, b"png", '"heatmap-1"')
    assert (held.status_code, held["ETag"], held["Cache-Control"]) == (
        304,
        '"heatmap-1"',
        "private, max-age=3600",
    )
    assert len(built) == 1


@pytest.mark.parametrize("header", ["heatmap-1", '"heatmap-1-other"', ""])
def test_another_or_a_malformed_if_none_match_gets_the_full_response(header):
    response = conditional(get(**{"If-None-Match": header}), '"heatmap-1"', lambda: HttpResponse(b"png"))

    assert response.status_code == 200 and response["ETag"] == '"heatmap-1"'


@pytest.mark.parametrize(
    "header, tags",
    [
        ('"image-7-v3"', ['"image-7-v3"']),
        (' "a", W/"b" ', ['"a"', 'W/"b"']),
        ("*", ["*"]),
    ],
)
def test_if_match_gives_the_tags_as_sent(header, tags):
    assert if_match(get(**{"If-Match": header})) == tags


def test_no_if_match_is_none():
    assert if_match(get()) is None and if_match(get(**{"If-Match": "  "})) is None


@pytest.mark.parametrize("header", ["image-7-v3", '"a", b', '"unterminated', '"a" "b"'])
def test_a_malformed_if_match_says_what_to_send(header):
    with pytest.raises(MalformedIfMatch, match="quotes included"):
        if_match(get(**{"If-Match": header}))
