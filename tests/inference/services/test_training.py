"""Training reads the truth at its snapshot: a test split labeled only with polygons gets pixel metrics,
and the models page's scores count what the stored metrics counted, whatever changed since."""

import numpy as np
import pytest

from annotations.models import Split, Verdict
from annotations.services.annotations import RegionInput
from inference.ml.synthetic import add_defect, normal_texture
from inference.selectors import model_version_test_scores
from inference.services.jobs import job_run
from inference.services.scoring import model_load
from inference.services.training import train_execute
from inference.services.versions import training_start
from tests.frontend.helpers import label
from tests.inference.helpers import FAST_PARAMETERS, _add, synthetic_collection_fill

pytestmark = pytest.mark.usefixtures("sent")


def _outline(mask: np.ndarray) -> list[list[int]]:
    """The defect's bounding rectangle as a polygon (a rough outline, as people draw them)."""
    rows, cols = np.nonzero(mask)
    x0, x1, y0, y1 = int(cols.min()), int(cols.max()), int(rows.min()), int(rows.max())
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def test_polygon_labels_get_pixel_metrics_and_the_page_counts_match_the_metrics(team):
    synthetic_collection_fill(team.collection, train=8, test_normal=3, test_defective=0)
    rng = np.random.default_rng(5)
    defects = []
    for index in range(3):
        pixels, mask, _ = add_defect(normal_texture(rng, 64), rng, kind="stain")
        image = _add(team.collection, pixels, f"polygon-{index}.png", Split.TEST)
        polygon = RegionInput(kind="polygon", geometry={"points": _outline(mask)})
        label(image, author=None, verdict=Verdict.DEFECTIVE, regions=[polygon])
        defects.append(image)

    job = training_start(collection=team.collection, algorithm="patchcore", parameters=FAST_PARAMETERS)
    job_run(job_id=job.pk, work=train_execute)
    job.refresh_from_db()
    assert job.status == "succeeded", job.failure_reason
    metrics = job.model_version.metrics
    assert metrics["n_defective"] == 3 and metrics["n_masks"] == 3
    assert 0 <= metrics["pixel_auroc"] <= 1 and 0 <= metrics["aupro"] <= 1
    # The canvas chosen from the images is what the version records and the saved model holds.
    assert metrics["fit"]["canvas"] == "the images (64x64 px) fit the canvas"
    assert job.model_version.parameters.get("preprocess_mode") is None  # "auto", the default
    assert model_load(job.model_version).params.preprocess_mode == "letterbox"

    label(defects[0], author=None, verdict=Verdict.NORMAL)  # relabeled after training: figures stand
    rows = model_version_test_scores(version=job.model_version)

    labels = [row["label"] for row in rows]
    assert labels.count(1) == metrics["n_defective"]
    assert len(labels) - labels.count(None) == metrics["n_labeled"]
