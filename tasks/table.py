"""The task table as offices exchange it: 序号 / 工作任务 / 牵头单位 / 配合单位 / 时间进度.

One definition for both directions: the Excel export writes these five columns first on its
任务进展 sheet, and the task import reads them back (Xianyang's plan is published in exactly this
layout). Exporting a plan's tasks and importing the file again must change nothing, so every
cell is derived here and nowhere else.

- 序号 is the task's clause, the key the import matches rows on ("1", "1.1", "二、(一)3").
- 工作任务 is the task's text, the document's words.
- 牵头单位 and 配合单位 list the departments in their order, as the document cited them, joined
  with DEPARTMENT_SEPARATOR; the import splits on any of DEPARTMENT_SPLIT.
- 时间进度 is the document's schedule.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:
    from tasks.models import Task, TaskDepartment

TASK_TABLE_HEADERS = ("序号", "工作任务", "牵头单位", "配合单位", "时间进度")
DEPARTMENT_SEPARATOR = "、"
# What people put between department names in a cell: 、 , , ; ; / and line breaks.
DEPARTMENT_SPLIT = re.compile(r"[、,,;;/\n\r]+")


class TaskTableRow(NamedTuple):
    number: str
    text: str
    lead: str
    support: str
    schedule: str


def department_cell(links: list[TaskDepartment]) -> str:
    """Department names of one role in document order, spelled as the document cited them."""
    ordered = sorted(links, key=lambda link: link.position)
    return DEPARTMENT_SEPARATOR.join(link.cited_name for link in ordered)


def split_departments(cell: str) -> list[str]:
    """The names in a 牵头单位 / 配合单位 cell, trimmed, empty parts dropped, order kept."""
    return [name.strip() for name in DEPARTMENT_SPLIT.split(cell or "") if name.strip()]


def task_table_row(task: Task) -> TaskTableRow:
    """The five columns for one task; use `Task.objects.with_departments()` to avoid queries."""
    return TaskTableRow(
        number=task.clause,
        text=task.text,
        lead=department_cell(task.lead_links),
        support=department_cell(task.supporting_links),
        schedule=task.schedule,
    )
