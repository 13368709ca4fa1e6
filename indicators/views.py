from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from indicators.assessment import assess_indicator, chart_for
from indicators.charts import figure_json
from indicators.forms import (
    MeasurementForm,
    MeasurementGrid,
    Outcome,
    display_value,
    measurements_at,
)
from indicators.models import Indicator, Measurement, Milestone
from plans.models import Plan
from plans.periods import (
    chosen_period_end,
    default_period_end,
    parse_period,
    period_ends,
    period_label,
)
from plans.roles import can_edit_plans, office_required


@dataclass(frozen=True)
class MeasurementChange:
    """One line of an indicator's change log: a value entered, changed or cleared."""

    at: dt.datetime
    user: object
    period_end: dt.date
    old: str | None
    new: str | None
    note: str

    @property
    def period(self) -> str:
        return period_label(self.period_end)


def measurement_history(indicator: Indicator) -> list[MeasurementChange]:
    """Every recorded change of the indicator's values, newest first, in one query.

    The old value of a change is the previous record of the same measurement; None for
    a value entered for the first time, and `new` is None when the value was cleared.
    """
    records = (
        Measurement.history.filter(indicator_id=indicator.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    last: dict[int, str | None] = {}
    changes = []
    for record in records:
        new = None if record.history_type == "-" else display_value(record.value, indicator)
        changes.append(
            MeasurementChange(
                at=record.history_date,
                user=record.history_user,
                period_end=record.period_end,
                old=last.get(record.id),
                new=new,
                note=record.note,
            )
        )
        last[record.id] = new
    changes.reverse()
    return changes


def _period_or_default(text: str | None, ends: list[dt.date]) -> dt.date:
    return chosen_period_end(text, ends, timezone.localdate())


@login_required
def indicator_detail(request: HttpRequest, code: str, indicator: str) -> HttpResponse:
    item = get_object_or_404(
        Indicator.objects.select_related("plan__jurisdiction", "section")
        .prefetch_related(
            "milestones",
            "alternative_milestones",
            "links__department",
            Prefetch(
                "measurements",
                queryset=Measurement.objects.select_related("entered_by").order_by("period_end"),
            ),
        )
        .with_conflict_flag(),
        plan__code=code,
        code=indicator,
    )
    milestones = list(item.milestones.all())
    cumulative, running = [], 0
    for m in milestones:
        running += m.value
        cumulative.append((m, running))
    plan = item.plan
    ends = period_ends(plan.start_year, plan.end_year)
    grid_period = default_period_end(ends, timezone.localdate())
    on = _period_or_default(request.GET.get("period"), ends)
    assessment = assess_indicator(item, on)
    return render(
        request,
        "indicators/indicator_detail.html",
        {
            "plan": plan,
            "indicator": item,
            "milestones": cumulative,
            "alternatives": list(item.alternative_milestones.all()),
            "measurements": item.measurements.all(),
            "assessment": assessment,
            "period_label": period_label(on),
            "chart": figure_json(chart_for(item, assessment)),
            "is_flow": item.kind == Indicator.Kind.FLOW,
            "can_edit": can_edit_plans(request.user),
            "history": measurement_history(item),
            "grid_period": grid_period,
        },
    )


def _saved_message(outcome: Outcome, indicator: Indicator, period: dt.date) -> str:
    label = period_label(period)
    if outcome is Outcome.CLEARED:
        return _("已清除“%(indicator)s”%(period)s的实际值。") % {
            "indicator": indicator.name,
            "period": label,
        }
    value = display_value(indicator.measurements.get(period_end=period).value, indicator)
    return _("已保存“%(indicator)s”%(period)s的实际值:%(value)s。") % {
        "indicator": indicator.name,
        "period": label,
        "value": value,
    }


@office_required
@require_http_methods(["GET", "HEAD", "POST"])
def measurement_edit(request: HttpRequest, code: str, indicator: str) -> HttpResponse:
    """Enter, correct or clear one indicator's actual value for one period."""
    item = get_object_or_404(
        Indicator.objects.select_related("plan__jurisdiction", "section"),
        plan__code=code,
        code=indicator,
    )
    plan = item.plan
    ends = period_ends(plan.start_year, plan.end_year)
    if request.method == "POST":
        with transaction.atomic():
            form = MeasurementForm(request.POST, indicator=item, period_ends=ends)
            if form.is_valid():
                outcome = form.save(by=request.user)
                if outcome is Outcome.UNCHANGED:
                    messages.info(request, _("未作修改。"))
                else:
                    messages.success(request, _saved_message(outcome, item, form.period_end))
                return redirect(item)
        period = form.cleaned_data.get("period") or _period_or_default(None, ends)
    else:
        period = _period_or_default(request.GET.get("period"), ends)
        form = None
    stored = {m.period_end: m for m in item.measurements.select_related("entered_by")}
    if form is None:
        form = MeasurementForm(
            initial={
                "period": period.isoformat(),
                "started_period": period.isoformat(),
                **MeasurementForm.initial_for(stored.get(period)),
            },
            indicator=item,
            period_ends=ends,
        )
    periods = [(end, period_label(end), stored.get(end)) for end in ends]
    return render(
        request,
        "indicators/measurement_form.html",
        {
            "plan": plan,
            "indicator": item,
            "form": form,
            "period": period,
            "period_label": period_label(period),
            "periods": periods,
        },
    )


@office_required
@require_http_methods(["GET", "HEAD", "POST"])
def measurement_grid(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """Every indicator of a plan for one period, saved together in one transaction."""
    plan = get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)
    ends = period_ends(plan.start_year, plan.end_year)
    period_end = parse_period(period)
    if period_end not in ends:
        raise Http404(_("该方案没有这个报告期。"))
    indicators = list(
        plan.indicators.order_by("position", "pk").prefetch_related(
            Prefetch(
                "milestones",
                queryset=Milestone.objects.filter(year=period_end.year),
                to_attr="year_milestones",
            )
        )
    )
    ids = [i.pk for i in indicators]
    url = reverse("measurement-grid", args=[plan.code, period_end.isoformat()])
    if request.method == "POST":
        with transaction.atomic():
            current = measurements_at(ids, period_end, lock=True)
            grid = MeasurementGrid(
                request.POST, indicators=indicators, period_end=period_end, current=current
            )
            if grid.is_valid():
                counts = grid.save(by=request.user)
                messages.success(request, _grid_message(counts, period_end))
                return redirect(url)
        messages.error(
            request,
            _("有 %(count)s 行未通过检查,本次未保存任何数值。请修改标出的行后重新提交。")
            % {"count": len(grid.invalid_rows)},
        )
    else:
        current = measurements_at(ids, period_end)
        grid = MeasurementGrid(indicators=indicators, period_end=period_end, current=current)
    return render(
        request,
        "indicators/measurement_grid.html",
        {
            "plan": plan,
            "grid": grid,
            "period_end": period_end,
            "period_label": period_label(period_end),
            "periods": [(end, period_label(end)) for end in ends],
            "action": url,
        },
    )


def _grid_message(counts: Counter, period_end: dt.date) -> str:
    if not (counts[Outcome.CREATED] or counts[Outcome.UPDATED] or counts[Outcome.CLEARED]):
        return _("%(period)s:未作修改。") % {"period": period_label(period_end)}
    return _("%(period)s:新填 %(created)s 项,修改 %(updated)s 项,清除 %(cleared)s 项。") % {
        "period": period_label(period_end),
        "created": counts[Outcome.CREATED],
        "updated": counts[Outcome.UPDATED],
        "cleared": counts[Outcome.CLEARED],
    }
