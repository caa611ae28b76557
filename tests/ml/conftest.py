from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from inference.ml.synthetic import DEFECT_KINDS, add_defect, normal_texture

SIZE = 96


@pytest.fixture(scope="session")
def synthetic_category() -> dict[str, list]:
    """A small generated category: normal training images, and a test set half normal, half defective."""
    rng = np.random.default_rng(7)
    train = [normal_texture(rng, SIZE) for _ in range(16)]
    test, labels, masks = [], [], []
    for i in range(24):
        image = normal_texture(rng, SIZE)
        if i % 2:
            image, mask, _ = add_defect(image, rng, DEFECT_KINDS[i // 2 % len(DEFECT_KINDS)])
        else:
            mask = np.zeros((SIZE, SIZE), bool)
        test.append(image)
        labels.append(bool(i % 2))
        masks.append(mask)
    return {"train": train, "test": test, "labels": labels, "masks": masks}


@pytest.fixture
def small_params() -> Callable[..., dict]:
    def make(**overrides) -> dict:
        return {"image_size": 96, "batch_size": 8, **overrides}

    return make


def _write_mvtec(folder, synthetic_category):
    """Write the generated category in the MVTec AD layout under ``folder``; returns ``folder``."""
    root = folder / "texture"
    (root / "train" / "good").mkdir(parents=True)
    for i, image in enumerate(synthetic_category["train"][:8]):
        Image.fromarray(image).save(root / "train" / "good" / f"{i:03}.png")
    for i, (image, label, mask) in enumerate(
        zip(
            synthetic_category["test"], synthetic_category["labels"], synthetic_category["masks"], strict=True
        )
    ):
        kind = "defect" if label else "good"
        (root / "test" / kind).mkdir(parents=True, exist_ok=True)
        Image.fromarray(image).save(root / "test" / kind / f"{i:03}.png")
        if label:
            (root / "ground_truth" / kind).mkdir(parents=True, exist_ok=True)
            Image.fromarray(mask.astype(np.uint8) * 255).save(
                root / "ground_truth" / kind / f"{i:03}_mask.png"
            )
    return folder


@pytest.fixture
def mvtec_folder(tmp_path, synthetic_category):
    """The generated category written in the MVTec AD layout."""
    return _write_mvtec(tmp_path / "data", synthetic_category)


@pytest.fixture(scope="session")
def shared_mvtec_folder(tmp_path_factory, synthetic_category):
    """:func:`mvtec_folder` written once for the session, for tests that only read it."""
    return _write_mvtec(tmp_path_factory.mktemp("shared") / "data", synthetic_category)
