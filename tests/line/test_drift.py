"""Drift: the line's scores against the promoted version's validation scores. Brighter parts raise
the alert; parts like the validation ones leave it off."""

import numpy as np
import pytest
from scipy import stats

from inference.ml.drift import ks_critical, ks_statistic, proportion_upper
from inference.models import ModelVersion
from inference.selectors import model_version_test_scores
from line.models import LinePolicy
from line.selectors import drift_report, reject_ceiling
from line.services.inspection import inspect_images
from tests.annotations.api.conftest import as_user
from tests.annotations.api.helpers import API
from tests.line.conftest import line_images

__all__ = ["as_user"]  # the fixture


@pytest.mark.parametrize(("n", "m", "shift"), [(30, 12, 0.0), (200, 50, 0.5), (7, 300, 2.0)])
def test_the_ks_statistic_is_scipys(n, m, shift):
    rng = np.random.default_rng(n)
    a, b = rng.normal(shift, 1, n), rng.normal(0, 1, m)
    assert ks_statistic(a, b) == pytest.approx(stats.ks_2samp(a, b).statistic, abs=1e-12)
    assert ks_statistic(a, a) == 0.0


def test_the_critical_value_holds_its_significance():
    rng = np.random.default_rng(0)
    critical = ks_critical(40, 40, 0.05)
    false_alarms = sum(ks_statistic(rng.normal(size=40), rng.normal(size=40)) > critical for _ in range(2000))
    assert 0.01 < false_alarms / 2000 < 0.06  # the asymptotic bound is a little conservative
    with pytest.raises(ValueError, match="alpha"):
        ks_critical(10, 10, 1.5)


def test_the_reject_ceiling_is_honest_about_small_validation_sets():
    # No false alarm among 12 validation normals still allows a true rate of up to z^2 / (12 + z^2).
    assert proportion_upper(0, 12, 2.576) == pytest.approx(2.576**2 / (12 + 2.576**2))
    assert proportion_upper(5, 10, 1.96) == pytest.approx(0.7634, abs=1e-4)  # the textbook Wilson bound
    assert reject_ceiling(0, 12, 40, allowed=0.1) > 0.35
    assert reject_ceiling(0, 100_000, 40, allowed=0.1) == pytest.approx(0.1, abs=1e-3)
    with pytest.raises(ValueError):
        proportion_upper(3, 2, 1.0)


@pytest.mark.slow
@pytest.mark.usefixtures("sent")
def test_brighter_parts_raise_the_alert_and_like_parts_do_not(line_version, team, as_user):
    collection = team.collection
    LinePolicy.objects.create(collection=collection, drift_window=40, keep_passed_share=0.0)
    report = drift_report(version=line_version, policy=collection.line_policy)
    assert report["state"] == "unknown" and "inspections" in report["reason"]

    for batch in range(2):
        inspect_images(collection=collection, uploads=line_images(20, seed=40 + batch))
    report = drift_report(version=line_version, policy=collection.line_policy)
    assert report["state"] == "ok", report["reason"]
    assert report["ks_statistic"] <= report["ks_critical"] and report["recent_count"] == 40

    for batch in range(2):
        inspect_images(collection=collection, uploads=line_images(20, seed=50 + batch, brighter=70))
    drift = as_user(team.viewer).get(f"{API}/collections/{collection.pk}/drift/").json()
    assert drift["state"] == "alert" and "validation scores" in drift["reason"]
    assert drift["ks_statistic"] > drift["ks_critical"] and drift["model_version"] == line_version.pk
    assert 1 <= len(drift["series"]) <= 12 and all(point["count"] >= 1 for point in drift["series"])


@pytest.mark.slow
@pytest.mark.usefixtures("sent")
def test_a_reject_rate_out_of_its_band_alone_raises_the_alert(line_version, team):
    # Parts like the validation ones, judged for a while by a threshold below most normal validation
    # scores (a manager's mistake, say): their scores do not move, but the line rejects most of them.
    collection = team.collection
    LinePolicy.objects.create(
        collection=collection, drift_window=40, keep_flagged=False, keep_passed_share=0.0
    )
    normal = sorted(
        row["score"] for row in model_version_test_scores(version=line_version) if row["label"] == 0
    )
    threshold = line_version.threshold
    ModelVersion.objects.filter(pk=line_version.pk).update(threshold=normal[len(normal) // 4])
    for batch in range(2):
        inspect_images(collection=collection, uploads=line_images(20, seed=40 + batch))
    ModelVersion.objects.filter(pk=line_version.pk).update(threshold=threshold)
    line_version.refresh_from_db()

    report = drift_report(version=line_version, policy=collection.line_policy)
    assert report["state"] == "alert", report["reason"]
    assert report["ks_statistic"] <= report["ks_critical"], "the scores look like the validation ones"
    assert report["reject_rate"] > report["reject_ceiling"] >= report["expected_reject_rate"]
    assert "rejects" in report["reason"] and "validation scores" not in report["reason"]
