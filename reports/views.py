"""Liaison pages: my reports, one report to fill in and submit, and its versions."""

from __future__ import annotations

import logging
from dataclasses import dataclass, field

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.db import DatabaseError
from django.db.models import Exists, OuterRef, Prefetch, Q, prefetch_related_objects
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseBadRequest
from django.shortcuts import get_object_or_404, redirect, render
from django.template import TemplateDoesNotExist
from django.template.loader import select_template
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from indicators.models import IndicatorDepartment, Measurement, Milestone
from indicators.progress import Status
from plans.dashboards import department_progress
from plans.models import Department, Plan
from plans.periods import parse_period
from plans.roles import can_edit_plans, is_leader, liaison_department_id
from reports import services
from reports.forms import SUBMIT, ReportActionForm, ReportForm
from reports.history import Change, changes
from reports.models import Report, ReportEvent, ReportingPeriod, ReportItem, ReportValue
from reports.rules import BoardState, board_state, needs_delay_reason
from tasks.models import Task, TaskDepartment
from tasks.progress import TaskState

logger = logging.getLogger(__name__)

REVIEW_PARTIAL = "reports/_review_actions.html"
RETURN_ITEM_PARTIAL = "reports/_return_item_form.html"


# -- Loading ---------------------------------------------------------------------------------


def _get_report_for_user(request: HttpRequest, pk: int) -> Report:
    """The report if the user may read it (office, leaders, the department's liaison); 404
    otherwise, so a liaison cannot even learn that another department's report exists."""
    reports = Report.objects.visible_to(request.user).select_related(
        "period__plan__jurisdiction", "department", "updated_by", "submitted_by", "accepted_by"
    )
    return get_object_or_404(reports, pk=pk)


def _with_entries(report: Report) -> Report:
    """Prefetch items and values with everything the page and the status rules read.

    services._editable_items reads `report.items.all()`, so it is served from this cache too.
    """
    prefetch_related_objects(
        [report],
        Prefetch(
            "items",
            queryset=ReportItem.objects.select_related("task__plan")
            .prefetch_related("task__deliverables", "evidence")
            .order_by("task__position", "pk"),
        ),
        Prefetch(
            "values",
            queryset=ReportValue.objects.select_related("indicator__plan")
            .prefetch_related(
                "indicator__milestones",
                Prefetch(
                    "indicator__measurements",
                    queryset=Measurement.objects.order_by("period_end"),
                ),
            )
            .order_by("indicator__position", "pk"),
        ),
    )
    return report


def _is_department_liaison(user, report: Report) -> bool:
    return liaison_department_id(user) == report.department_id


def _template_exists(name: str) -> bool:
    # The office's actions are partials written separately; the page works without them.
    try:
        select_template([name])
    except TemplateDoesNotExist:
        return False
    return True


# -- The report page -------------------------------------------------------------------------


@dataclass
class Entry:
    """One item or value of a report as the page shows it."""

    kind: str  # "item" or "value"
    obj: ReportItem | ReportValue
    form: object | None  # the entry's form when the liaison may change it
    status: Status | None  # the task's or indicator's status with what was typed counted
    problems: list[str] = field(default_factory=list)
    milestone: Milestone | None = None  # values: this year's target
    last: Measurement | None = None  # values: the latest value before this period

    @property
    def anchor(self) -> str:
        return f"{self.kind}-{self.obj.pk}"

    @property
    def needs_reason(self) -> bool:
        """Behind or overdue as typed: a reason, measures and a new date are required."""
        return self.status is not None and needs_delay_reason(self.status)

    @property
    def show_delay(self) -> bool:
        """Show the delay fields open: required, filled in, or with an error."""
        if self.needs_reason:
            return True
        if self.form is not None and any(f.errors for f in self.form.delay_fields()):
            return True
        o = self.obj
        return bool(o.delay_reason or o.measures or o.new_expected_date)


def _typed(form, name: str, stored):
    """What the liaison typed, once cleaned; the stored value before that or when invalid."""
    if form is None or not form.is_bound:
        return stored
    return getattr(form, "cleaned_data", {}).get(name, stored)


