"""What the July and December workbooks hold, gathered as plain rows for `reports/excel.py`.

The indicator and task statuses come from `plans.dashboards.plan_progress`, the function the plan
dashboard draws, so the workbook and the screen cannot disagree; the five task-table columns come
from `tasks.table.task_table_row`, the contract with the task import; the submission states
come from `reports.board.board_rows`, the board's own rows. A fixed number of queries for a plan
of any size.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.models import Indicator
from indicators.progress import Status
from plans.dashboards import IndicatorRow, plan_progress
from plans.models import Department, Liaison, Plan
from plans.periods import period_label
from reports.board import SHOWN_ITEM_STATES, BoardRow, Contact, board_rows, state_of
from reports.excel import IndicatorLine, ReportData, SubmissionLine, TaskLine
from reports.models import Report, ReportingPeriod, ReportItem
from reports.rules import BoardState
from tasks.models import Task
from tasks.table import task_table_row

# -- Pure pieces ---------------------------------------------------------------------------


def workbook_title(plan: Plan, period_end: dt.date, department: str = "") -> str:
    """ "柳城县…实施方案(2018-2020年)2019年上半年工作情况", with the department when it is one's."""
    title = _("%(plan)s%(period)s工作情况") % {
        "plan": plan.title,
        "period": period_label(period_end),
    }
    return f"{title}({department})" if department else title


def timeliness(state: BoardState, first_submitted_on: dt.date | None, deadline: dt.date) -> str:
    """On time, late, not reported (past the deadline) or not yet due, judged like the board:
    by the first submission, so a report returned and sent again stays on time."""
    if first_submitted_on is not None:
        return "on_time" if first_submitted_on <= deadline else "late"
    return "missing" if state == BoardState.OVERDUE else "pending"


TIMELINESS = {
    "on_time": gettext_lazy("按时"),
    "late": gettext_lazy("逾期"),
    "missing": gettext_lazy("逾期未报"),
    "pending": gettext_lazy("未到期未报"),
}


def indicator_line(row: IndicatorRow) -> IndicatorLine:
    """The dashboard's indicator row as cells: the same numbers, the same wording for text."""
    indicator, a = row.indicator, row.assessment
    deliverable = indicator.kind == Indicator.Kind.DELIVERABLE
    at_most = indicator.direction == Indicator.Direction.AT_MOST
    if deliverable:
        final: Decimal | str | None = _("完成")
        actual: Decimal | str | None = None
        if a.actual is not None:
            actual = _("已完成") if a.actual >= 1 else _("未完成")
    else:
        final = a.final
        if final is None and indicator.is_ongoing:
            final = _("持续实施")
        actual = a.actual
    # The dashboard shows no shares for an upper bound ("≤ 50%"): a share of a ceiling misleads.
    shares = not deliverable and not at_most
    if a.status == Status.ACHIEVED or a.actual is None or deliverable:
        projection = ""
    elif a.projected is None:
        projection = _("按当前进度无法完成")
    else:
        projection = _("按当前进度,预计%(year)s年完成") % {"year": a.projected.year}
    conflict = indicator.conflict_note
    if getattr(indicator, "has_conflict", False) and not conflict:
        conflict = _("口径冲突")
    unit = indicator.unit
    if at_most:
        unit = _("%(unit)s(上限)") % {"unit": unit}
    return IndicatorLine(
        section=str(indicator.section),
        name=indicator.name,
        unit=unit,
        year_milestone=None if deliverable else a.year_milestone,
        final_target=final,
        actual=actual,
        actual_on=a.actual_on,
        share_of_milestone=a.share_of_milestone if shares else None,
        share_of_final=a.share_of_final if shares else None,
        status=str(a.status.value),
        status_label=str(a.status.label),
        projection=projection,
        clause=indicator.source_clause,
        conflict=conflict,
    )


def _labelled(entries: Iterable[tuple[str, str]]) -> str:
    """Each department's text under its name, in the order given: "【县民政局】…"."""
    return "\n".join(f"【{name}】{text.strip()}" for name, text in entries if text.strip())


def task_line(
    task: Task, status: Status | None, items: list[tuple[str, ReportItem]], *, department=""
) -> TaskLine:
    """A task with the progress its departments reported, each text under the department's
    name (lead first). `department` set: one department's own copy, its text unlabelled."""

    def texts(pick) -> str:
        if department:
            return "\n".join(pick(item) for _name, item in items if pick(item))
        return _labelled((name, pick(item)) for name, item in items)

    def problems(item: ReportItem) -> str:
        parts = [item.problems.strip()]
        if item.delay_reason.strip():
            parts.append(_("滞后原因:%(text)s") % {"text": item.delay_reason.strip()})
        return "\n".join(p for p in parts if p)

    def next_steps(item: ReportItem) -> str:
        parts = [item.next_steps.strip()]
        if item.measures.strip():
            parts.append(_("采取措施:%(text)s") % {"text": item.measures.strip()})
        if item.new_expected_date:
            parts.append(_("预计完成日期:%(date)s") % {"date": item.new_expected_date.isoformat()})
        return "\n".join(p for p in parts if p)

    return TaskLine(
        table=task_table_row(task),
        progress=texts(lambda item: item.progress.strip()),
        problems=texts(problems),
        next_steps=texts(next_steps),
        status=str(status.value) if status else "",
        status_label=str(status.label) if status else "",
    )


