from collections.abc import Callable

import numpy as np
import pytest

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
