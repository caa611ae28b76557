"""A demo project: generated product images with defects, imported like any dataset."""

from pathlib import Path

import numpy as np
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from PIL import Image as PILImage

from annotations.models import Membership, Project, Role
from annotations.services.importing import CollectionSummary, dataset_import
from inference.ml.synthetic import add_defect, normal_texture
from inference.services.importing import dataset_plan

DEMO_PROJECT = "Demo"
DEMO_CATEGORY = "brushed_plate"
IMAGE_SIZE = (192, 256)  # (height, width) px


def demo_dataset_write(
    *, root: Path, seed: int = 0, train: int = 60, test_normal: int = 20, test_per_defect: int = 5
) -> Path:
    """Write a small MVTec-AD-layout dataset of brushed metal plates under `root`; return its category."""
    rng = np.random.default_rng(seed)
    category = root / DEMO_CATEGORY

    def save(array: np.ndarray, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        PILImage.fromarray(array).save(path)

    for index in range(train):
        save(normal_texture(rng, IMAGE_SIZE), category / "train" / "good" / f"{index:03d}.png")
    for index in range(test_normal):
        save(normal_texture(rng, IMAGE_SIZE), category / "test" / "good" / f"{index:03d}.png")
    for kind in ("scratch", "stain", "hole", "crack"):
        for index in range(test_per_defect):
            image, mask, _ = add_defect(normal_texture(rng, IMAGE_SIZE), rng, kind=kind)
            save(image, category / "test" / kind / f"{index:03d}.png")
            save((mask * 255).astype(np.uint8), category / "ground_truth" / kind / f"{index:03d}_mask.png")
    return category


def demo_user_get_or_create(*, username: str = "demo", password: str = "demo") -> AbstractBaseUser:
    user, created = get_user_model().objects.get_or_create(username=username)
    if created:
        user.set_password(password)
        user.save(update_fields=["password"])
    return user


def demo_seed(*, root: Path, user: AbstractBaseUser) -> list[CollectionSummary]:
    """Create (or complete) the demo project, with `user` as its manager."""
    project, _ = Project.objects.get_or_create(name=DEMO_PROJECT, defaults={"created_by": user})
    Membership.objects.update_or_create(project=project, user=user, defaults={"role": Role.MANAGER})
    category = demo_dataset_write(root=root)
    return list(dataset_import(plans=dataset_plan(category), project=project, imported_by=user))