def _mark_required(entry: Entry) -> Entry:
    """Tell assistive technology which delay fields the submission check will ask for."""
    if entry.form is not None and entry.needs_reason:
        for bound in entry.form.delay_fields():
            bound.field.widget.attrs["aria-required"] = "true"
    return entry


def _item_entry(item: ReportItem, form, period: ReportingPeriod, problems) -> Entry:
    state = _typed(form, "state", item.state)
    status = None
    if state:  # as the submission check: a state not chosen yet asks for no reason
        status = services.item_status(ReportItem(task=item.task, state=state), period)
    return _mark_required(Entry("item", item, form, status, problems.get(("item", item.pk), [])))


def _value_entry(value: ReportValue, form, period: ReportingPeriod, problems) -> Entry:
    indicator = value.indicator
    typed = _typed(form, "value", value.value)
    status = None
    if typed is not None:
        status = services.value_status(ReportValue(indicator=indicator, value=typed), period)
    milestone = next((m for m in indicator.milestones.all() if m.year == period.year), None)
    earlier = [m for m in indicator.measurements.all() if m.period_end < period.period_end]
    entry = Entry(
        "value",
        value,
        form,
        status,
        problems.get(("value", value.pk), []),
        milestone=milestone,
        last=earlier[-1] if earlier else None,
    )
    return _mark_required(entry)


def _return_notes(report: Report, events: list[ReportEvent]) -> list[ReportEvent]:
    """The office's returns and reopenings since the report was last submitted."""
    if report.state != Report.State.RETURNED:
        return []
    notes = []
    for event in reversed(events):
        if event.kind in (ReportEvent.Kind.SUBMITTED, ReportEvent.Kind.ACCEPTED):
            break
        if event.kind in (
            ReportEvent.Kind.RETURNED,
            ReportEvent.Kind.ITEM_RETURNED,
            ReportEvent.Kind.REOPENED,
        ):
            notes.append(event)
    return notes


def _board_state(report: Report) -> BoardState:
    first = timezone.localdate(report.first_submitted_at) if report.first_submitted_at else None
    return board_state(report.state, first, report.period.deadline, timezone.localdate())


def _render_report(
    request: HttpRequest,
    report: Report,
    *,
    form: ReportForm | None = None,
    problems: dict | None = None,
    stale: str = "",
) -> HttpResponse:
    """The report page. `form` is a bound form to show again (typed values kept)."""
    user = request.user
    period = report.period
    owner = _is_department_liaison(user, report)
    if form is None and owner and report.is_editable:
        editable_items, editable_values = services._editable_items(report)
        form = ReportForm(report=report, items=editable_items, values=editable_values)
    problems = problems or {}
    item_forms = form.items if form else {}
    value_forms = form.values if form else {}
    items, values = list(report.items.all()), list(report.values.all())
    events = list(report.events.select_related("by").order_by("at", "pk"))
    is_office = can_edit_plans(user)
    show_review = is_office or is_leader(user)
    review_partial = show_review and _template_exists(REVIEW_PARTIAL)
    return render(
        request,
        "reports/report_detail.html",
        {
            "report": report,
            "plan": period.plan,
            "period": period,
            "form": form,
            "items": items,  # the models, for the office's partial
            "values": values,
            "item_entries": [_item_entry(i, item_forms.get(i.pk), period, problems) for i in items],
            "value_entries": [
                _value_entry(v, value_forms.get(v.pk), period, problems) for v in values
            ],
            "only_returned": form is not None
            and len(form.items) + len(form.values) < len(items) + len(values),
            "events": events[::-1],
            "return_notes": _return_notes(report, events),
            "board_state": _board_state(report),
            "is_owner": owner,
            "stale": stale,
            "problem_count": len(problems),
            "show_review": show_review,
            "review_partial": review_partial,
            # The office returns a single entry from beside it rather than from a list below.
            "item_forms_inline": review_partial
            and is_office
            and _template_exists(RETURN_ITEM_PARTIAL),
        },
    )


