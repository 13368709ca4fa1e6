"""Bridge between the stored indicators and the pure progress engine."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import plotly.graph_objects as go
from django.conf import settings

from indicators.charts import indicator_chart
from indicators.models import Indicator
from indicators.progress import Assessment, Point, Target, assess, milestone_path, year_end


def tolerance() -> Decimal:
    return Decimal(str(settings.PROGRESS_TOLERANCE))


def target_for(indicator: Indicator) -> Target:
    """The indicator's target as plain values; uses prefetched milestones when present."""
    milestones = tuple(
        Point(m.due_date or year_end(m.year), m.value) for m in indicator.milestones.all()
    )
    if indicator.kind == Indicator.Kind.DELIVERABLE and milestones:
        deadline = max(m.on for m in milestones)
    elif indicator.target_year:
        deadline = year_end(indicator.target_year)
    else:
        deadline = None
    baseline = None
    if indicator.baseline_value is not None and indicator.baseline_date is not None:
        baseline = Point(indicator.baseline_date, indicator.baseline_value)
    return Target(
        kind=indicator.kind,
        direction=indicator.direction,
        start=dt.date(indicator.plan.start_year, 1, 1),
        milestones=tuple(sorted(milestones, key=lambda p: p.on)),
        final_target=indicator.final_target,
        deadline=deadline,
        baseline=baseline,
    )


def reports_for(indicator: Indicator) -> list[Point]:
    return [Point(m.period_end, m.value) for m in indicator.measurements.all()]


def assess_indicator(indicator: Indicator, on: dt.date) -> Assessment:
    return assess(target_for(indicator), reports_for(indicator), on, tolerance=tolerance())


def chart_for(indicator: Indicator, assessment: Assessment) -> go.Figure:
    """The indicator's values against its milestone path, with the projection at the pace so far."""
    target = target_for(indicator)
    reports = reports_for(indicator)
    projected = None
    if assessment.projected and assessment.final is not None and reports:
        projected = Point(assessment.projected, assessment.final)
    return indicator_chart(
        unit=indicator.unit,
        path=milestone_path(target),
        reports=reports,
        projected=projected,
        final=target.final,
        deadline=target.due,
        at_most=indicator.direction == Indicator.Direction.AT_MOST,
    )
