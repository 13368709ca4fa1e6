"""The task table of a plan or a department: clause, wording, lead and supporting departments."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.translation import gettext_lazy as _

from tasks.models import Task


def _department_names(links) -> str:
    return "、".join(link.department.name for link in links) or "—"


class TaskTable(tables.Table):
    clause = tables.Column(verbose_name=_("条款"), order_by=("position",))
    title = tables.Column(verbose_name=_("工作任务"), order_by=("position",))
    lead = tables.Column(verbose_name=_("牵头单位"), empty_values=(), orderable=False)
    supporting = tables.Column(verbose_name=_("配合单位"), empty_values=(), orderable=False)
    schedule = tables.Column(verbose_name=_("时间进度"), empty_values=(), orderable=False)

    class Meta:
        model = Task
        fields = ["clause", "title"]
        order_by = ("position",)
        attrs = {"class": "table tasks"}
        empty_text = _("没有符合条件的任务。")

    def render_title(self, record: Task):
        return render_to_string("tasks/_task_cell.html", {"task": record})

    def value_title(self, record: Task):
        return record.text

    def render_lead(self, record: Task):
        return _department_names(record.lead_links)

    def value_lead(self, record: Task):
        return _department_names(record.lead_links)

    def render_supporting(self, record: Task):
        return _department_names(record.supporting_links)

    def value_supporting(self, record: Task):
        return _department_names(record.supporting_links)

    def render_schedule(self, record: Task):
        return render_to_string("tasks/_schedule_cell.html", {"task": record})

    def value_schedule(self, record: Task):
        return record.schedule


class DepartmentTaskTable(TaskTable):
    """A department's tasks across plans: the plan and the department's role come first."""

    plan = tables.Column(verbose_name=_("方案"), accessor="plan", linkify=True)

    class Meta(TaskTable.Meta):
        sequence = ["plan", "clause", "title", "lead", "supporting", "schedule"]
        order_by = ("plan", "position")
