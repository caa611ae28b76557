"""What the line did, as people look at it: stations, recent inspections, and drift."""

import math
from typing import Any

from django.db.models import QuerySet

from annotations.selectors import project_list
from inference.ml.drift import ks_critical, ks_statistic, proportion_upper
from inference.models import ModelVersion
from inference.selectors import model_version_test_scores
from line.models import Inspection, LinePolicy, Station

MIN_REFERENCE = 10
"""Fewer validation scores than this and drift cannot be told."""
MIN_RECENT = 10
"""Fewer recent inspections than this and drift is not told yet."""
CHART_POINTS = 12
REJECT_Z = 2.576
"""Standard scores of the reject-rate band (two-sided 1 %)."""


def station_list(
    *, user: Any, collection_id: int | None = None, project_id: int | None = None
) -> QuerySet[Station]:
    """Stations of the collections the user is a member of, newest first."""
    stations = Station.objects.filter(collection__project__in=project_list(user=user)).select_related(
        "collection", "created_by"
    )
    if collection_id is not None:
        stations = stations.filter(collection_id=collection_id)
    if project_id is not None:
        stations = stations.filter(collection__project_id=project_id)
    return stations


def inspection_list(
    *,
    user: Any,
    collection_id: int | None = None,
    station_id: int | None = None,
    is_defective: bool | None = None,
) -> QuerySet[Inspection]:
    """Inspections of the collections the user is a member of, newest first."""
    inspections = Inspection.objects.filter(collection__project__in=project_list(user=user)).select_related(
        "station"
    )
    if collection_id is not None:
        inspections = inspections.filter(collection_id=collection_id)
    if station_id is not None:
        inspections = inspections.filter(station_id=station_id)
    if is_defective is not None:
        inspections = inspections.filter(is_defective=is_defective)
    return inspections


def _window_figures(scores: list[float], defective: list[bool], reference: list[float], alpha: float) -> dict:
    statistic = ks_statistic(scores, reference)
    critical = ks_critical(len(scores), len(reference), alpha)
    return {
        "count": len(scores),
        "ks_statistic": statistic,
        "ks_critical": critical,
        "reject_rate": sum(defective) / len(defective),
    }


def reject_ceiling(flagged: int, validated: int, count: int, allowed: float) -> float:
    """The highest reject rate a window of ``count`` inspections may show: the policy's ``allowed``
    rate, or, where validation says a good line may reject more (``flagged`` of ``validated`` normal
    validation images, at the upper end of its interval), that rate plus :data:`REJECT_Z` standard
    errors of the window."""
    expected = proportion_upper(flagged, validated, REJECT_Z)
    return min(1.0, max(allowed, expected + REJECT_Z * math.sqrt(expected * (1 - expected) / count)))


def drift_report(*, version: ModelVersion | None, policy: LinePolicy) -> dict[str, Any]:
    """The line's recent scores under the promoted version against that version's validation scores.

    ``state`` is ``ok``, ``alert`` (the scores' distribution moved, by the two-sample KS test at the
    policy's significance, or the reject rate left its band) or ``unknown`` (with ``reason``).
    ``series`` cuts the window into up to :data:`CHART_POINTS` consecutive parts, oldest first, for a
    chart over time. The reference is the validation images labeled normal — what a line of good parts
    shows — and the expected reject rate their share at or above the threshold.
    """
    if version is None:
        reason = "no promoted model: drift is measured against one"
        return {"state": "unknown", "reason": reason, "series": []}
    validation = model_version_test_scores(version=version)
    # A good line looks like the validation images labeled normal (all of them when none is labeled).
    normal = [row["score"] for row in validation if row["label"] == 0]
    reference = normal if len(normal) >= MIN_REFERENCE else [row["score"] for row in validation]
    report: dict[str, Any] = {"model_version": version.pk, "reference_count": len(reference), "series": []}
    if len(reference) < MIN_REFERENCE:
        reason = f"model {version.pk} has {len(reference)} validation scores; drift needs {MIN_REFERENCE}"
        return {**report, "state": "unknown", "reason": reason}
    rows = list(
        Inspection.objects.filter(collection_id=version.collection_id, model_version=version)
        .order_by("-id")
        .values_list("created_at", "score", "is_defective")[: policy.drift_window]
    )[::-1]
    if len(rows) < MIN_RECENT:
        reason = f"{len(rows)} inspections by model {version.pk} so far; drift is told from {MIN_RECENT}"
        return {**report, "state": "unknown", "reason": reason, "recent_count": len(rows)}
    flagged = sum(score >= version.threshold for score in reference)
    expected = flagged / len(reference)
    scores = [score for _at, score, _d in rows]
    defective = [d for _at, _s, d in rows]
    window = _window_figures(scores, defective, reference, policy.drift_alpha)
    ceiling = reject_ceiling(flagged, len(reference), len(rows), policy.max_reject_rate)
    shifted = window["ks_statistic"] > window["ks_critical"]
    rejecting = window["reject_rate"] > ceiling
    parts = min(CHART_POINTS, len(rows) // MIN_RECENT) or 1
    series = []
    for part in range(parts):
        chunk = rows[part * len(rows) // parts : (part + 1) * len(rows) // parts]
        figures = _window_figures(
            [s for _a, s, _d in chunk], [d for _a, _s, d in chunk], reference, policy.drift_alpha
        )
        ceiling_then = reject_ceiling(flagged, len(reference), len(chunk), policy.max_reject_rate)
        series.append({"until": chunk[-1][0].isoformat(), **figures, "reject_ceiling": ceiling_then})
    reasons = []
    if shifted:
        reasons.append(
            f"the line's scores differ from the validation scores (KS {window['ks_statistic']:.2f} > "
            f"{window['ks_critical']:.2f} at {policy.drift_alpha:g})"
        )
    if rejecting:
        reasons.append(f"the line rejects {window['reject_rate']:.0%} of its parts, more than {ceiling:.0%}")
    return {
        **report,
        **window,
        "recent_count": len(rows),
        "alpha": policy.drift_alpha,
        "expected_reject_rate": expected,
        "reject_ceiling": ceiling,
        "state": "alert" if reasons else "ok",
        "reason": "; ".join(reasons) or "the line's scores look like the validation scores",
        "since": rows[0][0].isoformat(),
        "series": series,
    }
