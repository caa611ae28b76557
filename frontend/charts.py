"""Small charts drawn on the server as SVG geometry: the page's template only places what is here."""

from collections.abc import Sequence
from typing import Any

CHART_WIDTH, CHART_HEIGHT, CHART_PAD = 320, 96, 8


def _points(xs: Sequence[float], ys: Sequence[float]) -> str:
    return " ".join(f"{x:.1f},{y:.1f}" for x, y in zip(xs, ys, strict=True))


def line_panel(
    values: Sequence[float], limits: Sequence[float], *, title: str, width: int = CHART_WIDTH
) -> dict[str, Any]:
    """One panel of a series over time: the values as a line, each point's limit as a dashed line,
    on a vertical scale from 0 to a little above the highest of both (at most 1: the series here are
    rates and statistics in [0, 1]).

    Returns:
        ``width``, ``height``, ``line`` and ``limit`` (SVG polyline points), ``dots`` (``x``, ``y``,
        ``over``: the value passed its limit) and ``top`` (the value at the top edge).
    """
    if len(values) != len(limits) or not values:
        raise ValueError("a panel needs as many limits as values, and at least one of each")
    top = min(1.0, max(*values, *limits) * 1.15) or 1.0
    inner_w, inner_h = width - 2 * CHART_PAD, CHART_HEIGHT - 2 * CHART_PAD
    step = inner_w / (len(values) - 1) if len(values) > 1 else 0.0
    xs = [CHART_PAD + (i * step if len(values) > 1 else inner_w / 2) for i in range(len(values))]

    def y(value: float) -> float:
        return CHART_PAD + inner_h * (1 - min(value, top) / top)

    dots = [
        {"x": round(x, 1), "y": round(y(v), 1), "over": v > limit, "value": v}
        for x, v, limit in zip(xs, values, limits, strict=True)
    ]
    return {
        "title": title,
        "width": width,
        "height": CHART_HEIGHT,
        "line": _points(xs, [y(v) for v in values]),
        "limit": _points(xs, [y(v) for v in limits]),
        "dots": dots,
        "top": top,
    }


def drift_panels(series: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """The drift report's series as two panels: the KS statistic against its critical value, and the
    reject rate against its ceiling."""
    if not series:
        return []
    return [
        line_panel(
            [p["ks_statistic"] for p in series],
            [p["ks_critical"] for p in series],
            title="Score shift (KS statistic; dashed: significant above)",
        ),
        line_panel(
            [p["reject_rate"] for p in series],
            [p["reject_ceiling"] for p in series],
            title="Reject rate (dashed: ceiling)",
        ),
    ]