@login_required
def report_detail(request: HttpRequest, pk: int) -> HttpResponse:
    report = _with_entries(_get_report_for_user(request, pk))
    return _render_report(request, report)


@require_POST
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the report as a draft, or save and submit it, in one form for the whole report."""
    if not request.user.is_authenticated:
        # A session that timed out while typing: back to the report after logging in, where
        # report-draft.js offers what was typed (a login cannot replay this POST).
        return redirect_to_login(reverse("report-detail", args=[pk]))
    report = _with_entries(_get_report_for_user(request, pk))
    if not _is_department_liaison(request.user, report):
        raise PermissionDenied
    action = ReportActionForm(request.POST)
    if not action.is_valid():
        return HttpResponseBadRequest(_("表单已失效,请刷新页面后重试。"))
    version, submit = action.cleaned_data["version"], action.cleaned_data["action"] == SUBMIT

    form = None
    items: dict = {}
    values: dict = {}
    if report.is_editable:
        editable_items, editable_values = services._editable_items(report)
        form = ReportForm(request.POST, report=report, items=editable_items, values=editable_values)
        if not form.is_valid():
            messages.error(
                request,
                _("有 %(n)s 处填写有误,本次未保存。请按提示修改后再保存。")
                % {"n": len(form.invalid_entries())},
            )
            return _render_report(request, report, form=form)
        items, values = form.items_data(), form.values_data()

    try:
        if not submit or report.is_editable:
            report = services.report_save_draft(
                report=report, by=request.user, version=version, items=items, values=values
            )
            version = report.version
        if submit:
            # A report that cannot be edited is not saved first: report_submit says why it
            # cannot be submitted either (already submitted, or the period is closed).
            services.report_submit(report=report, by=request.user, version=version)
    except services.StaleReport as exc:
        # Nothing saved: show the typed values again so they can be copied over the newer text.
        if form is None:
            editable_items, editable_values = services._editable_items(report)
            form = ReportForm(
                request.POST, report=report, items=editable_items, values=editable_values
            )
        return _render_report(request, report, form=form, stale=exc.message)
    except services.ReportInvalid as exc:
        # The draft is saved; show each problem next to its entry.
        messages.error(request, exc.message)
        report = _with_entries(_get_report_for_user(request, pk))
        return _render_report(request, report, problems=exc.problems)
    except services.ReportError as exc:
        messages.error(request, exc.message)
        return redirect(report)
    except DatabaseError:
        # Each step is one transaction and was rolled back whole: say so instead of a 500.
        logger.exception("Saving report %s failed (submit=%s)", report.pk, submit)
        messages.error(
            request,
            _("报送失败,请重试:数据库暂时出错,报告未报送。")
            if submit
            else _("保存失败,请重试:数据库暂时出错,本次修改未保存。"),
        )
        return redirect(report)
    messages.success(request, _("报告已报送。") if submit else _("草稿已保存。"))
    return redirect(report)


# -- History -----------------------------------------------------------------------------------


@dataclass
class Version:
    event: ReportEvent
    changes: list[Change]


def _snapshot_items(snapshot: dict) -> list[dict]:
    """A snapshot's items with their state as a label."""
    states = dict(TaskState.choices)
    return [
        {**item, "state_label": states.get(item.get("state"), item.get("state"))}
        for item in snapshot.get("items") or []
    ]


@login_required
def report_history(request: HttpRequest, pk: int) -> HttpResponse:
    """Every version of the report, newest first, with what changed from the one before."""
    report = _get_report_for_user(request, pk)
    versions = []
    previous: dict = {}
    for event in report.events.select_related("by").order_by("at", "pk"):
        versions.append(Version(event, changes(previous, event.snapshot or {})))
        previous = event.snapshot or {}
    versions.reverse()
    # ?v=<event pk> shows that version's whole content above the list.
    shown = next((v.event for v in versions if str(v.event.pk) == request.GET.get("v")), None)
    return render(
        request,
        "reports/report_history.html",
        {
            "report": report,
            "plan": report.period.plan,
            "versions": versions,
            "shown": shown,
            "shown_items": _snapshot_items(shown.snapshot) if shown else [],
        },
    )


