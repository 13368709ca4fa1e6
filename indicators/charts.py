"""Charts as plotly figures built from plain values; templates embed them as JSON.

Pages pass `figure_json(fig)` through `json_script`, and static/js/charts.js draws every
`[data-chart]` element with the app's own plotly.js: no inline script, no CDN.
Text that users or documents wrote is escaped before it reaches a label, since plotly renders
a subset of HTML in hover labels and titles.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Sequence
from decimal import Decimal
from html import escape

import plotly.graph_objects as go
from django.utils.translation import gettext as _

from indicators.progress import SEVERITY, Point, Status

STATUS_COLOURS = {
    Status.OVERDUE: "#7f1d1d",
    Status.BEHIND: "#c62828",
    Status.AT_RISK: "#f9a825",
    Status.ON_TRACK: "#2e7d32",
    Status.ACHIEVED: "#1565c0",
    Status.NO_DATA: "#6e6e6e",  # as the badges: readable white text (contrast 5.1:1)
}
FONT = "Noto Sans CJK SC, Source Han Sans SC, PingFang SC, Microsoft YaHei, sans-serif"


def _layout(**kw) -> dict:
    layout = {
        "font": {"family": FONT, "size": 13},
        "margin": {"l": 10, "r": 10, "t": 30, "b": 10},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "#fff",
        "legend": {"orientation": "h", "y": -0.2},
    }
    layout.update(kw)
    return layout


def _num(value: Decimal | None) -> float | None:
    return None if value is None else float(value)


def indicator_chart(
    *,
    unit: str,
    path: Sequence[Point],
    reports: Sequence[Point],
    projected: Point | None = None,
    final: Decimal | None = None,
    deadline: dt.date | None = None,
    at_most: bool = False,
) -> go.Figure:
    """Actual values against the milestone path, with the projection at the pace so far."""
    unit_text = escape(unit)
    fig = go.Figure()
    if path:
        fig.add_trace(
            go.Scatter(
                x=[p.on for p in path],
                y=[_num(p.value) for p in path],
                mode="lines+markers",
                name=_("目标路径"),
                line={"color": "#90a4ae", "dash": "dot"},
                hovertemplate="%{x|%Y-%m-%d}<br>" + _("应达") + " %{y:,.2f} " + unit_text,
            )
        )
    if reports:
        fig.add_trace(
            go.Scatter(
                x=[p.on for p in reports],
                y=[_num(p.value) for p in reports],
                mode="lines+markers",
                name=_("实际值"),
                line={"color": "#b3261e", "width": 3},
                hovertemplate="%{x|%Y-%m-%d}<br>" + _("实际") + " %{y:,.2f} " + unit_text,
            )
        )
    if projected is not None and reports:
        latest = reports[-1]
        fig.add_trace(
            go.Scatter(
                x=[latest.on, projected.on],
                y=[_num(latest.value), _num(projected.value)],
                mode="lines",
                name=_("按当前进度预测"),
                line={"color": "#b3261e", "dash": "dash", "width": 1.5},
                hovertemplate="%{x|%Y-%m}<br>" + _("预测") + " %{y:,.2f} " + unit_text,
            )
        )
    if final is not None:
        label = ("≤ " if at_most else "") + _("最终目标")
        fig.add_hline(
            y=float(final),
            line={"color": "#1565c0", "width": 1},
            annotation_text=escape(label),
            annotation_position="top left",
        )
    if deadline is not None:
        fig.add_vline(x=deadline.isoformat(), line={"color": "#1565c0", "width": 1, "dash": "dot"})
    fig.update_layout(
        **_layout(
            height=320,
            yaxis={"title": unit_text, "rangemode": "tozero"},
            xaxis={"tickformat": "%Y-%m"},  # plotly's month names would be English
        )
    )
    return fig


def status_share_chart(rows: Sequence[tuple[str, dict[Status, int]]]) -> go.Figure:
    """One horizontal bar per plan, split by status, worst first."""
    labels = [escape(label) for label, _counts in rows]
    fig = go.Figure()
    for status in SEVERITY:
        fig.add_trace(
            go.Bar(
                y=labels,
                x=[counts.get(status, 0) for _label, counts in rows],
                name=str(status.label),
                orientation="h",
                marker={"color": STATUS_COLOURS[status]},
                hovertemplate="%{y}<br>" + escape(str(status.label)) + ": %{x}<extra></extra>",
            )
        )
    fig.update_layout(
        **_layout(
            barmode="stack",
            height=max(200, 90 + 36 * len(rows)),
            legend={"orientation": "h", "y": 1.02, "yanchor": "bottom", "traceorder": "normal"},
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": _("指标与任务数")},
        )
    )
    return fig


def furthest_behind_chart(rows: Sequence[tuple[str, Decimal]]) -> go.Figure:
    """The indicators furthest short of where they should be, as a share of the expected value."""
    labels = [escape(label) for label, _gap in rows]
    fig = go.Figure(
        go.Bar(
            y=labels,
            x=[round(float(gap) * 100, 1) for _label, gap in rows],
            orientation="h",
            marker={"color": STATUS_COLOURS[Status.BEHIND]},
            hovertemplate="%{y}<br>" + _("低于应达值") + " %{x}%<extra></extra>",
        )
    )
    fig.update_layout(
        **_layout(
            height=max(180, 60 + 30 * len(rows)),
            yaxis={"autorange": "reversed", "automargin": True},
            xaxis={"title": _("低于应达值(%)"), "ticksuffix": "%"},
        )
    )
    return fig


def figure_json(fig: go.Figure) -> dict:
    """The figure as plain JSON data for `json_script`."""
    return json.loads(fig.to_json())
