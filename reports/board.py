"""The office's and leaders' side of the liaisons' reports: the submission board, the review
steps, and the reporting periods.

Every page costs a fixed number of queries: the rows are assembled in Python from one query
per kind of object (departments, liaisons, reports, tasks, items), never one per department.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, IntegerField, OuterRef, Subquery
from django.db.models.functions import Coalesce
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST
from django_tables2 import RequestConfig

from plans.models import Department, Liaison, Plan
from plans.paging import paging
from plans.roles import Role, managed_jurisdiction_ids, office_required, roles_of
from reports import services
from reports.filters import BoardFilterForm
from reports.models import (
    Report,
    ReportingPeriod,
    ReportItem,
    ReportValue,
    default_deadline,
)
from reports.rules import BoardState, board_state
from reports.services import ReportError
from reports.tables import BoardTable
from tasks.models import Task, TaskDepartment

PER_PAGE = 50
STATE_ORDER = list(BoardState)  # worst first, as BoardState lists them
SHOWN_ITEM_STATES = (Report.State.SUBMITTED, Report.State.RETURNED, Report.State.ACCEPTED)


# -- Who may look ----------------------------------------------------------------------------


def _reviewer_roles(request: HttpRequest) -> set[Role]:
    """The roles of an office user or a leader; anyone else logged in gets 403."""
    roles = roles_of(request.user)
    if not roles & {Role.OFFICE, Role.LEADER}:
        raise PermissionDenied
    return roles


def _check_plan(request: HttpRequest, roles: set[Role], plan: Plan) -> None:
    """Leaders read every plan; office staff only the plans they manage."""
    if Role.LEADER in roles:
        return
    ids = managed_jurisdiction_ids(request.user)
    if ids is not None and plan.jurisdiction_id not in ids:
        raise PermissionDenied


def _plan_periods(code: str, slug: str) -> tuple[Plan, ReportingPeriod, list[ReportingPeriod]]:
    """The plan, the period named in the URL ("2019-07", "2019-12") and all the plan's periods.

    Only those two spellings name a period here; anything else, or a year outside the plan, 404.
    """
    named = ReportingPeriod.kind_and_year(slug)
    if named is None:
        raise Http404
    plan = get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("period_end"))
    kind, year = named
    period = next((p for p in periods if p.kind == kind and p.year == year), None)
    if period is None:
        raise Http404
    for p in periods:
        p.plan = plan  # spare a query per period for the labels and links
    return plan, period, periods


# -- The board rows --------------------------------------------------------------------------


@dataclass(frozen=True)
class Contact:
    name: str
    phone: str


@dataclass
class BoardRow:
    """A department that reports for the period, with its liaisons and its report if begun."""

    department: Department
    liaisons: list[Contact]
    report: Report | None
    state: BoardState
    item_count: int = 0
    value_count: int = 0
    returned_count: int = 0

    @property
    def state_rank(self) -> int:
        return STATE_ORDER.index(self.state)

    @property
    def submitted_at(self) -> dt.datetime | None:
        return self.report.submitted_at if self.report else None

    @property
    def first_submitted_at(self) -> dt.datetime | None:
        return self.report.first_submitted_at if self.report else None


def state_of(report: Report | None, period: ReportingPeriod, today: dt.date) -> BoardState:
    """The board state of a department's report; on time is judged on the local date."""
    if report is None:
        return board_state(None, None, period.deadline, today)
    first = report.first_submitted_at
    first_on = timezone.localdate(first) if first else None
    return board_state(report.state, first_on, period.deadline, today)


def _count(model, **filters) -> Coalesce:
    """A correlated COUNT of a report's items or values: one query for all reports."""
    rows = (
        model.objects.filter(report=OuterRef("pk"), **filters)
        .order_by()
        .values("report")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(rows, output_field=IntegerField()), 0)


