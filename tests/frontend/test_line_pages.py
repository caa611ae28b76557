"""The line in the browser: stations on the project page (made by managers, the key shown once,
revoked), and the drift state and chart on the models page."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from frontend.charts import CHART_HEIGHT, CHART_PAD, line_panel
from inference.services.versions import model_version_promote
from line.models import Inspection, Station
from line.services.stations import key_hash, station_create
from tests.inference.helpers import labeled_test_images, scored_version

pytestmark = pytest.mark.usefixtures("sent")


def _create(client, team, name="line 1"):
    return client.post(
        reverse("project-station-create", args=[team.project.pk]),
        {"collection": team.collection.pk, "name": name},
    )


def test_a_manager_makes_a_station_and_sees_its_key_once(client, team):
    client.force_login(team.manager)
    made = _create(client, team)
    assert made.status_code == 302
    station = Station.objects.get()
    page = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    key = re.search(r"data-station-key>([^<]+)<", page).group(1)
    assert key_hash(key) == station.key_hash and "will not be shown again" in page
    again = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    assert key not in again and "data-station-key" not in again
    assert f'data-station="{station.pk}"' in again and "line 1" in again and "never used" in again


def test_others_cannot_make_or_revoke_stations(client, team, other_team):
    station, _key = station_create(collection=team.collection, name="line", created_by=team.manager)
    client.force_login(team.reviewer)
    page = client.get(reverse("project-detail", args=[team.project.pk])).content.decode()
    assert f'data-station="{station.pk}"' in page and "Create station" not in page and "Revoke" not in page
    assert _create(client, team).status_code == 403
    revoke = reverse("project-station-revoke", args=[team.project.pk, station.pk])
    assert client.post(revoke).status_code == 403
    client.force_login(other_team.manager)
    assert client.post(revoke).status_code == 404
    other = reverse("project-station-revoke", args=[other_team.project.pk, station.pk])
    assert client.post(other).status_code == 404
    station.refresh_from_db()
    assert station.revoked_at is None and Station.objects.count() == 1


def test_a_manager_revokes_a_station(client, team):
    station, _key = station_create(collection=team.collection, name="line", created_by=team.manager)
    client.force_login(team.manager)
    done = client.post(reverse("project-station-revoke", args=[team.project.pk, station.pk]), follow=True)
    station.refresh_from_db()
    assert station.revoked_at is not None and "revoked" in done.content.decode()


def test_the_models_page_shows_drift_unknown_then_the_alert_and_its_chart(client, team):
    client.force_login(team.viewer)
    url = reverse("collection-models", args=[team.collection.pk])
    assert 'data-drift-state="unknown"' in client.get(url).content.decode()

    images = labeled_test_images(team.collection, ["normal"] * 12)
    version = model_version_promote(
        version=scored_version(team.collection, {image: 0.2 + 0.01 * i for i, image in enumerate(images)}),
        by=team.manager,
    )
    now = timezone.now()
    Inspection.objects.bulk_create(
        Inspection(
            collection=team.collection,
            model_version=version,
            score=1.5,
            normalized_score=0.75,
            is_defective=True,
            created_at=now,
        )
        for _ in range(30)
    )
    html = client.get(url).content.decode()
    assert 'data-drift-state="alert"' in html and "Drift alert" in html
    assert html.count("<svg") >= 2 and 'stroke-dasharray="4 3"' in html


def test_a_chart_panel_puts_points_in_its_box_and_the_limit_at_its_height():
    panel = line_panel([0.1, 0.5, 0.2], [0.4, 0.4, 0.4], title="t", width=200)
    points = [tuple(map(float, p.split(","))) for p in panel["line"].split()]
    assert [x for x, _ in points] == [CHART_PAD, 100.0, 200 - CHART_PAD]
    assert all(CHART_PAD <= y <= CHART_HEIGHT - CHART_PAD for _, y in points)
    limit_y = [float(p.split(",")[1]) for p in panel["limit"].split()]
    expected = CHART_PAD + (CHART_HEIGHT - 2 * CHART_PAD) * (1 - 0.4 / panel["top"])
    assert limit_y == pytest.approx([expected] * 3, abs=0.05)
    assert [dot["over"] for dot in panel["dots"]] == [False, True, False]
    assert points[1][1] < points[0][1]  # higher values are drawn higher
    with pytest.raises(ValueError):
        line_panel([], [], title="t")
