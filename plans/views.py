"""Pages for plans and departments; the plan page composes indicators and tasks."""

from __future__ import annotations

import datetime as dt
import hashlib

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django_tables2 import RequestConfig

from indicators.charts import figure_json, furthest_behind_chart, status_share_chart
from indicators.filters import IndicatorFilter
from indicators.models import Indicator
from indicators.progress import Status
from indicators.tables import IndicatorProgressTable, IndicatorTable
from plans.dashboards import (
    department_progress,
    departments_most_overdue,
    laggards_across,
    plan_progress,
    plan_summaries,
)
from plans.models import Department, Plan
from plans.paging import paging
from plans.periods import chosen_period_end, parse_period, period_ends, period_label
from plans.roles import can_edit_plans, is_leader
from tasks.filters import TaskFilter
from tasks.models import Task, TaskDepartment
from tasks.tables import DepartmentTaskTable, TaskProgressTable, TaskTable

PER_PAGE = 100


def _count(model, field: str, **filters) -> Coalesce:
    """A correlated COUNT of `model` rows whose `field` is the outer row: one query for N rows."""
    sub = (
        model.objects.filter(**{field: OuterRef("pk")}, **filters)
        .order_by()
        .values(field)
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(sub), 0)


@login_required
def plan_list(request: HttpRequest) -> HttpResponse:
    plans = (
        Plan.objects.select_related("jurisdiction")
        .annotate(
            indicator_count=_count(Indicator, "plan"),
            task_count=_count(Task, "plan", parent=None),
            subtask_count=_count(Task, "plan", parent__isnull=False),
        )
        .order_by("jurisdiction__level", "start_year", "code")
    )
    return render(request, "plans/plan_list.html", {"plans": plans})


def _indicators_for(plan: Plan):
    return (
        Indicator.objects.filter(plan=plan)
        .select_related("section", "plan")
        .prefetch_related("milestones", "alternative_milestones", "links__department")
        .with_conflict_flag()
    )


def _tasks_for(plan: Plan):
    return (
        Task.objects.filter(plan=plan)
        .select_related("section", "plan", "parent")
        .with_departments()
        .prefetch_related("deliverables")
    )


@login_required
def plan_document(request: HttpRequest, code: str) -> HttpResponse:
    """The plan as its document is written: chapters, indicators by year, tasks and departments."""
    plan = get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)
    sections = list(plan.sections.order_by("position"))
    data = request.GET or None
    indicator_filter = IndicatorFilter(
        data, queryset=_indicators_for(plan), plan=plan, sections=sections
    )
    task_filter = TaskFilter(data, queryset=_tasks_for(plan), plan=plan, sections=sections)

    indicator_table = IndicatorTable(indicator_filter.qs, years=plan.years, prefix="i-")
    task_table = TaskTable(task_filter.qs, prefix="t-")
    config = RequestConfig(request, paginate=paging(PER_PAGE))
    config.configure(indicator_table)
    config.configure(task_table)

    conflicts = [i for i in indicator_table.paginated_rows.data if i.has_conflict]
    return render(
        request,
        "plans/plan_document.html",
        {
            "plan": plan,
            "sections": sections,
            "filter": task_filter,
            "indicator_table": indicator_table,
            "task_table": task_table,
            "conflicts": conflicts,
            "is_filtered": task_filter.is_bound and task_filter.form.has_changed(),
        },
    )


@login_required
def department_list(request: HttpRequest) -> HttpResponse:
    departments = (
        Department.objects.select_related("jurisdiction")
        .annotate(
            lead_count=Count("task_links", filter=Q(task_links__role=TaskDepartment.Role.LEAD)),
            support_count=Count(
                "task_links", filter=Q(task_links__role=TaskDepartment.Role.SUPPORT)
            ),
        )
        .order_by("jurisdiction__name", "-lead_count", "name")
    )
    return render(request, "plans/department_list.html", {"departments": departments})


@login_required
def department_detail(request: HttpRequest, pk: int) -> HttpResponse:
    department = get_object_or_404(
        Department.objects.select_related("jurisdiction").prefetch_related("aliases"), pk=pk
    )
    progress = department_progress(department)
    lead_tasks = DepartmentTaskTable(progress.lead, prefix="l-")
    supporting_tasks = DepartmentTaskTable(progress.supporting, prefix="s-")
    config = RequestConfig(request, paginate=paging(PER_PAGE))
    config.configure(lead_tasks)
    config.configure(supporting_tasks)
    return render(
        request,
        "plans/department_detail.html",
        {
            "department": department,
            "progress": progress,
            "lead_tasks": lead_tasks,
            "supporting_tasks": supporting_tasks,
        },
    )


def _period_choice(request: HttpRequest, plan: Plan) -> tuple[dt.date, list[dt.date]]:
    """The period asked for in ?period= (or ?date=), else the latest one ended; and all of them."""
    ends = period_ends(plan.start_year, plan.end_year)
    text = request.GET.get("period") or request.GET.get("date")
    return chosen_period_end(text, ends, timezone.localdate()), ends


