"""The reporting workflow: each step validates, changes state and records itself atomically.

draft ──submit──▶ submitted ──accept──▶ accepted (locked; values become measurements)
                     │                      │
                     └─return (whole report  └─reopen (explicit, with a reason)
                       or one item, with a      │
                       comment)                 ▼
                          ▼                  returned
                       returned ──submit──▶ submitted

Every step writes a ReportEvent with a snapshot of the content, so every version is kept.
Saving and submitting carry the version the liaison started from: a save over someone else's
newer save is refused (StaleReport) instead of silently losing their work.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext as _

from indicators.assessment import target_for, tolerance
from indicators.models import Indicator, Measurement
from indicators.parsing import has_control_characters, normalize_note
from indicators.progress import Point, assess
from plans.models import Department
from reports.models import Report, ReportEvent, ReportingPeriod, ReportItem, ReportValue
from reports.rules import needs_delay_reason
from tasks.assessment import deadline_for
from tasks.models import Task, TaskDepartment, TaskUpdate
from tasks.progress import DeliverableDue, assess_task

ITEM_FIELDS = (
    "state",
    "progress",
    "problems",
    "next_steps",
    "delay_reason",
    "measures",
    "new_expected_date",
)
VALUE_FIELDS = ("value", "note", "delay_reason", "measures", "new_expected_date")
MAX_TEXT = 5000


class ReportError(Exception):
    """A workflow step refused, with a message for the user (Chinese, translatable)."""

    def __init__(self, message: str):
        self.message = message
        super().__init__(message)


class StaleReport(ReportError):
    """Someone saved the report after this user opened it."""

    def __init__(self, report: Report):
        self.report = report
        user = report.updated_by
        who = (user.get_full_name() or user.get_username()) if user else "—"
        when = timezone.localtime(report.updated_at).strftime("%Y-%m-%d %H:%M")
        super().__init__(
            _(
                "此报告已被 %(who)s 于 %(when)s 更新(第 %(version)s 版),您的修改未保存。"
                "请核对最新内容后再提交。"
            )
            % {"who": who, "when": when, "version": report.version}
        )


@dataclass
class ReportInvalid(ReportError):
    """The report cannot be submitted; `problems` maps ("item"|"value", pk) to messages."""

    problems: dict[tuple[str, int], list[str]] = field(default_factory=dict)

    def __post_init__(self):
        super().__init__(
            _("报告有 %(n)s 处需要补充,请按提示修改后再报送。") % {"n": len(self.problems)}
        )


# -- Who reports what --------------------------------------------------------------------------


def expected_departments(period: ReportingPeriod) -> list[Department]:
    """Departments that must report for a period: those leading or supporting a reportable
    task, or responsible for an indicator, of the period's plan."""
    plan = period.plan
    # Start from the plan's task links, not from departments: a join from Department through
    # task_links would also pass every other plan's links of the same departments.
    leaf = ~Exists(Task.objects.filter(parent=OuterRef("task_id")))
    task_depts = TaskDepartment.objects.filter(task__plan=plan).filter(leaf)
    indicator_depts = Department.objects.filter(indicators__plan=plan)
    ids = set(task_depts.values_list("department_id", flat=True)) | set(
        indicator_depts.values_list("pk", flat=True)
    )
    return list(Department.objects.filter(pk__in=ids).order_by("name"))


@transaction.atomic
def report_open(*, period: ReportingPeriod, department: Department, by) -> Report:
    """The department's report for the period, created with its items and values if new."""
    report, created = Report.objects.get_or_create(
        period=period, department=department, defaults={"updated_by": by}
    )
    if not created:
        return report
    links = (
        TaskDepartment.objects.filter(department=department, task__plan=period.plan)
        .exclude(Exists(Task.objects.filter(parent=OuterRef("task"))))
        .order_by("task__position", "role")
    )
    roles: dict[int, str] = {}
    for link in links:  # a department leading and supporting one task reports once, as lead
        roles.setdefault(link.task_id, link.role)
    ReportItem.objects.bulk_create(
        ReportItem(report=report, task_id=task_id, role=role) for task_id, role in roles.items()
    )
    indicators = Indicator.objects.filter(plan=period.plan, links__department=department)
    ReportValue.objects.bulk_create(
        ReportValue(report=report, indicator=i) for i in indicators.order_by("position")
    )
    _record(report, ReportEvent.Kind.SAVED, by)
    return report


