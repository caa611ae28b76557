"""Schemathesis against the live OpenAPI schema, as a seeded team's manager: every operation, no 5xx,
and every response as the schema says (status code, content type, headers, body).

`LOUPE_SCHEMATHESIS_CASES` sets the generated cases of the run (the CI size by default; the README
gives a nightly-sized one). Each case runs in a savepoint rolled back after it, so a DELETE never
empties the seed for the next case, and every operation, destructive ones included, is covered.
"""

import os
import re

import hypothesis
import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections, transaction
from hypothesis import strategies as st
from rest_framework.authtoken.models import Token
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from config.wsgi import application
from tests import factories
from tests.inference.helpers import ready_export, scored_version

CASES = int(os.environ.get("LOUPE_SCHEMATHESIS_CASES", "1000"))
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]


def _seed() -> dict[str, list[int]]:
    """Two teams with a scored model version, an export and a prediction; the ids a path may name."""
    team, other = factories.team(), factories.team(name="Other team")
    version = scored_version(team.collection, {team.image: 1.5})
    version.artifact_prefix = f"models/{team.collection.pk}/{version.pk}"
    version.save(update_fields=["artifact_prefix"])
    export = ready_export(version)
    prediction = version.predictions.get()
    ids = {
        "project": [team.project.pk, other.project.pk],
        "collection": [team.collection.pk, other.collection.pk],
        "defect_type": [team.defect_type.pk],
        "image": [team.image.pk, other.image.pk],
        "model_version": [version.pk],
        "export": [export.pk],
        "prediction": [prediction.pk],
        "membership": list(team.project.memberships.values_list("pk", flat=True)),
    }
    return {**ids, "manager_token": [Token.objects.create(user=team.manager).key]}


def _seeded_ids(path: str, parameter: str, ids: dict[str, list[int]]) -> list[int]:
    """The seeded ids a path parameter may take: `collection_id` names a collection; `pk` names the
    object of the path's first segment (`/api/v1/model-versions/{id}/` a model version)."""
    if parameter.endswith("_id"):
        return ids.get(parameter.removesuffix("_id"), [])
    resource = re.match(r"/api/v1/([a-z-]+)/", path)
    kind = resource.group(1).rstrip("s").replace("-", "_") if resource else ""
    return ids.get(kind, ids.get(kind.removesuffix("e"), []))


@pytest.fixture
def connection_kept():
    """The WSGI handler closes the database connection after each request; the test's transaction
    lives on it, so (as Django's test client does) that is switched off for the test."""
    for signal in (request_started, request_finished):
        signal.disconnect(close_old_connections)
    yield
    for signal in (request_started, request_finished):
        signal.connect(close_old_connections)


def _brief(failure: Exception) -> str:
    """A failed check in a line: its title and what was received."""
    return " ".join(str(failure).split())[:300]


def _fuzz(operation, *, cases: int, auth: dict[str, str], ids: dict[str, list[int]]) -> tuple[int, list[str]]:
    """`cases` generated requests to one operation: how many ran, and each failed check's message."""
    ran, failures = 0, []

    @hypothesis.settings(
        max_examples=cases,
        deadline=None,
        database=None,
        derandomize=True,
        phases=[hypothesis.Phase.generate],
        suppress_health_check=list(hypothesis.HealthCheck),
    )
    @hypothesis.given(data=st.data())
    def run(data):
        nonlocal ran
        case = data.draw(operation.as_strategy())
        for name in case.path_parameters or {}:
            seeded = _seeded_ids(operation.path, name, ids)
            if seeded and data.draw(st.booleans()):
                case.path_parameters[name] = data.draw(st.sampled_from(seeded))
        ran += 1
        with transaction.atomic():
            response = case.call(headers=auth)
            try:
                case.validate_response(response, checks=CHECKS)
            except FailureGroup as failure:
                found = "; ".join(_brief(error) for error in failure.exceptions)
                sent, answer = case.as_curl_command(), response.content[:300]
                failures.append(f"{operation.label}: {found}\n    {sent}\n    {answer!r}")
            finally:
                transaction.set_rollback(True)

    run()
    return ran, failures


@pytest.mark.django_db
@pytest.mark.usefixtures("connection_kept")
def test_every_operation_answers_as_its_schema_says():
    ids = _seed()
    auth = {"Authorization": f"Token {ids.pop('manager_token')[0]}"}
    schema = schemathesis.openapi.from_wsgi("/api/schema/", application, headers=auth)
    operations = [result.ok() for result in schema.get_all_operations()]
    per_operation = -(-CASES // len(operations))
    ran, failures = 0, []

    for operation in operations:
        operation_ran, operation_failures = _fuzz(operation, cases=per_operation, auth=auth, ids=ids)
        ran += operation_ran
        failures += operation_failures

    print(f"schemathesis: {ran} cases over {len(operations)} operations, {len(failures)} failed")
    print(*failures, sep="\n")
    assert not failures, "\n\n".join(failures[:20])
    assert ran >= CASES