def board_rows(period: ReportingPeriod, *, today: dt.date) -> list[BoardRow]:
    """Every department that must report for the period (and any other that has begun a
    report), with its liaisons, its report and the report's state on the board. Five queries."""
    reports = {
        r.department_id: r
        for r in Report.objects.filter(period=period)
        .select_related("department")
        .annotate(
            item_count=_count(ReportItem),
            value_count=_count(ReportValue),
            returned_items=_count(ReportItem, is_returned=True),
            returned_values=_count(ReportValue, is_returned=True),
        )
    }
    departments = {d.pk: d for d in services.expected_departments(period)}
    for report in reports.values():
        departments.setdefault(report.department_id, report.department)
    contacts: dict[int, list[Contact]] = defaultdict(list)
    liaisons = (
        Liaison.objects.filter(department_id__in=departments, user__is_active=True)
        .select_related("user")
        .order_by("pk")
    )
    for liaison in liaisons:
        name = liaison.user.get_full_name() or liaison.user.get_username()
        contacts[liaison.department_id].append(Contact(name, liaison.phone))
    rows = []
    for department in sorted(departments.values(), key=lambda d: d.name):
        report = reports.get(department.pk)
        row = BoardRow(
            department=department,
            liaisons=contacts[department.pk],
            report=report,
            state=state_of(report, period, today),
        )
        if report is not None:
            row.item_count, row.value_count = report.item_count, report.value_count
            row.returned_count = report.returned_items + report.returned_values
        rows.append(row)
    return rows


def state_counts(states: Iterable[BoardState]) -> dict[BoardState, int]:
    """How many departments stand in each board state, every state listed, worst first."""
    counted = Counter(states)
    return {state: counted[state] for state in STATE_ORDER}


# -- Side by side: each task with its lead and supporting departments' progress --------------


@dataclass
class TaskEntry:
    """One department's report on a task for the period (None: nothing submitted yet)."""

    department: Department
    item: ReportItem | None


@dataclass
class TaskComparison:
    task: Task
    lead: list[TaskEntry] = field(default_factory=list)
    supporting: list[TaskEntry] = field(default_factory=list)

    @property
    def columns(self) -> list[tuple[str, str, list[TaskEntry]]]:
        """(css class, heading, entries): the lead departments beside the supporting ones."""
        return [
            ("lead", TaskDepartment.Role.LEAD.label, self.lead),
            ("support", TaskDepartment.Role.SUPPORT.label, self.supporting),
        ]

    @property
    def reported(self) -> int:
        return sum(1 for e in [*self.lead, *self.supporting] if e.item is not None)

    @property
    def expected(self) -> int:
        return len(self.lead) + len(self.supporting)


def task_comparisons(period: ReportingPeriod) -> list[TaskComparison]:
    """Each reportable task of the period's plan with what its lead and supporting departments
    reported for the period (submitted, returned or accepted reports). Three queries."""
    items = ReportItem.objects.filter(
        report__period=period, report__state__in=SHOWN_ITEM_STATES
    ).select_related("report")
    by_task = {(item.task_id, item.report.department_id): item for item in items}
    tasks = (
        Task.objects.filter(plan_id=period.plan_id)
        .leaves()
        .select_related("plan", "parent")
        .with_departments()
        .order_by("position")
    )
    comparisons = []
    for task in tasks:
        row = TaskComparison(task=task)
        seen = set()
        for link in task.links.all():  # lead links first (with_departments orders by role)
            if link.department_id in seen:  # one department in both roles reports as lead
                continue
            seen.add(link.department_id)
            entry = TaskEntry(link.department, by_task.get((task.pk, link.department_id)))
            (row.lead if link.role == TaskDepartment.Role.LEAD else row.supporting).append(entry)
        comparisons.append(row)
    return comparisons


# -- The board -------------------------------------------------------------------------------


@login_required
def report_board(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """Who has reported for a plan and period: counts per state, one row per department, or
    each task with its departments' progress side by side (?view=tasks)."""
    roles = _reviewer_roles(request)
    plan, period, periods = _plan_periods(code, period)
    _check_plan(request, roles, plan)
    today = timezone.localdate()
    rows = board_rows(period, today=today)
    view = "tasks" if request.GET.get("view") == "tasks" else "departments"
    context = {
        "plan": plan,
        "period": period,
        "periods": periods,
        "is_office": Role.OFFICE in roles,
        "counts": state_counts(r.state for r in rows),
        "total": len(rows),
        "is_past_deadline": period.is_past_deadline(today),
        "view": view,
    }
    if view == "tasks":
        context["comparisons"] = task_comparisons(period)
    else:
        filter_form = BoardFilterForm(request.GET or None)
        table = BoardTable(filter_form.filter(rows))
        RequestConfig(request, paginate=paging(PER_PAGE)).configure(table)
        context |= {"filter_form": filter_form, "table": table}
    return render(request, "reports/board.html", context)


# -- Review steps ----------------------------------------------------------------------------


def _get_report_for_user(request: HttpRequest, pk: int) -> Report:
    """The report if the user may read it (office, leaders, its own liaison), else 404."""
    return get_object_or_404(
        Report.objects.visible_to(request.user).select_related("period__plan", "department"),
        pk=pk,
    )


def _review(
    request: HttpRequest, pk: int, step: Callable[[Report], str], *, leaders_too: bool = False
) -> HttpResponse:
    """Run one review step for an office user (or a leader): a message, back to the report."""
    report = _get_report_for_user(request, pk)
    roles = roles_of(request.user)
    if Role.OFFICE not in roles and not (leaders_too and Role.LEADER in roles):
        raise PermissionDenied
    try:
        done = step(report)
    except ReportError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, done)
    return redirect("report-detail", pk=report.pk)