# -- Snapshots -------------------------------------------------------------------------------


def _text(value: Any) -> Any:
    if isinstance(value, Decimal):
        return format(value.normalize(), "f")  # 520, not "5.2E+2"
    if isinstance(value, dt.date):
        return value.isoformat()
    return value


def _evidence(item: ReportItem) -> dict:
    """The item's file names, as {"evidence": [names]}; nothing for an item without files, so
    versions saved before evidence existed compare equal in the history (reports/history.py)."""
    names = [e.name for e in item.evidence.all()]
    return {"evidence": names} if names else {}


def snapshot(report: Report) -> dict:
    """The report's content as plain JSON: what a version was."""
    items = (
        report.items.select_related("task").prefetch_related("evidence").order_by("task__position")
    )
    values = report.values.select_related("indicator").order_by("indicator__position")
    return {
        "state": report.state,
        "version": report.version,
        "items": [
            {
                "task": item.task.clause,
                "title": item.task.title,
                "role": item.role,
                **{f: _text(getattr(item, f)) for f in ITEM_FIELDS},
                "is_returned": item.is_returned,
                "return_comment": item.return_comment,
                **_evidence(item),
            }
            for item in items
        ],
        "values": [
            {
                "indicator": v.indicator.code,
                "name": v.indicator.name,
                "unit": v.indicator.unit,
                **{f: _text(getattr(v, f)) for f in VALUE_FIELDS},
                "is_returned": v.is_returned,
                "return_comment": v.return_comment,
            }
            for v in values
        ],
    }


def _record(report: Report, kind: str, by, comment: str = "", target: str = "") -> ReportEvent:
    return ReportEvent.objects.create(
        report=report,
        kind=kind,
        version=report.version,
        by=by,
        comment=comment,
        target=target,
        snapshot=snapshot(report),
    )


def _lock(report: Report) -> Report:
    """The report row, locked for this transaction, with its current state."""
    return (
        # Not updated_by: PostgreSQL re-reads a locked row after waiting, not its joined rows,
        # and StaleReport must name the user who saved first.
        Report.objects.select_for_update(of=("self",))
        .select_related("period__plan", "department")
        .get(pk=report.pk)
    )


def _bump(report: Report, by, fields: list[str]) -> None:
    report.version += 1
    report.updated_at = timezone.now()
    report.updated_by = by
    report.save(update_fields=[*fields, "version", "updated_at", "updated_by"])


# -- Liaison steps ---------------------------------------------------------------------------


def _has_returned_entries(report: Report) -> bool:
    return (
        report.items.filter(is_returned=True).exists()
        or report.values.filter(is_returned=True).exists()
    )


def _editable_items(report: Report):
    """Items a liaison may change: all of them, unless single items were returned."""
    items = list(report.items.all())
    values = list(report.values.all())
    if report.state == Report.State.RETURNED and any(x.is_returned for x in [*items, *values]):
        return [i for i in items if i.is_returned], [v for v in values if v.is_returned]
    return items, values


def report_save_draft(
    *,
    report: Report,
    by,
    version: int,
    items: Mapping[int, Mapping[str, Any]],
    values: Mapping[int, Mapping[str, Any]],
) -> Report:
    """Save what the liaison typed (already cleaned by the form) without submitting."""
    with transaction.atomic():
        report = _lock(report)
        if report.version != version:
            raise StaleReport(report)
        if not report.is_editable:
            raise ReportError(_("此报告当前不能修改(已报送、已采纳或报告期已关闭)。"))
        editable_items, editable_values = _editable_items(report)
        for item in editable_items:
            if item.pk in items:
                for name in ITEM_FIELDS:
                    if name in items[item.pk]:
                        setattr(item, name, items[item.pk][name])
                item.save(update_fields=list(ITEM_FIELDS))
        for value in editable_values:
            if value.pk in values:
                for name in VALUE_FIELDS:
                    if name in values[value.pk]:
                        setattr(value, name, values[value.pk][name])
                value.save(update_fields=list(VALUE_FIELDS))
        _bump(report, by, [])
        _record(report, ReportEvent.Kind.SAVED, by)
    return report


def item_status(item: ReportItem, period: ReportingPeriod):
    """The task's status at the period's end if the item's state were recorded."""
    deliverables = [
        DeliverableDue(d.due_date, d.completed_on) for d in item.task.deliverables.all()
    ]
    task = item.task
    task.state = item.state or None
    return assess_task(
        item.state or None, deliverables, period.period_end, deadline=deadline_for(task)
    )


