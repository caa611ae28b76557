"""Two teams for the authorization matrix, built through the real services: each holds an object of
every kind a route can name, under names that appear nowhere else, so a leak of team A's is seen in
any body that reaches team B's manager or a user in no project."""

import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.urls import reverse

from annotations.models import Collection, DefectType, Image, Membership, Project, Role
from annotations.services.annotations import RegionInput
from annotations.services.projects import defect_type_get_or_create
from inference.models import (
    Disagreement,
    Job,
    JobKind,
    JobStatus,
    ModelExport,
    ModelVersion,
    Prediction,
    Review,
)
from inference.services.dataset_imports import import_stage
from inference.services.jobs import job_create
from inference.services.label_exports import label_export_prefix
from inference.services.reviews import review_submit
from inference.services.versions import artifact_prefix, model_version_promote
from line.models import Inspection, Station
from line.services.inspection import line_policy
from line.services.stations import station_create, station_revoke
from tests.conftest import png_bytes
from tests.factories import UserFactory, team
from tests.frontend.helpers import add_image, label
from tests.inference.helpers import ready_export, scored_version


@dataclass
class Side:
    """One team: its people by role, and the values that fill a route's placeholders."""

    users: dict[Role, Any]
    names: dict[str, Any]
    station_key: str
    revoked_station_key: str
    secrets: list[str] = field(default_factory=list)
    ids: dict[str, set[int]] = field(default_factory=dict)
    links: list[tuple[str, tuple[str, int]]] = field(default_factory=list)
    """The team's pages, each with the (kind, id) it names: a link to one in HTML is a leak."""


# What each id placeholder names (the kinds a JSON body's keys are read as, too).
ID_KINDS = (
    "project",
    "membership",
    "collection",
    "defect_type",
    "image",
    "model_version",
    "prediction",
    "review",
    "disagreement",
    "job",
    "export",
    "label_export_job",
    "station",
    "inspection",
)
# Placeholders that are not ids but still name something of the team's: a caller who sends another
# team's must get the answer an unknown one gets.
NAMED_VALUES = {"staging": "f" * 32, "username": "nobody-by-this-name"}
NEVER_USED = {kind: 10**12 + index for index, kind in enumerate(ID_KINDS)} | NAMED_VALUES


def _zip(name: str) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr(name, "{}")
    return out.getvalue()


