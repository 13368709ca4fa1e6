"""Small builders for test data: sensible defaults, override what the test is about."""

from __future__ import annotations

import itertools
from decimal import Decimal

from indicators.models import Indicator, IndicatorDepartment, Milestone
from plans.models import Department, Jurisdiction, Plan, Section
from tasks.models import Task, TaskDepartment

_seq = itertools.count(1)


def make_jurisdiction(name: str | None = None, **kw) -> Jurisdiction:
    return Jurisdiction.objects.create(name=name or f"测试县{next(_seq)}", level="county", **kw)


def make_department(jurisdiction: Jurisdiction | None = None, name: str | None = None, **kw):
    return Department.objects.create(
        jurisdiction=jurisdiction or make_jurisdiction(), name=name or f"部门{next(_seq)}", **kw
    )


def make_plan(jurisdiction: Jurisdiction | None = None, **kw) -> Plan:
    n = next(_seq)
    fields = {"code": f"plan-{n}", "title": f"测试方案{n}", "start_year": 2018, "end_year": 2020}
    fields.update(kw)
    return Plan.objects.create(jurisdiction=jurisdiction or make_jurisdiction(), **fields)


def make_section(plan: Plan, path: str | None = None, **kw) -> Section:
    n = next(_seq)
    path = path or f"S{n}"
    fields = {"number": path, "title": f"章节{n}", "position": n}
    fields.update(kw)
    return Section.objects.create(plan=plan, path=path, **fields)


def make_indicator(
    plan: Plan, section: Section | None = None, milestones: dict[int, str] | None = None, **kw
) -> Indicator:
    n = next(_seq)
    fields = {
        "code": f"ind-{n}",
        "name": f"指标{n}",
        "unit": "张",
        "kind": Indicator.Kind.FLOW,
        "source_clause": "一、",
        "source_text": "原文",
        "position": n,
    }
    fields.update(kw)
    indicator = Indicator.objects.create(plan=plan, section=section or make_section(plan), **fields)
    for year, value in (milestones or {}).items():
        Milestone.objects.create(
            indicator=indicator, year=year, value=Decimal(value), source_clause="一、"
        )
    return indicator


def make_task(
    plan: Plan,
    section: Section | None = None,
    lead: list[Department] = (),
    support: list[Department] = (),
    **kw,
) -> Task:
    n = next(_seq)
    fields = {"clause": f"T{n}", "number": str(n), "title": f"任务{n}", "text": f"任务原文{n}"}
    fields.update(kw)
    task = Task.objects.create(plan=plan, section=section or make_section(plan), **fields)
    for dept in lead:
        TaskDepartment.objects.create(task=task, department=dept, role="lead", cited_as=dept.name)
    for dept in support:
        TaskDepartment.objects.create(
            task=task, department=dept, role="support", cited_as=dept.name
        )
    return task


def link_indicator(indicator: Indicator, department: Department) -> IndicatorDepartment:
    return IndicatorDepartment.objects.create(
        indicator=indicator, department=department, cited_as=department.name
    )