def value_status(value: ReportValue, period: ReportingPeriod):
    """The indicator's status at the period's end with the reported value counted."""
    indicator = value.indicator
    reports = [
        Point(m.period_end, m.value)
        for m in indicator.measurements.all()
        if m.period_end != period.period_end
    ]
    if value.value is not None:
        reports.append(Point(period.period_end, value.value))
    return assess(target_for(indicator), reports, period.period_end, tolerance=tolerance()).status


def check_for_submission(report: Report) -> dict[tuple[str, int], list[str]]:
    """What stops a report from being submitted, per item and value (empty: nothing)."""
    period = report.period
    problems: dict[tuple[str, int], list[str]] = {}
    items = report.items.select_related("task__plan").prefetch_related("task__deliverables")
    for item in items:
        found = []
        if not item.progress.strip():
            found.append(_("请填写工作进展。"))
        if item.role == TaskDepartment.Role.LEAD and not item.state:
            found.append(_("请选择任务进度。"))
        if item.state and needs_delay_reason(item_status(item, period)):
            found += _missing_reason(item)
        if found:
            problems[("item", item.pk)] = found
    values = report.values.select_related("indicator__plan").prefetch_related(
        "indicator__milestones", "indicator__measurements"
    )
    for value in values:
        found = []
        if value.value is None:
            found.append(_("请填写实际值。"))
        elif needs_delay_reason(value_status(value, period)):
            found += _missing_reason(value)
        if found:
            problems[("value", value.pk)] = found
    return problems


def _missing_reason(entry: ReportItem | ReportValue) -> list[str]:
    found = []
    if not entry.delay_reason.strip():
        found.append(_("进度滞后:请说明滞后原因。"))
    if not entry.measures.strip():
        found.append(_("进度滞后:请填写已采取的措施。"))
    if entry.new_expected_date is None:
        found.append(_("进度滞后:请填写预计完成日期。"))
    return found


def report_submit(*, report: Report, by, version: int) -> Report:
    """Submit the report as it stands: one transaction, refused if anything is missing."""
    with transaction.atomic():
        report = _lock(report)
        if report.version != version:
            raise StaleReport(report)
        if report.state in (Report.State.SUBMITTED, Report.State.ACCEPTED):
            raise ReportError(_("此报告已报送,不能重复报送。"))
        if not report.period.is_open:
            raise ReportError(_("报告期已关闭,不能报送;如需补报请联系联席办重新开放。"))
        problems = check_for_submission(report)
        if problems:
            raise ReportInvalid(problems)
        now = timezone.now()
        report.state = Report.State.SUBMITTED
        report.submitted_at = now
        report.submitted_by = by
        report.first_submitted_at = report.first_submitted_at or now
        report.items.update(is_returned=False)
        report.values.update(is_returned=False)
        _bump(report, by, ["state", "submitted_at", "submitted_by", "first_submitted_at"])
        _record(report, ReportEvent.Kind.SUBMITTED, by)
    return report


# -- Office steps ----------------------------------------------------------------------------


def _clean_comment(comment: str) -> str:
    """A reviewer's comment as stored: line breaks as LF, no control characters."""
    comment = normalize_note(comment or "")
    if has_control_characters(comment):
        raise ReportError(
            _("意见含有不可见的控制字符(可能是从其他软件粘贴带入的),请删除后再提交。")
        )
    return comment


def _need_comment(comment: str) -> str:
    comment = _clean_comment(comment)
    if not comment:
        raise ReportError(_("请填写意见,说明退回或重新开放的原因。"))
    if len(comment) > MAX_TEXT:
        raise ReportError(_("意见过长(最多 %(n)s 字)。") % {"n": MAX_TEXT})
    return comment


def _send_back(*, report: Report, by, comment: str, from_state: str, kind: str, refusal: str):
    """Give the whole report back to the liaison (state returned), with the reason recorded."""
    comment = _need_comment(comment)
    with transaction.atomic():
        report = _lock(report)
        if report.state != from_state:
            raise ReportError(refusal)
        report.state = Report.State.RETURNED
        report.items.update(is_returned=False)
        report.values.update(is_returned=False)
        _bump(report, by, ["state"])
        _record(report, kind, by, comment)
    return report