def submission_line(row: BoardRow, deadline: dt.date) -> SubmissionLine:
    first = row.first_submitted_at
    first_on = timezone.localdate(first) if first else None
    key = timeliness(row.state, first_on, deadline)
    return SubmissionLine(
        department=row.department.name,
        liaisons="、".join(c.name for c in row.liaisons),
        phones="、".join(c.phone for c in row.liaisons if c.phone),
        state=str(row.state.value),
        state_label=str(row.state.label),
        first_submitted_at=first,
        submitted_at=row.submitted_at,
        timeliness=key,
        timeliness_label=str(TIMELINESS[key]),
    )


# -- Gathering -------------------------------------------------------------------------------


def _tasks_in_order(plan: Plan, leaves: Iterable[Task]) -> list[Task]:
    """Every task and sub-item of the plan in document order, departments prefetched.

    `leaves` are the dashboard's reportable tasks, already loaded: only the parents are read.
    """
    parents = (
        Task.objects.filter(plan=plan)
        .filter(Exists(Task.objects.filter(parent=OuterRef("pk"))))
        .with_departments()
    )
    return sorted([*leaves, *parents], key=lambda task: (task.position, task.pk))


def _department_order(task: Task) -> dict[int, int]:
    """Departments of a task in the order the table cites them: lead first, then supporting."""
    order: dict[int, int] = {}
    for link in sorted(task.links.all(), key=lambda link: (link.role != "lead", link.position)):
        order.setdefault(link.department_id, len(order))
    return order


def plan_workbook(period: ReportingPeriod, *, today: dt.date | None = None) -> ReportData:
    """The plan's workbook for a period: every indicator, every task, every department."""
    today = today or timezone.localdate()
    plan = period.plan
    progress = plan_progress(plan, period.period_end)
    statuses = {row.task.pk: row.status for row in progress.tasks}
    items: dict[int, list[ReportItem]] = defaultdict(list)
    shown = ReportItem.objects.filter(
        report__period=period, report__state__in=SHOWN_ITEM_STATES
    ).select_related("report__department")
    for item in shown:
        items[item.task_id].append(item)
    tasks = []
    for task in _tasks_in_order(plan, (row.task for row in progress.tasks)):
        order = _department_order(task)
        entries = sorted(
            items.get(task.pk, []), key=lambda i: order.get(i.report.department_id, 99)
        )
        named = [(item.report.department.name, item) for item in entries]
        tasks.append(task_line(task, statuses.get(task.pk), named))
    return ReportData(
        title=workbook_title(plan, period.period_end),
        made_on=today,
        indicators=[indicator_line(row) for row in progress.indicators],
        tasks=tasks,
        submissions=[
            submission_line(row, period.deadline) for row in board_rows(period, today=today)
        ],
    )


def department_workbook(report: Report, *, today: dt.date | None = None) -> ReportData:
    """One department's copy: the indicators and tasks of its own report, and its own state."""
    today = today or timezone.localdate()
    period = report.period
    plan = period.plan
    progress = plan_progress(plan, period.period_end)
    own_items = {item.task_id: item for item in ReportItem.objects.filter(report=report)}
    own_indicators = set(report.values.values_list("indicator_id", flat=True))
    statuses = {row.task.pk: row.status for row in progress.tasks}
    tasks = [
        task_line(
            task,
            statuses.get(task.pk),
            [(report.department.name, own_items[task.pk])],
            department=report.department.name,
        )
        for task in _tasks_in_order(plan, (row.task for row in progress.tasks))
        if task.pk in own_items
    ]
    # The department's own board row, without the board's scan of every department.
    row = BoardRow(
        department=report.department,
        liaisons=[
            Contact(liaison.user.get_full_name() or liaison.user.get_username(), liaison.phone)
            for liaison in Liaison.objects.filter(
                department_id=report.department_id, user__is_active=True
            )
            .select_related("user")
            .order_by("pk")
        ],
        report=report,
        state=state_of(report, period, today),
    )
    return ReportData(
        title=workbook_title(plan, period.period_end, report.department.name),
        made_on=today,
        indicators=[
            indicator_line(row) for row in progress.indicators if row.indicator.pk in own_indicators
        ],
        tasks=tasks,
        submissions=[submission_line(row, period.deadline)],
    )


# -- Finding the period -------------------------------------------------------------------


def find_period(plan: Plan, slug: str) -> ReportingPeriod | None:
    """The plan's period named "2019-07" (half year) or "2019-12" (full year); None otherwise."""
    named = ReportingPeriod.kind_and_year(slug)
    if named is None:
        return None
    kind, year = named
    period = ReportingPeriod.objects.filter(plan=plan, kind=kind, year=year).first()
    if period is not None:
        period.plan = plan
    return period


def department_report(period: ReportingPeriod, department: Department) -> Report | None:
    return (
        Report.objects.filter(period=period, department=department)
        .select_related("period__plan", "department")
        .first()
    )


def export_filename(plan: Plan, period: ReportingPeriod, department: str = "") -> str:
    """ "柳城县…(2018-2020年)-2019年上半年.xlsx": Chinese, safe in a header and a file system."""
    parts = [str(plan), period.label] + ([department] if department else [])
    name = "-".join(parts)
    for bad in '\\/:*?"<>|\r\n\t':
        name = name.replace(bad, "_")
    return f"{name}.xlsx"