def _comment(request: HttpRequest) -> str:
    return request.POST.get("comment", "")


def _pk_or_404(text: str) -> int:
    # ASCII only: str.isdigit() also takes "²", which int() refuses, and "١٢", which it reads.
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        raise Http404
    return int(text)


@login_required
@require_POST
def report_return(request: HttpRequest, pk: int) -> HttpResponse:
    def step(report: Report) -> str:
        services.report_return(report=report, by=request.user, comment=_comment(request))
        return _("已退回%(department)s的报告,联络员修改后可重新报送。") % {
            "department": report.department.name
        }

    return _review(request, pk, step)


@login_required
@require_POST
def report_return_item(request: HttpRequest, pk: int) -> HttpResponse:
    """Return one task item (item=<pk>) or one value (value=<pk>) of the report."""

    def step(report: Report) -> str:
        item_id = request.POST.get("item", "").strip()
        value_id = request.POST.get("value", "").strip()
        if bool(item_id) == bool(value_id):
            raise ReportError(_("请指定要退回的一个事项。"))
        if item_id:
            item = get_object_or_404(
                ReportItem.objects.select_related("task"), pk=_pk_or_404(item_id), report=report
            )
            value, target = None, item.task.clause
        else:
            value = get_object_or_404(
                ReportValue.objects.select_related("indicator"),
                pk=_pk_or_404(value_id),
                report=report,
            )
            item, target = None, value.indicator.name
        services.report_return_item(
            report=report, by=request.user, comment=_comment(request), item=item, value=value
        )
        return _("已退回“%(target)s”,报告其余内容保持不变。") % {"target": target}

    return _review(request, pk, step)


@login_required
@require_POST
def report_accept(request: HttpRequest, pk: int) -> HttpResponse:
    def step(report: Report) -> str:
        services.report_accept(report=report, by=request.user)
        return _("已采纳%(department)s的报告,数值和任务进展已写入方案。") % {
            "department": report.department.name
        }

    return _review(request, pk, step)


@login_required
@require_POST
def report_reopen(request: HttpRequest, pk: int) -> HttpResponse:
    def step(report: Report) -> str:
        services.report_reopen(report=report, by=request.user, comment=_comment(request))
        return _("已重新开放%(department)s的报告,联络员可以修改后重新报送。") % {
            "department": report.department.name
        }

    return _review(request, pk, step)


@login_required
@require_POST
def report_comment(request: HttpRequest, pk: int) -> HttpResponse:
    def step(report: Report) -> str:
        services.report_comment(report=report, by=request.user, comment=_comment(request))
        return _("批示已记录。")

    return _review(request, pk, step, leaders_too=True)


# -- Reporting periods -----------------------------------------------------------------------


