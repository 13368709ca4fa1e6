"""Pages for plans and departments; the plan page composes indicators and tasks."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render
from django_tables2 import RequestConfig

from indicators.filters import IndicatorFilter
from indicators.models import Indicator
from indicators.tables import IndicatorTable
from plans.models import Department, Plan
from tasks.filters import TaskFilter
from tasks.models import Task, TaskDepartment
from tasks.tables import DepartmentTaskTable, TaskTable

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
    config = RequestConfig(request, paginate={"per_page": PER_PAGE})
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

    def tasks_in_role(role: str):
        return (
            Task.objects.filter(links__department=department, links__role=role)
            .select_related("section", "plan", "parent")
            .with_departments()
            .prefetch_related("deliverables")
        )

    lead_tasks = DepartmentTaskTable(tasks_in_role(TaskDepartment.Role.LEAD), prefix="l-")
    supporting_tasks = DepartmentTaskTable(tasks_in_role(TaskDepartment.Role.SUPPORT), prefix="s-")
    config = RequestConfig(request, paginate={"per_page": PER_PAGE})
    config.configure(lead_tasks)
    config.configure(supporting_tasks)
    indicators = (
        Indicator.objects.filter(links__department=department)
        .select_related("plan", "section")
        .order_by("plan__code", "position")
    )
    return render(
        request,
        "plans/department_detail.html",
        {
            "department": department,
            "lead_tasks": lead_tasks,
            "supporting_tasks": supporting_tasks,
            "indicators": indicators,
        },
    )


@login_required
def plan_dashboard(request: HttpRequest, code: str) -> HttpResponse:
    raise NotImplementedError


@login_required
def overview(request: HttpRequest) -> HttpResponse:
    raise NotImplementedError