def report_return(*, report: Report, by, comment: str) -> Report:
    """Return the whole report to the liaison with a comment."""
    return _send_back(
        report=report,
        by=by,
        comment=comment,
        from_state=Report.State.SUBMITTED,
        kind=ReportEvent.Kind.RETURNED,
        refusal=_("只能退回已报送、尚未采纳的报告。"),
    )


def report_return_item(
    *, report: Report, by, comment: str, item: ReportItem | None = None, value=None
) -> Report:
    """Return one item (or one value) with a comment; the rest stays as submitted."""
    comment = _need_comment(comment)
    entry = item if item is not None else value
    if entry is None or entry.report_id != report.pk:
        raise ReportError(_("找不到要退回的事项。"))
    with transaction.atomic():
        report = _lock(report)
        if report.state not in (Report.State.SUBMITTED, Report.State.RETURNED):
            raise ReportError(_("只能退回已报送、尚未采纳的报告中的事项。"))
        if report.state == Report.State.RETURNED and not _has_returned_entries(report):
            raise ReportError(_("整份报告已退回,无需再退回单项。"))
        entry.is_returned = True
        entry.return_comment = comment
        entry.save(update_fields=["is_returned", "return_comment"])
        report.state = Report.State.RETURNED
        _bump(report, by, ["state"])
        target = entry.task.clause if item is not None else entry.indicator.code
        _record(report, ReportEvent.Kind.ITEM_RETURNED, by, comment, target=target)
    return report


def report_accept(*, report: Report, by) -> Report:
    """Accept and lock the report: its values become the plan's measurements for the period,
    and the lead department's task states become the tasks' recorded progress."""
    with transaction.atomic():
        report = _lock(report)
        if report.state != Report.State.SUBMITTED:
            raise ReportError(_("只能采纳已报送的报告。"))
        period = report.period
        entered_by = report.submitted_by or by
        label = f"{report.department.name} {period.label}"
        for value in report.values.select_related("indicator"):
            if value.value is None:
                continue
            measurement, _created = Measurement.objects.update_or_create(
                indicator=value.indicator,
                period_end=period.period_end,
                defaults={
                    "value": value.value,
                    "note": _("据%(source)s报告") % {"source": label}
                    + (f":{value.note}" if value.note else ""),
                    "entered_by": entered_by,
                    "entered_at": timezone.now(),
                },
            )
            value.measurement = measurement
            value.save(update_fields=["measurement"])
        for item in report.items.filter(role=TaskDepartment.Role.LEAD).exclude(state=""):
            TaskUpdate.objects.create(
                task_id=item.task_id,
                state=item.state,
                as_of=period.period_end,
                note=item.progress,
                created_by=entered_by,
            )
        report.state = Report.State.ACCEPTED
        report.accepted_at = timezone.now()
        report.accepted_by = by
        _bump(report, by, ["state", "accepted_at", "accepted_by"])
        _record(report, ReportEvent.Kind.ACCEPTED, by)
    return report


def report_reopen(*, report: Report, by, comment: str) -> Report:
    """Open an accepted report again for the liaison; explicit, with a reason, recorded."""
    return _send_back(
        report=report,
        by=by,
        comment=comment,
        from_state=Report.State.ACCEPTED,
        kind=ReportEvent.Kind.REOPENED,
        refusal=_("只能重新开放已采纳的报告。"),
    )


def report_comment(*, report: Report, by, comment: str) -> ReportEvent:
    """A leader's (or the office's) remark on a report; changes nothing else."""
    comment = _clean_comment(comment)
    if not comment:
        raise ReportError(_("请填写批示内容。"))
    if len(comment) > MAX_TEXT:
        raise ReportError(_("批示过长(最多 %(n)s 字)。") % {"n": MAX_TEXT})
    return _record(report, ReportEvent.Kind.COMMENTED, by, comment)


def period_update(
    *, period: ReportingPeriod, by, deadline: dt.date | None = None, is_open: bool | None = None
) -> ReportingPeriod:
    """Set a period's deadline or open / close it (recorded in the period's history)."""
    fields = []
    if deadline is not None and deadline != period.deadline:
        if deadline < period.period_end and period.kind == ReportingPeriod.Kind.HALF_YEAR:
            raise ReportError(_("半年报截止日期不能早于6月30日。"))
        period.deadline = deadline
        fields.append("deadline")
    if is_open is not None and is_open != period.is_open:
        period.is_open = is_open
        fields.append("is_open")
    if fields:
        period._history_user = by  # simple_history's documented hook for the user
        period.save(update_fields=fields)
    return period