def _status_filter(request: HttpRequest) -> Status | None:
    value = request.GET.get("status")
    return Status(value) if value in Status.values else None


DASHBOARD_TIMEOUT = 24 * 60 * 60


def _dashboard_key(request: HttpRequest, plan: Plan, on: dt.date, can_edit: bool) -> str:
    """The cached body of a dashboard: per plan data version, period, query, language, role."""
    query = hashlib.sha256(request.GET.urlencode().encode()).hexdigest()[:16]
    language = translation.get_language()
    return f"plan-dashboard:1:{plan.pk}:{plan.progress_version}:{on}:{language}:{can_edit}:{query}"


def _dashboard_context(request: HttpRequest, plan: Plan, on: dt.date, ends) -> dict:
    progress = plan_progress(plan, on)
    sections = list(plan.sections.order_by("position"))
    data = request.GET or None
    indicator_filter = IndicatorFilter(
        data, queryset=Indicator.objects.filter(plan=plan), plan=plan, sections=sections
    )
    task_filter = TaskFilter(
        data, queryset=Task.objects.filter(plan=plan), plan=plan, sections=sections
    )
    status = _status_filter(request)
    indicator_rows = progress.indicators
    task_rows = progress.tasks
    if indicator_filter.is_bound and indicator_filter.form.has_changed():
        keep = set(indicator_filter.qs.values_list("pk", flat=True))
        indicator_rows = [r for r in indicator_rows if r.indicator.pk in keep]
        keep = set(task_filter.qs.values_list("pk", flat=True))
        task_rows = [r for r in task_rows if r.task.pk in keep]
    if status is not None:
        indicator_rows = [r for r in indicator_rows if r.status == status]
        task_rows = [r for r in task_rows if r.status == status]

    indicator_table = IndicatorProgressTable(indicator_rows, prefix="i-")
    task_table = TaskProgressTable(task_rows, prefix="t-")
    config = RequestConfig(request, paginate=paging(25))
    config.configure(indicator_table)
    config.configure(task_table)
    return {
        "periods": [(end, period_label(end)) for end in ends],
        "progress": progress,
        "filter": task_filter,
        "status_choices": Status.choices,
        "status": status,
        "indicator_table": indicator_table,
        "task_table": task_table,
        "laggards": departments_most_overdue(progress),
    }


@login_required
def plan_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    """Where a plan stands on a period end: status counts, indicators, tasks, laggards.

    The body is cached until the plan's data changes (Plan.progress_version), so a leader's
    repeated look costs a cache read, not an assessment of every indicator and task.
    """
    plan = get_object_or_404(Plan.objects.select_related("jurisdiction"), code=code)
    on, ends = _period_choice(request, plan)
    can_edit = can_edit_plans(request.user)
    context = {
        "plan": plan,
        "on": on,
        "period_label": period_label(on),
        "can_edit": can_edit,
        # The report for the period ending 30 June is the July report: "2019-07".
        "report_period": f"{on.year}-{'07' if on.month == 6 else '12'}",
        "can_review": can_edit or is_leader(request.user),
    }
    key = _dashboard_key(request, plan, on, can_edit)
    body = cache.get(key)
    if body is None:
        context |= _dashboard_context(request, plan, on, ends)
        body = render_to_string("plans/_dashboard_body.html", context, request=request)
        cache.set(key, body, DASHBOARD_TIMEOUT)
    return render(request, "plans/plan_dashboard.html", {**context, "body": body})


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    """All plans side by side for leaders: status shares and the indicators furthest behind.

    Cached until any plan's data changes: the key holds every plan's progress_version.
    """
    plans = list(Plan.objects.select_related("jurisdiction").order_by("code"))
    asked = parse_period(request.GET.get("period") or request.GET.get("date"))
    today = timezone.localdate()
    versions = ",".join(f"{p.pk}.{p.progress_version}" for p in plans)
    digest = hashlib.sha256(versions.encode()).hexdigest()[:16]
    key = f"overview:1:{digest}:{asked}:{today}:{translation.get_language()}"
    context: dict = {"asked": asked, "today": today}
    body = cache.get(key)
    if body is None:
        summaries = plan_summaries(plans, asked)
        laggards = laggards_across(summaries)
        shares = status_share_chart([(str(s.plan), s.counts) for s in summaries])
        behind = furthest_behind_chart([(f"{g.name}({g.plan})", g.gap) for g in laggards])
        context |= {
            "summaries": summaries,
            "laggards": laggards,
            "share_chart": figure_json(shares),
            "behind_chart": figure_json(behind) if laggards else None,
        }
        body = render_to_string("plans/_overview_body.html", context, request=request)
        cache.set(key, body, DASHBOARD_TIMEOUT)
    return render(request, "plans/overview.html", {**context, "body": body})
