"""What the dashboards show: indicators and tasks with their status on a date, and rollups.

Composes the rungs (plans, indicators, tasks) the way views do, so the plan dashboard, the
department page, the leaders' overview and the API all count the same way.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django.core.cache import cache
from django.db.models import Prefetch
from django.utils import timezone

from indicators.assessment import assess_indicator
from indicators.models import Indicator, IndicatorDepartment
from indicators.progress import SEVERITY, Assessment, Status, count_by_status, shortfall
from plans.models import Department, Plan
from plans.periods import default_period_end, period_ends
from tasks.assessment import assess_task_row
from tasks.models import Task


@dataclass
class IndicatorRow:
    indicator: Indicator
    assessment: Assessment

    @property
    def status(self) -> Status:
        return self.assessment.status

    @property
    def status_rank(self) -> int:
        return SEVERITY.index(self.status)

    @property
    def gap(self) -> Decimal | None:
        """How far short of the expected value (a fraction); None when nothing to compare."""
        a = self.assessment
        if a.actual is None or a.expected is None:
            return None
        return shortfall(a.actual, a.expected, self.indicator.direction)

    @property
    def departments(self) -> list[Department]:
        return [link.department for link in self.indicator.links.all()]


@dataclass
class TaskRow:
    task: Task
    status: Status

    @property
    def status_rank(self) -> int:
        return SEVERITY.index(self.status)

    @property
    def departments(self) -> list[Department]:
        return [link.department for link in self.task.links.all()]


@dataclass
class PlanProgress:
    plan: Plan
    on: dt.date
    indicators: list[IndicatorRow] = field(default_factory=list)
    tasks: list[TaskRow] = field(default_factory=list)

    @property
    def indicator_counts(self) -> dict[Status, int]:
        return count_by_status(r.status for r in self.indicators)

    @property
    def task_counts(self) -> dict[Status, int]:
        return count_by_status(r.status for r in self.tasks)

    @property
    def counts(self) -> dict[Status, int]:
        return count_by_status([r.status for r in self.indicators] + [r.status for r in self.tasks])


def plan_period_end(plan: Plan, today: dt.date | None = None) -> dt.date:
    """The period a plan's dashboard opens on: the latest one already ended."""
    return default_period_end(
        period_ends(plan.start_year, plan.end_year), today or timezone.localdate()
    )


def _indicators(plans: Iterable[Plan], on: dt.date | None) -> list[Indicator]:
    return list(
        Indicator.objects.filter(plan__in=plans)
        .for_progress(on)
        .with_conflict_flag()
        .prefetch_related(
            Prefetch("links", queryset=IndicatorDepartment.objects.select_related("department"))
        )
        .order_by("plan_id", "position")
    )


def _tasks(plans: Iterable[Plan], on: dt.date | None) -> list[Task]:
    return list(
        Task.objects.filter(plan__in=plans)
        .leaves()
        .for_progress(on)
        .with_departments()
        .order_by("plan_id", "position")
    )


def plan_progress(plan: Plan, on: dt.date) -> PlanProgress:
    """Every indicator and reportable task of a plan with its status on `on` (constant queries)."""
    return PlanProgress(
        plan=plan,
        on=on,
        indicators=[IndicatorRow(i, assess_indicator(i, on)) for i in _indicators([plan], on)],
        tasks=[TaskRow(t, assess_task_row(t, on)) for t in _tasks([plan], on)],
    )


def plans_progress(plans: Sequence[Plan], on: dt.date | None = None) -> list[PlanProgress]:
    """Every plan at `on`, or each at its own latest period; one set of queries for all plans."""
    dates = {p.pk: on or plan_period_end(p) for p in plans}
    result = {p.pk: PlanProgress(plan=p, on=dates[p.pk]) for p in plans}
    # Task states are read as of one date per query; plans at their own dates share the latest.
    task_date = on or max(dates.values(), default=timezone.localdate())
    for indicator in _indicators(plans, on):
        row = result[indicator.plan_id]
        row.indicators.append(IndicatorRow(indicator, assess_indicator(indicator, row.on)))
    for task in _tasks(plans, task_date):
        row = result[task.plan_id]
        row.tasks.append(TaskRow(task, assess_task_row(task, row.on)))
    return [result[p.pk] for p in plans]


def departments_most_overdue(
    progress: PlanProgress, limit: int = 5
) -> list[tuple[Department, int, int]]:
    """Departments with the most overdue (then behind) items: (department, overdue, behind)."""
    overdue: Counter[Department] = Counter()
    behind: Counter[Department] = Counter()
    rows: list[IndicatorRow | TaskRow] = [*progress.indicators, *progress.tasks]
    for row in rows:
        for dept in set(row.departments):
            if row.status == Status.OVERDUE:
                overdue[dept] += 1
            elif row.status == Status.BEHIND:
                behind[dept] += 1
    ranked = sorted(set(overdue) | set(behind), key=lambda d: (-overdue[d], -behind[d], d.name))
    return [(d, overdue[d], behind[d]) for d in ranked[:limit]]