# -- My reports ------------------------------------------------------------------------------


@dataclass
class PeriodRow:
    period: ReportingPeriod
    report: Report | None
    board_state: BoardState

    @property
    def anchor(self) -> str:
        return f"period-{self.period.pk}"

    @property
    def is_late(self) -> bool:
        return self.board_state in (BoardState.OVERDUE, BoardState.SUBMITTED_LATE)


def _plans_with_work(department_id: int):
    """Plans in which the department leads or supports a reported task or owns an indicator."""
    leaf_links = TaskDepartment.objects.filter(
        department_id=department_id, task__plan=OuterRef("pk")
    ).exclude(Exists(Task.objects.filter(parent=OuterRef("task"))))
    indicator_links = IndicatorDepartment.objects.filter(
        department_id=department_id, indicator__plan=OuterRef("pk")
    )
    return Plan.objects.filter(Q(Exists(leaf_links)) | Q(Exists(indicator_links)))


@login_required
def report_home(request: HttpRequest) -> HttpResponse:
    """A liaison's open reports and their department's tasks; others use the board."""
    department_id = liaison_department_id(request.user)
    if department_id is None:
        return redirect("home")
    department = get_object_or_404(
        Department.objects.select_related("jurisdiction"), pk=department_id
    )
    plans = _plans_with_work(department_id)
    periods = list(
        ReportingPeriod.objects.open()
        .filter(plan__in=plans)
        .select_related("plan")
        .order_by("plan__start_year", "plan__code", "period_end")
    )
    reports = {
        r.period_id: r
        for r in Report.objects.filter(department_id=department_id, period__in=periods)
    }
    rows = []
    for period in periods:
        report = reports.get(period.pk)
        first = report.first_submitted_at if report else None
        rows.append(
            PeriodRow(
                period,
                report,
                board_state(
                    report.state if report else None,
                    timezone.localdate(first) if first else None,
                    period.deadline,
                    timezone.localdate(),
                ),
            )
        )
    closed = (
        Report.objects.filter(department_id=department_id, period__is_open=False)
        .select_related("period__plan")
        .order_by("-period__period_end", "period__plan__code")
    )
    progress = department_progress(department)
    return render(
        request,
        "reports/report_home.html",
        {
            "department": department,
            "rows": rows,
            "closed_reports": closed,
            "progress": progress,
            "task_groups": [
                (_("牵头的任务"), progress.lead),
                (_("配合的任务"), progress.supporting),
            ],
        },
    )


def _period_or_404(code: str, text: str) -> ReportingPeriod:
    """The plan's period from "2019-07" (half year) or "2019-12" (full year)."""
    end = parse_period(text)
    if end is None:
        raise Http404(_("没有这个报告期。"))
    kind = ReportingPeriod.Kind.HALF_YEAR if end.month == 6 else ReportingPeriod.Kind.FULL_YEAR
    return get_object_or_404(
        ReportingPeriod.objects.select_related("plan"), plan__code=code, kind=kind, year=end.year
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def report_start(request: HttpRequest, code: str, period: str) -> HttpResponse:
    """Open (create once) the liaison's department's report for a period; POST creates it."""
    department_id = liaison_department_id(request.user)
    if department_id is None:
        raise PermissionDenied
    reporting_period = _period_or_404(code, period)
    if not _plans_with_work(department_id).filter(pk=reporting_period.plan_id).exists():
        raise Http404(_("本部门在该方案中没有需要报告的事项。"))
    existing = Report.objects.filter(period=reporting_period, department_id=department_id).first()
    if existing is not None:
        return redirect(existing)
    home = reverse("report-home")
    if request.method != "POST":
        return redirect(f"{home}#period-{reporting_period.pk}")
    if not reporting_period.is_open:
        messages.error(request, _("报告期已关闭,不能开始填报;如需补报请联系联席办重新开放。"))
        return redirect(home)
    report = services.report_open(
        period=reporting_period, department=request.user.liaison.department, by=request.user
    )
    return redirect(report)
