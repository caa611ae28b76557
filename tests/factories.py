"""Test data built through the real services, so tests see what users would."""

from dataclasses import dataclass

import factory
from django.contrib.auth import get_user_model

from annotations.models import Collection, DefectType, Image, Membership, Project, Role
from annotations.services.ingest import image_inspect, image_store
from annotations.services.projects import defect_type_get_or_create, project_create

PASSWORD = "correct horse battery staple"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    password = factory.django.Password(PASSWORD)


@dataclass
class Team:
    project: Project
    collection: Collection
    defect_type: DefectType
    image: Image
    manager: object
    reviewer: object
    annotator: object
    viewer: object


def team(name: str = "Team") -> Team:
    from tests.conftest import png_bytes

    slug = name.lower().replace(" ", "-")
    manager = UserFactory(username=f"{slug}-manager")
    project = project_create(name=name, created_by=manager)
    members = {}
    for role in (Role.REVIEWER, Role.ANNOTATOR, Role.VIEWER):
        members[role] = UserFactory(username=f"{slug}-{role}")
        Membership.objects.create(project=project, user=members[role], role=role)
    collection = Collection.objects.create(project=project, name=f"{name} tiles")
    defect_type, _ = defect_type_get_or_create(collection=collection, name="scratch")
    stored = image_store(
        collection=collection,
        inspected=image_inspect(content=png_bytes(seed=sum(map(ord, name)))),
        original_name="first.png",
        uploaded_by=manager,
    )
    return Team(
        project=project,
        collection=collection,
        defect_type=defect_type,
        image=stored.image,
        manager=manager,
        reviewer=members[Role.REVIEWER],
        annotator=members[Role.ANNOTATOR],
        viewer=members[Role.VIEWER],
    )
