"""The task table of a plan or a department: clause, wording, lead and supporting departments."""

from __future__ import annotations

import django_tables2 as tables
from django.template.loader import render_to_string
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from tasks.models import Task
from tasks.progress import TaskState


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


class TaskStatusTable(tables.Table):
    """Rows are `plans.dashboards.TaskRow`: a task with its computed status."""

    title = tables.Column(verbose_name=_("工作任务"), accessor="task__title")
    status = tables.Column(verbose_name=_("状态"), order_by=("status_rank",))
    lead = tables.Column(verbose_name=_("牵头单位"), accessor="task", orderable=False)

    def render_title(self, record):
        return render_to_string("tasks/_task_cell.html", {"task": record.task})

    def render_status(self, record):
        return render_to_string("partials/_status.html", {"status": record.status})

    def value_status(self, record):
        return str(record.status.label)

    def render_lead(self, record):
        return _department_names(record.task.lead_links)


class DepartmentTaskTable(TaskStatusTable):
    """A department's tasks across plans with their status."""

    plan = tables.Column(verbose_name=_("方案"), accessor="task__plan", linkify=True)
    clause = tables.Column(
        verbose_name=_("条款"),
        accessor="task__clause",
        order_by=("task__plan__code", "task__position"),
    )
    supporting = tables.Column(verbose_name=_("配合单位"), accessor="task", orderable=False)

    class Meta:
        attrs = {"class": "table tasks"}
        empty_text = _("无。")
        sequence = ["plan", "clause", "title", "status", "lead", "supporting"]

    def render_supporting(self, record):
        return _department_names(record.task.supporting_links)


class TaskProgressTable(TaskStatusTable):
    """A plan's reportable tasks on a date with their status and latest note."""

    clause = tables.Column(
        verbose_name=_("条款"), accessor="task__clause", order_by=("task__position",)
    )
    state = tables.Column(
        verbose_name=_("最新进展"), accessor="task__state_note", orderable=False, empty_values=()
    )

    class Meta:
        attrs = {"class": "table progress tasks"}
        order_by = ("task__position",)
        empty_text = _("没有符合条件的任务。")
        sequence = ["clause", "title", "status", "lead", "state"]

    def render_state(self, record):
        task = record.task
        if not getattr(task, "state", None):
            return "—"
        label = TaskState(task.state).label
        note = task.state_note or ""
        return format_html("<strong>{}</strong> {}", label, Truncator(note).chars(80))
