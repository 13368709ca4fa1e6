"""The submission board's table: one row per department that must report (board.BoardRow)."""

from __future__ import annotations

import django_tables2 as tables
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _


def _when(value) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else "—"


class BoardTable(tables.Table):
    department = tables.Column(
        verbose_name=_("部门"), accessor="department__name", order_by=("department__name",)
    )
    liaisons = tables.Column(verbose_name=_("联络员"), orderable=False, empty_values=())
    state = tables.Column(verbose_name=_("报送状态"), order_by=("state_rank", "department__name"))
    submitted_at = tables.Column(
        verbose_name=_("报送时间"),
        order_by=("submitted_at", "department__name"),
        empty_values=(),
        attrs={"td": {"class": "num"}},
    )
    item_count = tables.Column(
        verbose_name=_("任务事项"), attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    value_count = tables.Column(
        verbose_name=_("指标数值"), attrs={"td": {"class": "num"}, "th": {"class": "num"}}
    )
    report = tables.Column(verbose_name=_("报告"), orderable=False, empty_values=())

    class Meta:
        order_by = ("state",)
        attrs = {"class": "table board"}
        empty_text = _("没有符合条件的部门。")

    def render_department(self, record):
        department = record.department
        url = reverse("department-detail", args=[department.pk])
        if department.is_collective:
            return format_html(
                "<a href='{}'>{}</a> <span class='tag'>{}</span>", url, department.name, _("集合")
            )
        return format_html("<a href='{}'>{}</a>", url, department.name)

    def render_liaisons(self, record):
        if not record.liaisons:
            return format_html("<span class='muted'>{}</span>", _("未指定"))
        return format_html_join(
            "<br>",
            "{} <span class='phone'>{}</span>",
            ((liaison.name, liaison.phone) for liaison in record.liaisons),
        )

    def value_liaisons(self, record):
        return "; ".join(f"{liaison.name} {liaison.phone}".strip() for liaison in record.liaisons)

    def render_state(self, record):
        returned = ""
        if record.returned_count:
            returned = format_html(
                " <small>{}</small>", _("退回 %(n)s 项") % {"n": record.returned_count}
            )
        return format_html(
            "<span class='board-state board-{}'>{}</span>{}",
            record.state.value,
            record.state.label,
            returned,
        )

    def value_state(self, record):
        return str(record.state.label)

    def render_submitted_at(self, record):
        if record.submitted_at is None:
            return "—"
        first = record.first_submitted_at
        if first and first != record.submitted_at:
            return format_html(
                "{}<br><small>{} {}</small>", _when(record.submitted_at), _("首次"), _when(first)
            )
        return _when(record.submitted_at)

    def value_submitted_at(self, record):
        return _when(record.submitted_at)

    def render_report(self, record):
        if record.report is None:
            return "—"
        return format_html(
            "<a href='{}'>{}</a>", reverse("report-detail", args=[record.report.pk]), _("查看")
        )
