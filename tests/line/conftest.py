import io

import numpy as np
import pytest
from PIL import Image as PILImage

from inference.ml.synthetic import add_defect, normal_texture
from inference.models import JobStatus, ModelVersion
from inference.services.jobs import job_run
from inference.services.training import train_execute
from inference.services.versions import model_version_promote, training_start
from line.services.runtime import models_forget
from tests.inference.helpers import FAST_PARAMETERS, synthetic_collection_fill


@pytest.fixture(autouse=True)
def fresh_models():
    """Each test loads the models it uses: none is left from another test's database."""
    models_forget()
    yield
    models_forget()


def png(pixels: np.ndarray) -> bytes:
    out = io.BytesIO()
    PILImage.fromarray(pixels).save(out, format="PNG")
    return out.getvalue()


def line_images(count: int, *, seed: int, defective: int = 0, brighter: int = 0) -> list[tuple[str, bytes]]:
    """Generated parts as the line sends them: normal ones, the first `defective` with a defect, all
    brightened by `brighter` grey levels."""
    rng = np.random.default_rng(seed)
    out = []
    for index in range(count):
        pixels = normal_texture(rng, 64)
        if index < defective:
            pixels = add_defect(pixels, rng, kind="stain")[0]
        pixels = np.clip(pixels.astype(np.int16) + brighter, 0, 255).astype(np.uint8)
        out.append((f"part-{seed}-{index}.png", png(pixels)))
    return out


def trained(collection, *, by=None, promote: bool = True) -> ModelVersion:
    """A small PatchCore trained in this process, promoted."""
    job = training_start(
        collection=collection, algorithm="patchcore", parameters=FAST_PARAMETERS, score_after=False
    )
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == JobStatus.SUCCEEDED, job.failure_reason
    version = job.model_version
    if promote:
        version = model_version_promote(version=version, by=by)
    return version


@pytest.fixture
def line_version(team, settings) -> ModelVersion:
    """The team's collection with generated images and a promoted PatchCore."""
    settings.LOUPE_ML_DEVICE = "cpu"
    synthetic_collection_fill(team.collection, train=8, test_normal=12, test_defective=4)
    return trained(team.collection, by=team.manager)