def side_seed(name: str, *, seed: int) -> Side:
    """A team named `name` with one object of every kind; its own strings all start with its slug."""
    made = team(name)
    slug = name.lower().replace(" ", "-")
    collection, project = made.collection, made.project
    Project.objects.filter(pk=project.pk).update(description=f"{slug} plans and secrets")
    crackle, _ = defect_type_get_or_create(collection=collection, name=f"{slug}-crackle")
    labeled = label(
        made.image,
        author=made.annotator,
        verdict="defective",
        regions=[_point(crackle.pk)],
        comment=f"{slug} label note",
    )
    disputed = add_image(collection, f"{slug}-part-2.png", seed=seed)
    label(disputed, author=made.annotator, verdict="defective")
    version = scored_version(collection, {made.image: 1.5, disputed: 0.3})
    version.artifact_prefix = artifact_prefix(collection_id=collection.pk, version_id=version.pk)
    version.save(update_fields=["artifact_prefix"])
    model_version_promote(version=version, by=made.manager)
    prediction = version.predictions.get(image=made.image)
    review = review_submit(
        prediction=prediction,
        reviewer=made.reviewer,
        decision="true_defect",
        expected_version=labeled.version,
        comment=f"{slug} review comment",
    )
    contradicting = review_submit(
        prediction=version.predictions.get(image=disputed),
        reviewer=made.reviewer,
        decision="false_positive",
        reason="lighting",
        expected_version=1,
    )
    export = ready_export(version)
    job = job_create(
        kind=JobKind.SCORE, collection=collection, model_version=version, created_by=made.manager
    )
    zip_name = f"{slug}-labels.zip"
    label_job = Job.objects.create(
        kind=JobKind.LABEL_EXPORT,
        status=JobStatus.SUCCEEDED,
        collection=collection,
        parameters={"format": "coco"},
        result={"name": zip_name},
        created_by=made.viewer,
    )
    default_storage.save(f"{label_export_prefix(label_job)}/{zip_name}", ContentFile(_zip(f"{slug}.json")))
    staged = import_stage(
        collection=collection,
        user=made.annotator,
        key=None,
        files=[(f"train/good/{slug}-staged.png", ContentFile(png_bytes(seed=seed + 1), name="staged.png"))],
        archives=[],
    )
    station, station_key = station_create(
        collection=collection, name=f"{slug} line 1", created_by=made.manager
    )
    revoked, revoked_key = station_create(collection=collection, name=f"{slug} old line", created_by=None)
    station_revoke(station=revoked)
    inspection = Inspection.objects.create(
        collection=collection,
        station=station,
        model_version=version,
        name=f"{slug}-inspected.png",
        score=0.4,
        normalized_score=0.2,
        is_defective=False,
    )
    line_policy(collection_id=collection.pk)
    users = {
        Role.MANAGER: made.manager,
        Role.REVIEWER: made.reviewer,
        Role.ANNOTATOR: made.annotator,
        Role.VIEWER: made.viewer,
    }
    names = {
        "project": project.pk,
        "membership": Membership.objects.get(project=project, user=made.annotator).pk,
        "collection": collection.pk,
        "defect_type": crackle.pk,
        "image": made.image.pk,
        "annotation_version": labeled.version + 1,  # the review wrote a revision
        "model_version": version.pk,
        "prediction": prediction.pk,
        "review": review.pk,
        "disagreement": contradicting.disagreement.pk,
        "job": job.pk,
        "export": export.pk,
        "label_export_job": label_job.pk,
        "station": station.pk,
        "inspection": inspection.pk,
        "staging": staged.key,
        "username": made.viewer.username,
    }
    side = Side(users=users, names=names, station_key=station_key, revoked_station_key=revoked_key)
    side.secrets = [
        project.name,
        f"{slug} plans and secrets",
        collection.name,
        crackle.name,
        *(user.username for user in users.values()),
        disputed.original_name,
        f"{slug} label note",
        f"{slug} review comment",
        zip_name,
        station.name,
        revoked.name,
        station.key_prefix,
        inspection.name,
        staged.key,
    ]
    side.ids = _ids_of(project.pk)
    side.ids["user"] = {user.pk for user in users.values()}
    side.links = [
        (reverse("project-detail", args=[project.pk]), ("project", project.pk)),
        *((reverse("collection-detail", args=[pk]), ("collection", pk)) for pk in side.ids["collection"]),
        *((reverse("image-detail", args=[pk]), ("image", pk)) for pk in side.ids["image"]),
        *(
            (reverse("disagreement-settle", args=[pk]), ("disagreement", pk))
            for pk in side.ids["disagreement"]
        ),
    ]
    return side


def _point(defect_type_id: int) -> RegionInput:
    return RegionInput(kind="point", geometry={"x": 3, "y": 4}, defect_type_id=defect_type_id)


def _ids_of(project_id: int) -> dict[str, set[int]]:
    """Every id of the project's objects, by kind (what a leak of them in a JSON body is read as)."""
    in_project = {"collection__project_id": project_id}
    querysets = {
        "project": Project.objects.filter(pk=project_id),
        "membership": Membership.objects.filter(project_id=project_id),
        "collection": Collection.objects.filter(project_id=project_id),
        "defect_type": DefectType.objects.filter(**in_project),
        "image": Image.objects.filter(**in_project),
        "model_version": ModelVersion.objects.filter(**in_project),
        "prediction": Prediction.objects.filter(model_version__collection__project_id=project_id),
        "review": Review.objects.filter(prediction__model_version__collection__project_id=project_id),
        "disagreement": Disagreement.objects.filter(image__collection__project_id=project_id),
        "job": Job.objects.filter(**in_project),
        "export": ModelExport.objects.filter(model_version__collection__project_id=project_id),
        "station": Station.objects.filter(**in_project),
        "inspection": Inspection.objects.filter(**in_project),
    }
    return {kind: set(queryset.values_list("pk", flat=True)) for kind, queryset in querysets.items()}


@dataclass
class World:
    a: Side
    b: Side
    loner: Any  # signed in, a member of no project


def world_seed() -> World:
    """Team A (the target), team B (whose manager attacks A) and a user in no project."""
    return World(
        a=side_seed("Acme Confidential", seed=11),
        b=side_seed("Bravo Works", seed=23),
        loner=UserFactory(username="loner-no-project"),
    )
