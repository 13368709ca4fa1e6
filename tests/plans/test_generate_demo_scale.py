"""The province-sized demo data generator, run tiny: counts, rules, determinism, re-runs."""

from __future__ import annotations

import io
from collections import Counter

import pytest
from django.core.management import CommandError, call_command
from django.db.models import F

from indicators.models import Indicator, IndicatorDepartment, Measurement, Milestone
from plans.models import Department, Jurisdiction, Plan
from tasks.models import Deliverable, Task, TaskDepartment, TaskUpdate

pytestmark = pytest.mark.django_db

TINY = {"plans": 3, "tasks": 30, "departments": 12, "indicators": 10, "years": 2}


def generate(**options) -> str:
    out = io.StringIO()
    call_command("generate_demo_scale", **{**TINY, **options}, stdout=out)
    return out.getvalue()


def fingerprint() -> dict:
    """Everything generated, by natural keys (primary keys differ between runs)."""
    scale = {"plan__code__startswith": "scale-"}
    return {
        "departments": sorted(
            Department.objects.filter(jurisdiction__plans__code__startswith="scale-").values_list(
                "jurisdiction__name", "name", "is_collective"
            )
        ),
        "indicators": sorted(
            Indicator.objects.filter(**scale).values_list(
                "plan__code", "code", "kind", "direction", "baseline_value", "final_target"
            )
        ),
        "milestones": sorted(
            Milestone.objects.filter(indicator__plan__code__startswith="scale-").values_list(
                "indicator__plan__code", "indicator__code", "year", "value", "due_date"
            )
        ),
        "measurements": sorted(
            Measurement.objects.filter(indicator__plan__code__startswith="scale-").values_list(
                "indicator__plan__code", "indicator__code", "period_end", "value"
            )
        ),
        "tasks": sorted(
            Task.objects.filter(**scale).values_list(
                "plan__code", "clause", "parent__clause", "title", "schedule", "position"
            )
        ),
        "links": sorted(
            TaskDepartment.objects.filter(task__plan__code__startswith="scale-").values_list(
                "task__plan__code", "task__clause", "department__name", "role"
            )
        ),
        "deliverables": sorted(
            Deliverable.objects.filter(task__plan__code__startswith="scale-").values_list(
                "task__plan__code", "task__clause", "due_date", "completed_on"
            )
        ),
        "updates": sorted(
            TaskUpdate.objects.filter(task__plan__code__startswith="scale-").values_list(
                "task__plan__code", "task__clause", "as_of", "state"
            )
        ),
    }


def test_generates_the_counts_asked_for_beside_the_seed_plans():
    seed_plans = set(Plan.objects.values_list("code", flat=True))
    output = generate()

    plans = Plan.objects.filter(code__startswith="scale-")
    assert sorted(plans.values_list("code", flat=True)) == ["scale-001", "scale-002", "scale-003"]
    assert set(Plan.objects.exclude(code__startswith="scale-").values_list("code", flat=True)) == (
        seed_plans
    )
    assert Jurisdiction.objects.filter(name__startswith="规模测试县").count() == 3
    assert Department.objects.filter(jurisdiction__plans__in=plans).count() == 12
    assert Task.objects.filter(plan__in=plans).count() == 30
    assert Indicator.objects.filter(plan__in=plans).count() == 30
    for plan in plans:
        assert (plan.start_year, plan.end_year) == (2016, 2017)
        assert plan.jurisdiction.departments.count() == 4
        assert plan.tasks.count() == 10
        kinds = Counter(plan.indicators.values_list("kind", flat=True))
        assert set(kinds) == {"flow", "level", "deliverable"}
    assert Indicator.objects.filter(plan__in=plans, direction="at_most").exists()
    assert Deliverable.objects.filter(task__plan__in=plans).exists()
    assert TaskUpdate.objects.filter(task__plan__in=plans).exists()
    assert "generated in" in output
    assert "task 30" in output


def test_every_task_has_a_lead_and_every_indicator_yearly_milestones():
    generate()
    tasks = Task.objects.filter(plan__code__startswith="scale-")
    assert not tasks.exclude(links__role="lead").exists()
    for indicator in Indicator.objects.filter(plan__code__startswith="scale-"):
        years = list(indicator.milestones.values_list("year", flat=True))
        if indicator.kind == "deliverable":
            assert len(years) == 1
            assert indicator.final_target == 1
        else:
            assert years == [2016, 2017]


def test_departments_come_from_the_plans_own_jurisdiction():
    generate()
    task_links = TaskDepartment.objects.filter(task__plan__code__startswith="scale-")
    indicator_links = IndicatorDepartment.objects.filter(indicator__plan__code__startswith="scale-")
    assert task_links.exists()
    assert indicator_links.exists()
    assert not task_links.exclude(department__jurisdiction=F("task__plan__jurisdiction")).exists()
    assert not indicator_links.exclude(
        department__jurisdiction=F("indicator__plan__jurisdiction")
    ).exists()
    assert not Task.objects.exclude(section__plan=F("plan")).exists()
    assert not Indicator.objects.exclude(section__plan=F("plan")).exists()


def test_measurements_are_half_year_ends_within_the_plan_and_percentages_within_bounds():
    generate()
    measurements = Measurement.objects.filter(indicator__plan__code__startswith="scale-")
    assert 0 < measurements.count() <= 30 * 2 * 2
    ends = {(d.month, d.day, d.year) for d in measurements.values_list("period_end", flat=True)}
    assert {(m, d) for m, d, _ in ends} <= {(6, 30), (12, 31)}
    assert {y for _, _, y in ends} <= {2016, 2017}
    percent = {"indicator__unit": "%"}
    assert measurements.filter(**percent).exists()
    for values in [
        measurements.filter(**percent),
        Milestone.objects.filter(indicator__plan__code__startswith="scale-", **percent),
    ]:
        assert all(0 <= v <= 100 for v in values.values_list("value", flat=True))
    assert not measurements.filter(value__lt=0).exists()


def test_the_same_seed_gives_the_same_data_and_reset_replaces_it():
    generate(seed=7)
    first = fingerprint()
    generate(seed=7, reset=True)
    assert fingerprint() == first
    assert Plan.objects.filter(code__startswith="scale-").count() == 3
    assert Jurisdiction.objects.filter(name__startswith="规模测试县").count() == 3

    generate(seed=8, reset=True)
    assert fingerprint() != first


def test_refuses_to_run_twice_without_reset():
    generate()
    with pytest.raises(CommandError, match="--reset"):
        generate()
    assert Task.objects.filter(plan__code__startswith="scale-").count() == 30


def test_reset_leaves_the_seed_plans_alone():
    seed_departments = Department.objects.count()
    seed_tasks = Task.objects.count()
    generate()
    generate(reset=True, plans=2, tasks=8, departments=4)
    assert Plan.objects.filter(code__startswith="scale-").count() == 2
    assert Department.objects.count() == seed_departments + 4
    assert Task.objects.count() == seed_tasks + 8
    assert Plan.objects.filter(code="liucheng").exists()