def furthest_behind(progresses: Iterable[PlanProgress], limit: int = 10) -> list[IndicatorRow]:
    """Indicators furthest short of their expected value, across plans, behind or overdue."""
    rows = [
        row
        for p in progresses
        for row in p.indicators
        if row.status in (Status.BEHIND, Status.OVERDUE, Status.AT_RISK) and row.gap is not None
    ]
    return sorted(rows, key=lambda r: -r.gap)[:limit]


# -- Cached summaries for the overview ---------------------------------------------------------
# A province has a hundred plans: the overview reads one small cached summary per plan, keyed
# on the plan's progress_version (bumped by indicators/signals.py and tasks/signals.py on any
# change), so only a plan whose data changed is assessed again.

SUMMARY_TIMEOUT = 7 * 24 * 60 * 60


@dataclass(frozen=True)
class Laggard:
    """An indicator short of its expected value, as the overview lists it."""

    name: str
    url: str
    plan: str
    status: Status
    gap: Decimal
    actual: Decimal | None
    expected: Decimal | None
    unit: str


@dataclass
class PlanSummary:
    plan: Plan
    on: dt.date
    counts: dict[Status, int]
    laggards: list[Laggard]


def _summary_key(plan: Plan, on: dt.date) -> str:
    return f"plan-summary:1:{plan.pk}:{plan.progress_version}:{on.isoformat()}"


def _summarize(progress: PlanProgress, limit: int) -> tuple[dict[str, int], list[Laggard]]:
    laggards = [
        Laggard(
            name=row.indicator.name,
            url=row.indicator.get_absolute_url(),
            plan=str(progress.plan),
            status=row.status,
            gap=row.gap,
            actual=row.assessment.actual,
            expected=row.assessment.expected,
            unit=row.indicator.unit,
        )
        for row in furthest_behind([progress], limit)
    ]
    return {str(k): v for k, v in progress.counts.items()}, laggards


def plan_summaries(plans: Sequence[Plan], on: dt.date | None = None, limit: int = 10):
    """Status counts and laggards of each plan (at `on`, or each at its latest period), cached."""
    dates = {p.pk: on or plan_period_end(p) for p in plans}
    keys = {p.pk: _summary_key(p, dates[p.pk]) for p in plans}
    cached = cache.get_many(list(keys.values()))
    missing = [p for p in plans if keys[p.pk] not in cached]
    if missing:
        fresh = {}
        for progress in plans_progress(missing, on):
            fresh[keys[progress.plan.pk]] = _summarize(progress, limit)
        cache.set_many(fresh, SUMMARY_TIMEOUT)
        cached.update(fresh)
    summaries = []
    for plan in plans:
        counts, laggards = cached[keys[plan.pk]]
        summaries.append(
            PlanSummary(
                plan=plan,
                on=dates[plan.pk],
                counts={Status(k): v for k, v in counts.items()},
                laggards=laggards,
            )
        )
    return summaries


def laggards_across(summaries: Iterable[PlanSummary], limit: int = 10) -> list[Laggard]:
    return sorted((g for s in summaries for g in s.laggards), key=lambda g: -g.gap)[:limit]


@dataclass
class DepartmentProgress:
    department: Department
    lead: list[TaskRow]
    supporting: list[TaskRow]
    indicators: list[IndicatorRow]

    @property
    def counts(self) -> dict[Status, int]:
        rows: list[IndicatorRow | TaskRow] = [*self.lead, *self.supporting, *self.indicators]
        return count_by_status(r.status for r in rows)


def department_progress(department: Department) -> DepartmentProgress:
    """A department's tasks (by role) and indicators across plans, each plan at its own period."""
    ends: dict[int, dt.date] = {}

    def on(plan: Plan) -> dt.date:
        if plan.pk not in ends:
            ends[plan.pk] = plan_period_end(plan)
        return ends[plan.pk]

    def task_rows(role: str) -> list[TaskRow]:
        tasks = (
            Task.objects.filter(links__department=department, links__role=role)
            .with_state()
            .select_related("plan", "section", "parent")
            .with_departments()
            .prefetch_related("deliverables")
            .order_by("plan__code", "position")
        )
        return [TaskRow(t, assess_task_row(t, on(t.plan))) for t in tasks]

    indicators = (
        Indicator.objects.filter(links__department=department)
        .for_progress()
        .order_by("plan__code", "position")
    )
    return DepartmentProgress(
        department=department,
        lead=task_rows("lead"),
        supporting=task_rows("support"),
        indicators=[IndicatorRow(i, assess_indicator(i, on(i.plan))) for i in indicators],
    )
