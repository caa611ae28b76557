"""Project names: unique whatever the case among the projects one user can see, reported by the
services as ProjectNameTaken (tests/security/test_error_messages.py: another team's names are free)."""

import importlib

import pytest
from django.db import transaction

from annotations.models import Membership, Project
from annotations.services.projects import ProjectNameTaken, project_create, project_update
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("clash", ["Line 3", "line 3", "LINE 3"])
def test_a_name_taken_in_any_case_is_refused_and_nothing_is_made(clash):
    owner = UserFactory()
    project_create(name="Line 3", created_by=owner)

    with pytest.raises(ProjectNameTaken, match="ignoring case"):
        project_create(name=clash, created_by=owner)

    assert Project.objects.count() == 1 and Membership.objects.count() == 1


def test_the_callers_transaction_survives_a_clash():
    owner = UserFactory()
    project_create(name="Line 3", created_by=owner)

    with transaction.atomic():
        with pytest.raises(ProjectNameTaken):
            project_create(name="line 3", created_by=owner)
        # The clash was found before anything was written: the transaction still takes queries.
        assert project_create(name="Line 4", created_by=owner).name == "Line 4"


def test_renaming_onto_another_name_in_any_case_is_refused():
    owner = UserFactory()
    project_create(name="Line 3", created_by=owner)
    other = project_create(name="Line 4", created_by=owner)

    with pytest.raises(ProjectNameTaken):
        project_update(project=other, changed_by=owner, name="LINE 3")

    assert Project.objects.get(pk=other.pk).name == "Line 4"
    # Its own name in another case is its own.
    renamed = project_update(project=Project.objects.get(pk=other.pk), changed_by=owner, name="line 4")
    assert renamed.name == "line 4"


def test_the_migration_numbers_names_that_differ_only_in_case():
    migration = importlib.import_module("annotations.migrations.0002_project_names_distinct_any_case")
    long = "x" * 200

    renamed = migration.distinct_names(["Team", "team", "Other", "TEAM", "team (2)", long, long.upper()])

    assert renamed == ["Team", "team (2)", "Other", "TEAM (3)", "team (2) (2)", long, "X" * 196 + " (2)"]
