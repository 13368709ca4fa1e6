"""The indicator table of a plan: one row per indicator, one column per milestone year."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from indicators.formatting import format_amount
from indicators.models import Indicator
from indicators.progress import Status


class MilestoneYearColumn(tables.Column):
    """The milestone of one year, read from the prefetched `milestones`."""

    def __init__(self, year: int, **kwargs):
        self.year = year
        super().__init__(
            accessor="pk",
            verbose_name=str(year),
            orderable=False,
            attrs={"td": {"class": "num"}, "th": {"class": "num"}},
            **kwargs,
        )

    def milestone(self, record: Indicator):
        return next((m for m in record.milestones.all() if m.year == self.year), None)

    def render(self, record: Indicator):
        milestone = self.milestone(record)
        if milestone is None:
            return "—"
        alternatives = [a for a in record.alternative_milestones.all() if a.year == self.year]
        return render_to_string(
            "indicators/_milestone_cell.html",
            {"indicator": record, "milestone": milestone, "alternatives": alternatives},
        )

    def value(self, record: Indicator):
        milestone = self.milestone(record)
        return None if milestone is None else milestone.value


class IndicatorTable(tables.Table):
    source_clause = tables.Column(verbose_name=_("条款"), order_by=("position",))
    # render_name makes the link itself: linkify as well would nest one <a> in another.
    name = tables.Column(verbose_name=_("指标"), order_by=("position",))
    unit = tables.Column(verbose_name=_("单位"), orderable=False)
    kind = tables.Column(verbose_name=_("类型"))
    baseline_value = tables.Column(verbose_name=_("基期"), orderable=False, empty_values=())
    final_target = tables.Column(
        verbose_name=_("最终目标"), attrs={"td": {"class": "num"}}, empty_values=()
    )
    departments = tables.Column(verbose_name=_("责任部门"), orderable=False, empty_values=())

    class Meta:
        model = Indicator
        fields = ["source_clause", "name", "unit", "kind", "baseline_value"]
        order_by = ("position",)
        attrs = {"class": "table indicators"}
        empty_text = _("没有符合条件的指标。")

    def __init__(self, data, *, years: range, **kwargs):
        extra = [(f"year_{y}", MilestoneYearColumn(y)) for y in years]
        sequence = ["source_clause", "name", "unit", "kind", "baseline_value"]
        sequence += [name for name, _ in extra] + ["final_target", "departments"]
        super().__init__(data, extra_columns=extra, sequence=sequence, **kwargs)

    def render_kind(self, record: Indicator):
        text = record.get_kind_display()
        if record.direction == Indicator.Direction.AT_MOST:
            return format_html("{} <span class='tag'>{}</span>", text, _("上限"))
        return text

    def render_name(self, record: Indicator, value):
        if getattr(record, "has_conflict", False):
            return format_html(
                "<a href='{}'>{}</a> <span class='badge conflict' title='{}'>{}</span>",
                record.get_absolute_url(),
                value,
                record.conflict_note,
                _("口径冲突"),
            )
        return format_html("<a href='{}'>{}</a>", record.get_absolute_url(), value)

    def render_baseline_value(self, record: Indicator):
        if record.baseline_value is None:
            return "—"
        text = record.baseline_note or format_amount(record.baseline_value, record.unit)
        if record.baseline_date:
            return format_html(
                "{} <small>({})</small>", text, record.baseline_date.strftime("%Y-%m")
            )
        return text

    def render_final_target(self, record: Indicator):
        if record.final_target is None:
            return _("持续实施") if record.is_ongoing else "—"
        target = format_amount(record.final_target, record.unit)
        if record.kind == Indicator.Kind.DELIVERABLE:
            target = _("完成")
        prefix = "≤ " if record.direction == Indicator.Direction.AT_MOST else ""
        year = f" ({record.target_year})" if record.target_year else ""
        return f"{prefix}{target}{year}"

    def value_final_target(self, record: Indicator):
        return record.final_target

    def render_departments(self, record: Indicator):
        return "、".join(link.department.name for link in record.links.all()) or "—"


class IndicatorProgressTable(tables.Table):
    """A plan's indicators on a date: status, actual against expected, milestone, projection.

    Rows are `plans.dashboards.IndicatorRow` objects (the status is computed, not stored).
    """

    clause = tables.Column(
        verbose_name=_("条款"),
        accessor="indicator__source_clause",
        order_by=("indicator__position",),
    )
    name = tables.Column(verbose_name=_("指标"), accessor="indicator__name")
    status = tables.Column(verbose_name=_("状态"), order_by=("status_rank",))
    progress = tables.Column(verbose_name=_("实际 / 应达"), accessor="assessment", orderable=False)
    final = tables.Column(
        verbose_name=_("最终目标"), accessor="assessment__final", orderable=False, empty_values=()
    )
    projection = tables.Column(
        verbose_name=_("预计完成"),
        accessor="assessment__projected",
        orderable=False,
        empty_values=(),
    )

    class Meta:
        attrs = {"class": "table progress"}
        order_by = ("indicator__position",)
        empty_text = _("没有符合条件的指标。")
        template_name = "django_tables2/table.html"

    def render_name(self, record, value):
        indicator = record.indicator
        conflict = ""
        if getattr(indicator, "has_conflict", False):
            conflict = format_html(
                " <span class='badge conflict' title='{}'>{}</span>",
                indicator.conflict_note,
                _("口径冲突"),
            )
        return format_html("<a href='{}'>{}</a>{}", indicator.get_absolute_url(), value, conflict)

    def render_status(self, record):
        return render_to_string("partials/_status.html", {"status": record.status})

    def value_status(self, record):
        return str(record.status.label)

    def render_progress(self, record):
        return render_to_string("indicators/_progress_bar.html", {"row": record})

    def render_final(self, record):
        indicator = record.indicator
        if indicator.kind == Indicator.Kind.DELIVERABLE:
            year = indicator.target_year or ""
            return format_html("{} <small>{}</small>", _("完成"), year)
        if record.assessment.final is None:
            return _("持续实施") if indicator.is_ongoing else "—"
        prefix = "≤ " if indicator.direction == Indicator.Direction.AT_MOST else ""
        year = f" ({indicator.target_year})" if indicator.target_year else ""
        return f"{prefix}{format_amount(record.assessment.final, indicator.unit)}{year}"

    def render_projection(self, record):
        a = record.assessment
        deliverable = record.indicator.kind == Indicator.Kind.DELIVERABLE
        if a.status == Status.ACHIEVED or a.actual is None or deliverable:
            return "—"
        if a.projected is None:
            return _("按当前进度无法完成")
        return _("按当前进度,预计%(year)s年完成") % {"year": a.projected.year}
