"""The circular (通报) for a plan and period: who reported on time, late or not at all, and
which items are behind schedule, as plain frozen rows for the printable page and the sheet.

The departments come from the submission board (`reports.board.board_rows`) and the items from
the plan dashboard (`plans.dashboards.plan_progress`), so the circular never counts a
department or an item differently from the pages the office and the leaders already read.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from indicators.formatting import format_amount
from indicators.progress import SEVERITY, Status
from plans.dashboards import plan_progress
from plans.models import Plan
from reports.board import SHOWN_ITEM_STATES, board_rows
from reports.excel import (
    STATUS_FILLS,
    append_header,
    append_row,
    append_title,
    apply_print_setup,
    display_width,
    new_workbook,
)
from reports.models import ReportingPeriod, ReportItem, ReportValue
from reports.rules import needs_delay_reason
from tasks.models import TaskDepartment

# -- The rules, as plain functions -----------------------------------------------------------


class Timeliness(models.TextChoices):
    ON_TIME = "on_time", gettext_lazy("按时报送")
    LATE = "late", gettext_lazy("逾期报送")
    MISSING = "missing", gettext_lazy("未报送")
    NOT_DUE = "not_due", gettext_lazy("未到截止日期")


def timeliness(first_submitted_on: dt.date | None, deadline: dt.date, today: dt.date) -> Timeliness:
    """How a department reported for a period, judged as the submission board judges it
    (`reports.rules.board_state`): by the local date of the first submission, the deadline day
    itself still on time. A department that has not submitted is missing only from the day
    after the deadline; before that it is simply not due yet, never named as missing."""
    if first_submitted_on is not None:
        return Timeliness.ON_TIME if first_submitted_on <= deadline else Timeliness.LATE
    return Timeliness.MISSING if today > deadline else Timeliness.NOT_DUE


def days_after(deadline: dt.date, day: dt.date) -> int:
    """Whole days from the deadline to `day` (0 on or before the deadline)."""
    return max((day - deadline).days, 0)


def is_behind_schedule(status: Status) -> bool:
    """An item the circular names: the ones a liaison must explain (behind or overdue)."""
    return needs_delay_reason(status)


def circular_title(plan_name: str, period_label: str) -> str:
    return _("关于%(plan)s%(period)s工作进展情况的通报") % {
        "plan": plan_name,
        "period": period_label,
    }


def chinese_date(day: dt.date) -> str:
    """ "2019年7月31日": the way a document dates itself."""
    return _("%(year)s年%(month)s月%(day)s日") % {
        "year": day.year,
        "month": day.month,
        "day": day.day,
    }


def opening_paragraph(circular: Circular) -> str:
    """The dated opening of the circular with its counts; before the deadline, departments
    that have not reported are counted as not yet due, not as missing."""
    c = circular
    source = _("《%(title)s》") % {"title": c.plan_title}
    if c.document_number:
        source += _("(%(number)s)") % {"number": c.document_number}
    text = _(
        "根据%(source)s的工作安排,各责任单位应于%(deadline)s前报送%(period)s工作进展情况。"
        "截至%(today)s,应报送单位%(expected)s个,按时报送%(on_time)s个,逾期报送%(late)s个,"
    ) % {
        "source": source,
        "deadline": chinese_date(c.deadline),
        "period": c.period_label,
        "today": chinese_date(c.today),
        "expected": c.expected,
        "on_time": len(c.on_time),
        "late": len(c.late),
    }
    if c.is_past_deadline:
        text += _("未报送%(n)s个;") % {"n": len(c.not_reported)}
    else:
        text += _("尚未报送%(n)s个(未到截止日期);") % {"n": len(c.not_reported)}
    text += _(
        "截至%(period_end)s,进度滞后的事项%(n)s项(任务%(tasks)s项、指标%(indicators)s项)。"
        "现将有关情况通报如下。"
    ) % {
        "period_end": chinese_date(c.period_end),
        "n": len(c.behind),
        "tasks": c.behind_tasks,
        "indicators": c.behind_indicators,
    }
    return text


SECTIONS = {
    "on_time": gettext_lazy("一、按时报送的单位"),
    "late": gettext_lazy("二、逾期报送的单位"),
    "not_reported": gettext_lazy("三、未报送的单位"),
    "behind": gettext_lazy("四、进度滞后的事项"),
}
SIGNATURE = gettext_lazy("联席会议办公室")


def section_heading(section: str, count: int) -> str:
    """ "三、未报送的单位(2个)"; items are counted in 项."""
    if section == "behind":
        return _("%(title)s(%(n)s项)") % {"title": SECTIONS[section], "n": count}
    return _("%(title)s(%(n)s个)") % {"title": SECTIONS[section], "n": count}


# -- The rows --------------------------------------------------------------------------------


@dataclass(frozen=True)
class OnTime:
    department: str
    submitted_at: dt.datetime  # the first submission: the one that decides on time


@dataclass(frozen=True)
class Late:
    department: str
    submitted_at: dt.datetime
    days_late: int


@dataclass(frozen=True)
class NotReported:
    department: str
    timeliness: Timeliness  # MISSING, or NOT_DUE before the deadline
    days_overdue: int  # 0 while not due
    has_draft: bool


@dataclass(frozen=True)
class DelayReason:
    """What a liaison wrote about an item being late, in a submitted report of the period."""

    department: str
    reason: str
    measures: str
    new_expected_date: dt.date | None


class ItemKind(models.TextChoices):
    TASK = "task", gettext_lazy("任务")
    INDICATOR = "indicator", gettext_lazy("指标")


@dataclass(frozen=True)
class BehindItem:
    kind: ItemKind
    clause: str
    name: str
    status: Status
    departments: tuple[str, ...]  # a task's lead departments; an indicator's responsible ones
    reasons: tuple[DelayReason, ...]
    url: str
    actual: Decimal | None = None  # indicators only
    expected: Decimal | None = None
    unit: str = ""


@dataclass(frozen=True)
class Circular:
    plan_code: str
    plan_name: str  # the short title, as the circular's title names the plan
    plan_title: str
    document_number: str
    period_slug: str
    period_label: str
    period_end: dt.date
    deadline: dt.date
    today: dt.date
    expected: int  # departments that must report
    on_time: tuple[OnTime, ...]
    late: tuple[Late, ...]
    not_reported: tuple[NotReported, ...]
    behind: tuple[BehindItem, ...]

    @property
    def title(self) -> str:
        return circular_title(self.plan_name, self.period_label)

    @property
    def is_past_deadline(self) -> bool:
        return self.today > self.deadline

    @property
    def reported(self) -> int:
        return len(self.on_time) + len(self.late)

    @property
    def missing(self) -> int:
        return sum(1 for row in self.not_reported if row.timeliness == Timeliness.MISSING)

    @property
    def opening(self) -> str:
        return opening_paragraph(self)

    @property
    def headings(self) -> dict[str, str]:
        counts = {
            "on_time": len(self.on_time),
            "late": len(self.late),
            "not_reported": len(self.not_reported),
            "behind": len(self.behind),
        }
        return {section: section_heading(section, n) for section, n in counts.items()}

    @property
    def signature(self) -> str:
        return str(SIGNATURE)

    @property
    def dated(self) -> str:
        return chinese_date(self.today)

    @property
    def behind_tasks(self) -> int:
        return sum(1 for item in self.behind if item.kind == ItemKind.TASK)

    @property
    def behind_indicators(self) -> int:
        return sum(1 for item in self.behind if item.kind == ItemKind.INDICATOR)


# -- From the database -----------------------------------------------------------------------


def _department_rows(period: ReportingPeriod, today: dt.date):
    on_time, late, not_reported = [], [], []
    for row in board_rows(period, today=today):
        first = row.first_submitted_at
        first_on = timezone.localdate(first) if first else None
        name = row.department.name
        match timeliness(first_on, period.deadline, today):
            case Timeliness.ON_TIME:
                on_time.append(OnTime(name, first))
            case Timeliness.LATE:
                late.append(Late(name, first, days_after(period.deadline, first_on)))
            case missing_or_not_due:
                not_reported.append(
                    NotReported(
                        name,
                        missing_or_not_due,
                        days_after(period.deadline, today),
                        has_draft=row.report is not None,
                    )
                )
    on_time.sort(key=lambda r: (r.submitted_at, r.department))
    late.sort(key=lambda r: (-r.days_late, r.department))
    return on_time, late, not_reported  # not_reported keeps the board's order, by name


def _reasons(period: ReportingPeriod):
    """Delay reasons given in the period's submitted (returned, accepted) reports, by task and
    by indicator: two queries."""
    by_task: dict[int, list[DelayReason]] = defaultdict(list)
    by_indicator: dict[int, list[DelayReason]] = defaultdict(list)
    shown = {"report__period": period, "report__state__in": SHOWN_ITEM_STATES}
    items = (
        ReportItem.objects.filter(**shown)
        .exclude(delay_reason="")
        .select_related("report__department")
        .order_by("role", "report__department__name")  # lead before support
    )
    for item in items:
        by_task[item.task_id].append(_reason(item))
    values = (
        ReportValue.objects.filter(**shown)
        .exclude(delay_reason="")
        .select_related("report__department")
        .order_by("report__department__name")
    )
    for value in values:
        by_indicator[value.indicator_id].append(_reason(value))
    return by_task, by_indicator


def _reason(entry: ReportItem | ReportValue) -> DelayReason:
    return DelayReason(
        department=entry.report.department.name,
        reason=entry.delay_reason.strip(),
        measures=entry.measures.strip(),
        new_expected_date=entry.new_expected_date,
    )


def _behind_items(plan: Plan, period: ReportingPeriod) -> list[BehindItem]:
    progress = plan_progress(plan, period.period_end)
    by_task, by_indicator = _reasons(period)
    items = []
    for row in progress.tasks:
        if not is_behind_schedule(row.status):
            continue
        task = row.task
        leads = [
            link.department.name for link in task.departments_in_role(TaskDepartment.Role.LEAD)
        ]
        items.append(
            BehindItem(
                kind=ItemKind.TASK,
                clause=task.clause,
                name=task.title,
                status=row.status,
                departments=tuple(dict.fromkeys(leads)),
                reasons=tuple(by_task.get(task.pk, ())),
                url=task.get_absolute_url(),
            )
        )
    for row in progress.indicators:
        if not is_behind_schedule(row.status):
            continue
        indicator = row.indicator
        items.append(
            BehindItem(
                kind=ItemKind.INDICATOR,
                clause=indicator.source_clause,
                name=indicator.name,
                status=row.status,
                departments=tuple(d.name for d in row.departments),
                reasons=tuple(by_indicator.get(indicator.pk, ())),
                url=indicator.get_absolute_url(),
                actual=row.assessment.actual,
                expected=row.assessment.expected,
                unit=indicator.unit,
            )
        )
    # Overdue before behind; tasks, then indicators, in document order within each.
    items.sort(key=lambda item: SEVERITY.index(item.status))
    return items


def circular_for(plan: Plan, period: ReportingPeriod, *, today: dt.date | None = None) -> Circular:
    """The circular for a period of the plan, as of `today` (the local date by default).

    Departments as the submission board lists them; items behind or overdue at the period's
    end as the plan dashboard assesses them. A fixed number of queries, whatever the plan's size.
    """
    if period.plan_id != plan.pk:
        raise ValueError(f"period {period.pk} is not a period of plan {plan.code}")
    today = today or timezone.localdate()
    on_time, late, not_reported = _department_rows(period, today)
    return Circular(
        plan_code=plan.code,
        plan_name=str(plan),
        plan_title=plan.title,
        document_number=plan.document_number,
        period_slug=period.slug,
        period_label=period.label,
        period_end=period.period_end,
        deadline=period.deadline,
        today=today,
        expected=len(on_time) + len(late) + len(not_reported),
        on_time=tuple(on_time),
        late=tuple(late),
        not_reported=tuple(not_reported),
        behind=tuple(_behind_items(plan, period)),
    )


# -- The sheet -------------------------------------------------------------------------------

SHEET_TITLE = gettext_lazy("通报")
HEADER_ROWS = 3  # title, date made, column headers: frozen and printed on every page
COLUMN_WIDTHS = (6, 34, 12, 12, 17, 9, 20, 50)
COLUMN_STYLES = ("centre", "text", "centre", "centre", "datetime", "integer", "text", "text")
STATUS_COLUMN = 3
# About how many Chinese characters a line of the merged paragraph holds across the sheet.
CHARS_PER_LINE = sum(COLUMN_WIDTHS) // 2


def opening_height(text: str) -> float:
    """Row height in points for the opening paragraph: Excel does not grow a merged row."""
    lines = -(-display_width(text) // (2 * CHARS_PER_LINE))
    return max(1, lines) * 15 + 4


def _headers() -> list[str]:
    return [
        _("序号"),
        _("单位或事项"),
        _("出处条款"),
        _("情况"),
        _("报送时间"),
        _("逾期天数"),
        _("牵头单位"),
        _("滞后原因及措施"),
    ]


def reason_text(reason: DelayReason) -> str:
    """One department's explanation of a late item, as one paragraph."""
    text = _("%(department)s:%(reason)s") % {
        "department": reason.department,
        "reason": reason.reason,
    }
    if reason.measures:
        text += _(";已采取措施:%(measures)s") % {"measures": reason.measures}
    if reason.new_expected_date:
        text += _(";预计%(date)s完成") % {"date": chinese_date(reason.new_expected_date)}
    return text


