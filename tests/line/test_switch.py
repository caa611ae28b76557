"""A promotion switches the inspection service's model without a restart and without a failed
request: clients keep inspecting across it, against a real server thread."""

import json
import threading
import time
import urllib.error
import urllib.request

import pytest

from inference.services.versions import model_version_promote
from line.services.stations import station_create
from tests.line.conftest import line_images, trained

pytestmark = [pytest.mark.usefixtures("sent"), pytest.mark.slow]


def _inspect(url: str, key: str, content: bytes) -> tuple[int, int | None]:
    request = urllib.request.Request(
        url,
        data=content,
        method="POST",
        headers={"Authorization": f"Token {key}", "Content-Type": "image/png"},
    )
    try:
        with urllib.request.urlopen(request, timeout=60) as answer:
            return answer.status, json.loads(answer.read())["model_version"]
    except urllib.error.HTTPError as error:
        return error.code, None


def test_a_promotion_switches_the_model_with_no_failed_request(live_server, line_version, team):
    newer = trained(team.collection, promote=False)
    _station, key = station_create(collection=team.collection, name="line", created_by=None)
    url = f"{live_server.url}/api/v1/collections/{team.collection.pk}/inspect/"
    content = line_images(1, seed=7)[0][1]
    answers: list[list[tuple[int, int | None]]] = [[], []]
    stop = threading.Event()

    def keep_inspecting(mine: list) -> None:
        while not stop.is_set():
            mine.append(_inspect(url, key, content))

    clients = [threading.Thread(target=keep_inspecting, args=(mine,)) for mine in answers]
    for client in clients:
        client.start()
    try:
        deadline = time.monotonic() + 60
        while min(len(a) for a in answers) < 3 and time.monotonic() < deadline:
            time.sleep(0.05)
        model_version_promote(version=newer, by=team.manager)
        while not all(a and a[-1][1] == newer.pk for a in answers) and time.monotonic() < deadline:
            time.sleep(0.05)
        seen = min(len(a) for a in answers)
        while min(len(a) for a in answers) < seen + 3 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        stop.set()
        for client in clients:
            client.join(timeout=60)
    for mine in answers:
        assert {status for status, _ in mine} == {200}, mine
        versions = [version for _, version in mine]
        switched = versions.index(newer.pk)
        # The old model answered until the new one was loaded, then only the new one.
        assert switched >= 3 and set(versions[:switched]) == {line_version.pk}
        assert set(versions[switched:]) == {newer.pk}