@dataclass
class PeriodRow:
    period: ReportingPeriod
    counts: dict[BoardState, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def period_rows(plan: Plan, periods: list[ReportingPeriod], today: dt.date) -> list[PeriodRow]:
    """Each period with its departments' counts per board state. Four queries for the plan."""
    reports: dict[int, dict[int, Report]] = defaultdict(dict)
    for report in Report.objects.filter(period__plan=plan).only(
        "period_id", "department_id", "state", "first_submitted_at"
    ):
        reports[report.period_id][report.department_id] = report
    rows = []
    expected: set[int] | None = None
    for period in periods:
        if expected is None:  # the same departments report in every period of a plan
            expected = {d.pk for d in services.expected_departments(period)}
        got = reports[period.pk]
        states = [state_of(got.get(d), period, today) for d in expected | set(got)]
        rows.append(PeriodRow(period, state_counts(states)))
    return rows


@login_required
def period_list(request: HttpRequest, code: str) -> HttpResponse:
    roles = _reviewer_roles(request)
    plan = get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)
    _check_plan(request, roles, plan)
    periods = list(ReportingPeriod.objects.filter(plan=plan).order_by("period_end"))
    for p in periods:
        p.plan = plan
    today = timezone.localdate()
    return render(
        request,
        "reports/period_list.html",
        {
            "plan": plan,
            "rows": period_rows(plan, periods, today),
            "states": STATE_ORDER,
            "today": today,
            "is_office": Role.OFFICE in roles,
        },
    )


MAX_DEADLINE_YEARS = 2


class PeriodForm(forms.Form):
    deadline = forms.DateField(
        label=gettext_lazy("报送截止日期"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    is_open = forms.BooleanField(
        label=gettext_lazy("开放报送(关闭后联络员不能再保存或报送)"), required=False
    )

    def __init__(self, *args, period: ReportingPeriod, **kwargs):
        super().__init__(*args, **kwargs)
        self.period = period
        self.earliest = dt.date(period.year, 6, 30)
        end = period.period_end
        self.latest = end.replace(year=end.year + MAX_DEADLINE_YEARS)
        attrs = self.fields["deadline"].widget.attrs
        attrs |= {"min": self.earliest.isoformat(), "max": self.latest.isoformat()}

    def clean_deadline(self) -> dt.date:
        """Not before 30 June of the period's year; not more than two years after its end."""
        deadline = self.cleaned_data["deadline"]
        if deadline < self.earliest:
            raise forms.ValidationError(
                _("截止日期不能早于%(day)s。") % {"day": self.earliest.isoformat()}
            )
        if deadline > self.latest:
            raise forms.ValidationError(
                _("截止日期不能晚于报告期末两年以后(%(day)s)。") % {"day": self.latest.isoformat()}
            )
        return deadline


@dataclass(frozen=True)
class PeriodChange:
    at: dt.datetime
    user: object
    changes: list[str]


def period_history(period: ReportingPeriod) -> list[PeriodChange]:
    """Who changed the period's deadline or opened / closed it, newest first, in one query.

    Periods are created in bulk without a history record: the first change is compared with
    the defaults they were created with.
    """
    records = (
        ReportingPeriod.history.filter(id=period.pk)
        .select_related("history_user")
        .order_by("history_date", "history_id")
    )
    last = (default_deadline(period.kind, period.year), True)
    changes = []
    for record in records:
        now = (record.deadline, record.is_open)
        what = []
        if record.history_type == "+":
            what.append(_("创建报告期"))
        if now[0] != last[0]:
            what.append(
                _("截止日期 %(old)s → %(new)s")
                % {"old": last[0].isoformat(), "new": now[0].isoformat()}
            )
        if now[1] != last[1]:
            what.append(_("开放报送") if now[1] else _("关闭报送"))
        if what:
            changes.append(PeriodChange(record.history_date, record.history_user, what))
        last = now
    changes.reverse()
    return changes


@office_required
@require_http_methods(["GET", "HEAD", "POST"])
def period_edit(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """Set a period's deadline and open or close it; the period's change history below."""
    plan, period, _periods = _plan_periods(code, period)
    if request.method == "POST":
        form = PeriodForm(request.POST, period=period)
        if form.is_valid():
            try:
                services.period_update(
                    period=period,
                    by=request.user,
                    deadline=form.cleaned_data["deadline"],
                    is_open=form.cleaned_data["is_open"],
                )
            except ReportError as error:
                form.add_error(None, error.message)
            else:
                state = _("开放报送") if period.is_open else _("已关闭")
                messages.success(
                    request,
                    _("%(period)s:截止日期 %(deadline)s,%(state)s。")
                    % {
                        "period": period.label,
                        "deadline": period.deadline.isoformat(),
                        "state": state,
                    },
                )
                return redirect("period-list", code=plan.code)
    else:
        form = PeriodForm(
            initial={"deadline": period.deadline, "is_open": period.is_open}, period=period
        )
    return render(
        request,
        "reports/period_edit.html",
        {"plan": plan, "period": period, "form": form, "history": period_history(period)},
    )