def _item_name(item: BehindItem) -> str:
    name = f"{item.kind.label}:{item.name}"
    if item.kind == ItemKind.INDICATOR:
        name += "\n" + _("实际 %(actual)s,应达 %(expected)s") % {
            "actual": format_amount(item.actual, item.unit),
            "expected": format_amount(item.expected, item.unit),
        }
    return name


def circular_workbook(circular: Circular) -> Workbook:
    """The circular as one printable sheet "通报": the title, the opening paragraph, then the
    four sections, each under a heading row, one row per department or item."""
    workbook, styles = new_workbook()
    ws = workbook.create_sheet(str(SHEET_TITLE))
    columns = len(COLUMN_WIDTHS)
    last = get_column_letter(columns)
    apply_print_setup(ws, widths=COLUMN_WIDTHS, header_rows=HEADER_ROWS)
    row = append_title(ws, styles, title=circular.title, made_on=circular.today, columns=columns)
    append_header(ws, styles, _headers())
    row += 1

    def band(text: str, style: str, height: float | None = None) -> None:
        nonlocal row
        row += 1
        ws.merged_cells.add(f"A{row}:{last}{row}")
        if height:
            ws.row_dimensions[row].height = height
        ws.append([styles.text(ws, text, style)] + [styles.text(ws, "", style)] * (columns - 1))

    def line(values: list, status: str) -> None:
        nonlocal row
        styles_of_row = list(COLUMN_STYLES)
        styles_of_row[STATUS_COLUMN] = f"status_{status}" if status in STATUS_FILLS else "centre"
        row += append_row(ws, styles, values, styles_of_row)

    band(circular.opening, "text", height=opening_height(circular.opening))
    band(section_heading("on_time", len(circular.on_time)), "header")
    for n, r in enumerate(circular.on_time, start=1):
        values = [n, r.department, "", str(Timeliness.ON_TIME.label), r.submitted_at, "", "", ""]
        line(values, "on_time")
    band(section_heading("late", len(circular.late)), "header")
    for n, r in enumerate(circular.late, start=1):
        values = [
            n,
            r.department,
            "",
            str(Timeliness.LATE.label),
            r.submitted_at,
            r.days_late,
            "",
            "",
        ]
        line(values, "late")
    band(section_heading("not_reported", len(circular.not_reported)), "header")
    for n, r in enumerate(circular.not_reported, start=1):
        overdue = r.days_overdue if r.timeliness == Timeliness.MISSING else ""
        line([n, r.department, "", str(r.timeliness.label), "", overdue, "", ""], r.timeliness)
    band(section_heading("behind", len(circular.behind)), "header")
    for n, item in enumerate(circular.behind, start=1):
        reasons = "\n".join(reason_text(r) for r in item.reasons) or _("未说明原因")
        departments = "、".join(item.departments)
        values = [n, _item_name(item), item.clause, str(item.status.label), "", "", departments]
        line([*values, reasons], item.status)
    band(f"{circular.signature}  {circular.dated}", "subtitle")
    return workbook
