"""Upgrading keeps every version's data: the positional snapshot lists become DataSnapshot rows."""

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor

BEFORE = [
    ("inference", "0004_learning_from_labels_and_reviews"),
    ("annotations", "0003_project_name_unique_any_case"),
]
AFTER = [("inference", "0005_data_snapshots")]


@pytest.mark.django_db(transaction=True)
def test_snapshot_lists_become_rows_with_their_roles_and_fit_order():
    executor = MigrationExecutor(connection)
    executor.migrate(BEFORE)
    old = executor.loader.project_state(BEFORE).apps
    user = old.get_model("auth", "User").objects.create(username="upgrader")
    project = old.get_model("annotations", "Project").objects.create(name="Upgrade", created_by_id=user.pk)
    collection = old.get_model("annotations", "Collection").objects.create(project=project, name="tiles")
    version = old.get_model("inference", "ModelVersion").objects.create(
        collection=collection,
        algorithm="patchcore",
        backbone="efficientnet_lite0",
        train_snapshot=[[12, 0], [10, 2]],
        test_snapshot=[[20, 1], [21, 3]],
        labeled_snapshot=[[30, 1, False], [31, 2, True]],
    )

    executor = MigrationExecutor(connection)
    executor.migrate(AFTER)
    new = executor.loader.project_state(AFTER).apps
    migrated = new.get_model("inference", "ModelVersion").objects.get(pk=version.pk)
    rows = new.get_model("inference", "SnapshotImage").objects.filter(snapshot_id=migrated.snapshot_id)

    got = sorted(rows.values_list("role", "image_id", "annotation_version", "fit_index"))
    assert got == [
        ("hard_normal", 31, 2, None),
        ("labeled", 30, 1, None),
        ("test", 20, 1, None),
        ("test", 21, 3, None),
        ("train", 10, 2, 1),
        ("train", 12, 0, 0),
    ]
    assert migrated.snapshot.counts == {"train": 2, "test": 2, "labeled": 1, "hard_normal": 1}
    executor.loader.build_graph()
    executor.migrate(executor.loader.graph.leaf_nodes())
