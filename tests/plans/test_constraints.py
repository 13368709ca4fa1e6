"""What the database itself refuses, whatever code path writes the row."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction

from indicators.models import AlternativeMilestone, Indicator, Measurement, Milestone
from plans.models import Department, DepartmentAlias, Section
from tasks.models import TaskDepartment
from tests.builders import (
    link_indicator,
    make_department,
    make_indicator,
    make_jurisdiction,
    make_plan,
    make_section,
    make_task,
)

pytestmark = pytest.mark.django_db


def refused(make):
    with pytest.raises(IntegrityError), transaction.atomic():
        make()


def test_task_department_from_another_jurisdiction_is_refused():
    plan = make_plan()
    other = make_department(make_jurisdiction())
    task = make_task(plan)
    refused(lambda: TaskDepartment.objects.create(task=task, department=other, role="lead"))
    assert not TaskDepartment.objects.filter(task=task).exists()


def test_task_department_of_the_plans_jurisdiction_is_accepted():
    plan = make_plan()
    task = make_task(plan, lead=[make_department(plan.jurisdiction)])
    assert task.links.count() == 1


def test_moving_a_department_link_to_another_jurisdiction_is_refused():
    plan = make_plan()
    link = make_task(plan, lead=[make_department(plan.jurisdiction)]).links.get()
    link.department = make_department(make_jurisdiction())
    refused(lambda: link.save())


def test_indicator_department_from_another_jurisdiction_is_refused():
    indicator = make_indicator(make_plan())
    refused(lambda: link_indicator(indicator, make_department(make_jurisdiction())))


def test_alias_must_name_a_department_of_its_own_jurisdiction():
    dept = make_department()
    refused(
        lambda: DepartmentAlias.objects.create(
            jurisdiction=make_jurisdiction(), department=dept, name="民政局"
        )
    )


def test_department_name_is_unique_within_a_jurisdiction_only():
    dept = make_department(name="县民政局")
    refused(lambda: Department.objects.create(jurisdiction=dept.jurisdiction, name="县民政局"))
    assert Department.objects.create(jurisdiction=make_jurisdiction(), name="县民政局").pk


def test_one_milestone_per_indicator_and_year():
    indicator = make_indicator(make_plan(), milestones={2018: "300"})
    refused(
        lambda: Milestone.objects.create(
            indicator=indicator, year=2018, value=Decimal(400), source_clause="x"
        )
    )


@pytest.mark.parametrize("model", [Milestone, AlternativeMilestone, Measurement])
def test_percentage_over_100_is_refused(model):
    indicator = make_indicator(make_plan(), unit="%", kind=Indicator.Kind.LEVEL)
    fields = {"indicator": indicator, "value": Decimal("130")}
    fields |= {"period_end": "2019-12-31"} if model is Measurement else {"year": 2019}
    if model is not Measurement:
        fields["source_clause"] = "x"
    refused(lambda: model.objects.create(**fields))
    fields["value"] = Decimal("100")
    assert model.objects.create(**fields).pk


def test_count_over_100_is_fine():
    indicator = make_indicator(make_plan(), unit="张")
    assert Milestone.objects.create(
        indicator=indicator, year=2018, value=Decimal(300), source_clause="x"
    ).pk


def test_negative_target_is_refused():
    indicator = make_indicator(make_plan())
    refused(
        lambda: Milestone.objects.create(
            indicator=indicator, year=2018, value=Decimal(-1), source_clause="x"
        )
    )


def test_percent_final_target_over_100_is_refused():
    plan = make_plan()
    refused(lambda: make_indicator(plan, unit="%", kind="level", final_target=Decimal("120")))


def test_deliverable_target_is_done_or_nothing():
    plan = make_plan()
    refused(lambda: make_indicator(plan, kind="deliverable", final_target=Decimal("2")))
    assert make_indicator(plan, kind="deliverable", final_target=Decimal("1")).pk


def test_indicator_in_a_section_of_another_plan_is_refused():
    plan, other = make_plan(), make_plan()
    refused(lambda: make_indicator(plan, section=make_section(other)))


def test_task_in_a_section_of_another_plan_is_refused():
    plan, other = make_plan(), make_plan()
    refused(lambda: make_task(plan, section=make_section(other)))


def test_measurement_only_at_a_half_year_or_year_end():
    indicator = make_indicator(make_plan())
    refused(
        lambda: Measurement.objects.create(indicator=indicator, period_end="2019-07-31", value=1)
    )
    assert Measurement.objects.create(indicator=indicator, period_end="2019-06-30", value=1).pk


def test_plan_cannot_end_before_it_starts():
    refused(lambda: make_plan(start_year=2020, end_year=2018))


def test_section_paths_are_unique_in_a_plan():
    plan = make_plan()
    make_section(plan, path="一、")
    refused(lambda: Section.objects.create(plan=plan, path="一、", title="x", position=999))
