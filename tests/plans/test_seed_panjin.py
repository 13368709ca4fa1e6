"""Pin fixtures/plans/panjin.yaml to its document, seeds/002_ed3f4b10041352c2.txt.

盘锦市养老服务体系建设实施方案 (盘政办发〔2017〕73号): 2017 and 2020 goals, and the 14 tasks
of 二、重点工作, each with 牵头单位 and 配合单位.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings

from indicators.models import Indicator, IndicatorDepartment, Milestone
from plans.models import Department, DepartmentAlias, Plan, Section
from tasks.models import Deliverable, Task, TaskDepartment

SEED = settings.BASE_DIR / "fixtures" / "sources" / "002_ed3f4b10041352c2.txt"
_WHITESPACE = re.compile(r"\s+")


@pytest.fixture
def plan() -> Plan:
    return Plan.objects.get(code="panjin")


@pytest.fixture
def seed_text() -> str:
    return _WHITESPACE.sub("", SEED.read_text(encoding="utf-8"))


def _task(plan: Plan, clause: str) -> Task:
    return Task.objects.get(plan=plan, clause=clause)


def _cited(task: Task, role: str) -> list[str]:
    return list(
        task.links.filter(role=role).order_by("position").values_list("cited_as", flat=True)
    )


@pytest.mark.django_db
def test_plan_carries_the_document_number_the_seed_lost_characters_of(plan):
    assert plan.title == "盘锦市养老服务体系建设实施方案"
    assert plan.document_number == "盘政办发〔2017〕73号"
    assert plan.issuing_office == "盘锦市人民政府办公室"
    assert plan.issue_date == dt.date(2017, 6, 5)
    assert (plan.start_year, plan.end_year) == (2017, 2020)
    assert plan.jurisdiction.name == "盘锦市"
    assert plan.jurisdiction.level == "city"
    assert plan.goal.startswith("到2017年底,公建公营养老机构管理更加规范")
    assert plan.goal.endswith("促进健康养老产业发展壮大。")


@pytest.mark.django_db
def test_sections_follow_the_chapter_tree_in_document_order(plan):
    paths = list(plan.sections.order_by("position").values_list("path", flat=True))
    assert paths == [
        "一、",
        "一、(一)",
        "一、(二)",
        "一、(三)",
        "二、",
        "二、(一)",
        "二、(二)",
        "二、(三)",
        "二、(四)",
        "二、(五)",
        "二、(六)",
        "三、",
        "三、(一)",
        "三、(二)",
        "三、(三)",
    ]
    fourth = Section.objects.get(plan=plan, path="二、(四)")
    assert fourth.title == "推进社区居家养老服务发展"
    assert fourth.parent.title == "重点工作"
    assert fourth.depth == 1


@pytest.mark.django_db
def test_every_item_of_the_work_section_is_one_task(plan):
    clauses = list(plan.tasks.order_by("position").values_list("clause", flat=True))
    assert clauses == [
        "二、(一)1",
        "二、(一)2",
        "二、(一)3",
        "二、(二)1",
        "二、(二)2",
        "二、(三)",
        "二、(四)1",
        "二、(四)2",
        "二、(四)3",
        "二、(四)4",
        "二、(四)5",
        "二、(四)6",
        "二、(五)",
        "二、(六)",
    ]
    assert not plan.tasks.filter(is_ongoing=True).exists()


@pytest.mark.django_db
def test_plan_has_twelve_indicators_and_ten_milestones(plan):
    assert plan.indicators.count() == 12
    assert Milestone.objects.filter(indicator__plan=plan).count() == 10
    kinds = dict(plan.indicators.values_list("code", "kind"))
    assert kinds["private-bed-share"] == Indicator.Kind.LEVEL
    assert kinds["smart-care-platform"] == Indicator.Kind.DELIVERABLE
    assert kinds["medical-care-pilot-institutions"] == Indicator.Kind.LEVEL
    assert not plan.indicators.filter(direction=Indicator.Direction.AT_MOST).exists()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "year", "value"),
    [
        ("smart-care-platform", 2017, "1"),
        ("public-institutions-upgraded", 2020, "1"),
        ("public-built-private-run-general", 2020, "1"),
        ("community-home-care-citywide", 2020, "1"),
        ("private-bed-share", 2020, "70"),
        ("integrated-care-system", 2020, "1"),
        ("nursing-home-fire-facilities", 2017, "1"),
        ("nursing-home-building-1", 2017, "1"),
        ("nursing-home-public-built-private-run", 2017, "1"),
        ("medical-care-pilot-launched", 2017, "1"),
    ],
)
def test_milestones_are_the_years_and_values_the_document_states(plan, code, year, value):
    milestones = Milestone.objects.filter(indicator__plan=plan, indicator__code=code)
    assert [(m.year, m.value) for m in milestones] == [(year, Decimal(value))]


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("code", "unit", "final_target", "target_year"),
    [
        ("private-bed-share", "%", "70", 2020),
        ("smart-care-platform", "项", "1", 2017),
        ("nursing-home-building-1", "项", "1", 2017),
        ("medical-care-pilot-launched", "项", "1", 2017),
        ("medical-care-pilot-institutions", "家", "3", 2020),
        ("elderly-green-channel-rate", "%", "80", 2020),
    ],
)
def test_final_targets_and_their_years(plan, code, unit, final_target, target_year):
    indicator = plan.indicators.get(code=code)
    assert indicator.unit == unit
    assert indicator.final_target == Decimal(final_target)
    assert indicator.target_year == target_year


@pytest.mark.django_db
def test_numbers_the_document_gives_no_year_have_no_milestone(plan):
    for code in ("medical-care-pilot-institutions", "elderly-green-channel-rate"):
        assert not Milestone.objects.filter(indicator__plan=plan, indicator__code=code).exists()


@pytest.mark.django_db
def test_the_platform_is_due_at_the_end_of_2017(plan):
    milestone = Milestone.objects.get(indicator__plan=plan, indicator__code="smart-care-platform")
    assert milestone.due_date == dt.date(2017, 12, 31)
    task = _task(plan, "二、(四)6")
    assert list(task.indicators.values_list("code", flat=True)) == ["smart-care-platform"]
    deliverable = task.deliverables.get()
    assert deliverable.description == "市级居家养老智慧化服务平台建成并投入使用"
    assert deliverable.due_text == "到2017年底"
    assert deliverable.due_date == dt.date(2017, 12, 31)


@pytest.mark.django_db
def test_dated_deliverables_fall_due_in_2017(plan):
    deliverables = Deliverable.objects.filter(task__plan=plan)
    assert deliverables.count() == 6
    assert set(deliverables.values_list("due_date", flat=True)) == {dt.date(2017, 12, 31)}
    nursing_home = _task(plan, "二、(二)1").deliverables.order_by("position")
    assert [d.description for d in nursing_home] == [
        "争取中央财政资助,重点改建盘锦市老年养护院基础设施",
        "新建消防设施",
        "完成院内1号楼的改建工作",
        "并力争引入医疗机构,按照公建民营方式运营,提供中高端、医养结合型的养老服务",
    ]
    pilot = _task(plan, "二、(五)").deliverables.get()
    assert pilot.description == "2017年全面启动医疗卫生与养老服务结合试点工作"


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("clause", "lead", "support"),
    [
        ("二、(一)1", ["各县区政府", "经济区管委会"], ["市民政局"]),
        (
            "二、(一)2",
            ["各县区政府", "经济区管委会"],
            ["市民政局", "市编委办", "市财政局"],
        ),
        (
            "二、(二)1",
            ["市民政局"],
            [
                "市发改委",
                "市财政局",
                "市人社局",
                "市卫计委",
                "市公共采购交易监督办",
                "市国有资本投资运营公司",
            ],
        ),
        (
            "二、(三)",
            ["各县区政府", "经济区管委会"],
            ["市民政局", "市住建委", "市公安局", "市环保局", "市食药监局"],
        ),
        (
            "二、(四)3",
            ["各县区政府", "经济区管委会"],
            ["市民政局", "市财政局", "市人社局", "市卫计委"],
        ),
        (
            "二、(四)6",
            ["市民政局"],
            ["市财政局", "市公共采购交易监督办", "各县区政府", "经济区管委会"],
        ),
        (
            "二、(五)",
            ["市卫计委"],
            ["市民政局", "市人社局", "各县区政府", "经济区管委会"],
        ),
        (
            "二、(六)",
            ["各县区政府", "经济区管委会"],
            ["市发改委", "市民政局", "市卫计委"],
        ),
    ],
)
def test_lead_and_supporting_departments_are_cited_as_the_document_lists_them(
    plan, clause, lead, support
):
    task = _task(plan, clause)
    assert _cited(task, TaskDepartment.Role.LEAD) == lead
    assert _cited(task, TaskDepartment.Role.SUPPORT) == support


@pytest.mark.django_db
def test_panjin_has_one_record_per_body_and_two_collectives(plan):
    departments = Department.objects.filter(jurisdiction=plan.jurisdiction)
    assert departments.count() == 14
    collectives = set(departments.filter(is_collective=True).values_list("name", flat=True))
    assert collectives == {"各县区政府", "经济区管委会"}


@pytest.mark.django_db
def test_county_governments_and_zone_committees_stay_two_collectives(plan):
    aliases = dict(
        DepartmentAlias.objects.filter(jurisdiction=plan.jurisdiction).values_list(
            "name", "department__name"
        )
    )
    assert aliases == {
        "各县、区人民政府": "各县区政府",
        "各县区": "各县区政府",
        "县级政府": "各县区政府",
        "辽东湾新区、辽河口生态经济区管委会": "经济区管委会",
        "经济区": "经济区管委会",
    }
    # "各县区政府、经济区管委会" splits into two units, both leading 二、(一)1.
    task = _task(plan, "二、(一)1")
    leads = task.links.filter(role=TaskDepartment.Role.LEAD)
    assert {link.department.name for link in leads} == {"各县区政府", "经济区管委会"}


@pytest.mark.django_db
def test_cited_spellings_are_kept_on_every_link(plan):
    links = TaskDepartment.objects.filter(task__plan=plan).select_related("department")
    assert links.count() == 67
    # Every 牵头单位/配合单位 in this document already uses the canonical spelling.
    assert all(link.cited_as == link.department.name for link in links)
    county = Department.objects.get(jurisdiction=plan.jurisdiction, name="各县区政府")
    assert links.filter(department=county, role=TaskDepartment.Role.LEAD).count() == 11
    assert links.filter(department=county, role=TaskDepartment.Role.SUPPORT).count() == 2
    civil_affairs = Department.objects.get(jurisdiction=plan.jurisdiction, name="市民政局")
    assert links.filter(department=civil_affairs).count() == 14


@pytest.mark.django_db
def test_percentages_stay_within_zero_and_one_hundred(plan):
    for indicator in plan.indicators.filter(unit="%"):
        assert Decimal(0) <= indicator.final_target <= Decimal(100)
        for milestone in indicator.milestones.all():
            assert Decimal(0) <= milestone.value <= Decimal(100)


@pytest.mark.django_db
def test_every_quoted_field_appears_in_the_seed(plan, seed_text):
    quoted = [*plan.goal.splitlines()]
    quoted += plan.sections.values_list("title", flat=True)
    for indicator in plan.indicators.all():
        quoted.append(indicator.source_text)
        quoted += indicator.milestones.values_list("source_text", flat=True)
    for task in plan.tasks.all():
        quoted += [task.title, task.text]
        quoted += task.deliverables.values_list("description", flat=True)
    quoted += TaskDepartment.objects.filter(task__plan=plan).values_list("cited_as", flat=True)
    quoted += IndicatorDepartment.objects.filter(indicator__plan=plan).values_list(
        "cited_as", flat=True
    )
    departments = Department.objects.filter(jurisdiction=plan.jurisdiction)
    quoted += departments.values_list("name", flat=True)
    quoted += DepartmentAlias.objects.filter(jurisdiction=plan.jurisdiction).values_list(
        "name", flat=True
    )
    missing = [text for text in quoted if _WHITESPACE.sub("", text) not in seed_text]
    assert missing == []
