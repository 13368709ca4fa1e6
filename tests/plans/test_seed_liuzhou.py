"""Pins fixtures/plans/liuzhou.yaml to seed 003 (柳州市促进养老托育服务健康发展工作方案)."""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings

from indicators.models import Indicator, IndicatorDepartment, Milestone
from plans.models import Department, DepartmentAlias, Plan, Section
from tasks.models import Deliverable, Task, TaskDepartment

SEED = settings.BASE_DIR / "fixtures" / "sources" / "003_e784ad8fbdf55516.txt"
BASELINE_DATE = dt.date(2022, 9, 30)


def squeeze(text: str) -> str:
    return re.sub(r"\s+", "", text)


@pytest.fixture
def plan() -> Plan:
    return Plan.objects.get(code="liuzhou")


@pytest.fixture
def seed_text() -> str:
    return squeeze(SEED.read_text(encoding="utf-8"))


def links(plan: Plan, clause: str, role: str) -> list[str]:
    task = Task.objects.get(plan=plan, clause=clause)
    return [
        link.department.name
        for link in task.links.filter(role=role).select_related("department").order_by("position")
    ]


def cited(plan: Plan, clause: str, role: str) -> list[str]:
    task = Task.objects.get(plan=plan, clause=clause)
    return list(
        task.links.filter(role=role).order_by("position").values_list("cited_as", flat=True)
    )


@pytest.mark.django_db
def test_the_plan_is_a_city_plan_for_2023_to_2025_without_a_document_number(plan):
    assert plan.title == "柳州市促进养老托育服务健康发展工作方案"
    assert plan.jurisdiction.name == "柳州市"
    assert plan.jurisdiction.level == "city"
    assert (plan.start_year, plan.end_year) == (2023, 2025)
    assert plan.document_number == ""
    assert plan.issuing_office == "柳州市人民政府办公室"
    assert plan.issue_date == dt.date(2023, 4, 3)
    assert plan.goal.startswith("以“公益兜底线、普惠性主导、市场化协同”为原则")
    assert "到2025年,全市养老床位总数达2.6万张" in plan.goal


@pytest.mark.django_db
def test_the_chapter_tree_has_22_sections_in_document_order(plan):
    paths = list(plan.sections.order_by("position").values_list("path", flat=True))
    assert paths == [
        "一、",
        "一、(一)",
        "一、(二)",
        "一、(三)",
        "二、",
        "三、",
        "四、",
        "四、(一)",
        "四、(二)",
        "四、(三)",
        "四、(四)",
        "五、",
        "五、(一)",
        "五、(二)",
        "五、(三)",
        "五、(四)",
        "五、(五)",
        "五、(六)",
        "附件",
        "附件1.",
        "附件2.",
        "附件3.",
    ]
    assert Section.objects.get(plan=plan, path="四、(三)").title == "提升养老托育服务质量"


@pytest.mark.django_db
def test_all_22_tasks_are_there_numbered_straight_through_the_four_sub_sections(plan):
    tasks = list(plan.tasks.order_by("position"))
    assert len(tasks) == 22
    assert [t.number for t in tasks] == [str(n) for n in range(1, 23)]
    sections = {t.number: t.section.path for t in tasks}
    assert {n for n, s in sections.items() if s == "四、(一)"} == {"1", "2", "3"}
    assert {n for n, s in sections.items() if s == "四、(二)"} == {"4", "5", "6", "7", "8"}
    assert {n for n, s in sections.items() if s == "四、(四)"} == {"19", "20", "21", "22"}
    assert tasks[8].clause == "四、(三)9"
    assert tasks[21].clause == "四、(四)22"
    assert tasks[21].title == "完善养老托育服务能力评价机制"


@pytest.mark.django_db
def test_the_plan_has_25_indicators_and_17_milestones(plan):
    assert plan.indicators.count() == 25
    assert Milestone.objects.filter(indicator__plan=plan).count() == 17
    assert not plan.indicators.filter(alternative_milestones__isnull=False).exists()


@pytest.mark.django_db
def test_baselines_are_the_september_2022_figures(plan):
    baselines = {
        i.code: (i.baseline_value, i.baseline_date)
        for i in plan.indicators.filter(baseline_value__isnull=False)
    }
    assert baselines == {
        "elderly-care-institutions": (Decimal(92), BASELINE_DATE),
        "elderly-care-beds": (Decimal(20000), BASELINE_DATE),
        "childcare-institutions": (Decimal(478), BASELINE_DATE),
        "childcare-slots": (Decimal(12811), BASELINE_DATE),
        "childcare-slots-per-1000": (Decimal("3.07"), BASELINE_DATE),
    }
    beds = plan.indicators.get(code="elderly-care-beds")
    assert "2万余张" in beds.baseline_note


@pytest.mark.django_db
def test_milestones_hold_the_2025_goals_and_the_2023_task_targets(plan):
    milestones = {
        (m.indicator.code, m.year): m.value
        for m in Milestone.objects.filter(indicator__plan=plan).select_related("indicator")
    }
    assert milestones == {
        ("elderly-care-beds", 2025): Decimal(26000),
        ("nursing-bed-share", 2025): Decimal(55),
        ("street-elderly-centre-coverage", 2025): Decimal(100),
        ("township-elderly-centre-coverage", 2025): Decimal(60),
        ("county-regional-elderly-centres", 2025): Decimal(5),
        ("childcare-slots", 2025): Decimal(19700),
        ("childcare-slots-per-1000", 2025): Decimal("4.5"),
        ("community-childcare-facility-rate", 2025): Decimal(60),
        ("four-synchronous-system", 2023): Decimal(1),
        ("new-residential-facility-rate", 2023): Decimal(100),
        ("existing-area-elderly-facilities", 2025): Decimal(1),
        ("demo-childcare-evaluation-method", 2023): Decimal(1),
        ("home-care-service-visits", 2025): Decimal(3000),
        ("inclusive-elderly-care-fee-standard", 2023): Decimal(1),
        ("county-childcare-guidance-centre-share", 2023): Decimal(50),
        ("city-demo-childcare-centre", 2025): Decimal(1),
        ("guangxi-livable-communities", 2025): Decimal(16),
    }
    clauses = dict(
        Milestone.objects.filter(indicator__plan=plan).values_list(
            "indicator__code", "source_clause"
        )
    )
    assert clauses["childcare-slots"] == "三、"
    assert clauses["county-childcare-guidance-centre-share"] == "四、(三)12"
    assert clauses["guangxi-livable-communities"] == "四、(三)17"


@pytest.mark.django_db
def test_final_targets_match_the_milestone_of_their_target_year(plan):
    for indicator in plan.indicators.exclude(target_year=None):
        milestone = indicator.milestones.get(year=indicator.target_year)
        assert milestone.value == indicator.final_target, indicator.code


@pytest.mark.django_db
def test_undated_targets_keep_their_value_without_a_year(plan):
    undated = {
        i.code: i.final_target
        for i in plan.indicators.filter(target_year=None).exclude(final_target=None)
    }
    assert undated == {
        "existing-area-space-standard": Decimal(15),
        "county-welfare-and-township-centre-projects": Decimal(10),
        "key-township-integrated-centres": Decimal(1),
        "hardship-elderly-monthly-visit-rate": Decimal(100),
        "destitute-centralised-support-rate": Decimal(100),
        "lottery-fund-share": Decimal(60),
    }
    assert plan.indicators.get(code="lottery-fund-share").source_clause == "五、(三)"


@pytest.mark.django_db
def test_kinds_are_levels_or_deliverables_and_nothing_is_an_upper_bound(plan):
    deliverables = set(
        plan.indicators.filter(kind=Indicator.Kind.DELIVERABLE).values_list("code", flat=True)
    )
    assert deliverables == {
        "four-synchronous-system",
        "existing-area-elderly-facilities",
        "demo-childcare-evaluation-method",
        "inclusive-elderly-care-fee-standard",
        "city-demo-childcare-centre",
    }
    assert all(i.final_target == 1 for i in plan.indicators.filter(kind=Indicator.Kind.DELIVERABLE))
    assert not plan.indicators.filter(kind=Indicator.Kind.FLOW).exists()
    assert plan.indicators.get(code="elderly-care-beds").kind == Indicator.Kind.LEVEL
    assert plan.indicators.get(code="childcare-slots-per-1000").kind == Indicator.Kind.LEVEL
    assert not plan.indicators.filter(direction=Indicator.Direction.AT_MOST).exists()


@pytest.mark.django_db
def test_percentages_stay_within_0_and_100(plan):
    percents = plan.indicators.filter(unit="%")
    assert percents.count() == 9
    for indicator in percents:
        assert 0 <= indicator.final_target <= 100
        for milestone in indicator.milestones.all():
            assert 0 <= milestone.value <= 100


@pytest.mark.django_db
def test_every_unit_after_牵头单位_is_a_lead_and_every_unit_after_配合单位_supports(plan):
    assert links(plan, "四、(一)1", "lead") == ["市民政局", "市卫生健康委", "市发展改革委"]
    assert links(plan, "四、(一)1", "support") == [
        "各县(区)人民政府",
        "柳东新区",
        "阳和工业新区(北部生态新区)管委会",
    ]
    assert links(plan, "四、(一)3", "lead") == ["市自然资源和规划局"]
    assert links(plan, "四、(二)6", "lead") == ["市国资委", "市民政局"]
    assert links(plan, "四、(二)6", "support") == ["市财政局", "市发展改革委", "机关事务管理局"]
    assert links(plan, "四、(三)12", "lead") == ["市卫生健康委"]
    assert links(plan, "四、(三)15", "lead") == ["市民政局", "医疗保障局", "工业和信息化局"]
    assert links(plan, "四、(三)18", "support")[:2] == ["团市委", "市残联"]
    assert links(plan, "四、(四)20", "lead") == [
        "市市场监管局",
        "市财政局",
        "公安局",
        "市民政局",
        "市卫生健康委",
    ]
    assert links(plan, "四、(四)20", "support")[:2] == ["市教育局", "市消防救援支队"]
    assert links(plan, "四、(四)22", "lead") == ["市发展改革委"]
    assert links(plan, "四、(四)22", "support")[:3] == ["市民政局", "市卫生健康委", "市财政局"]


@pytest.mark.django_db
def test_task_9_keeps_its_lead_and_no_invented_support_because_the_page_cuts_it_off(plan):
    assert links(plan, "四、(三)9", "lead") == ["市人力资源和社会保障局"]
    assert links(plan, "四、(三)9", "support") == []


@pytest.mark.django_db
def test_spellings_of_one_body_merge_into_one_record_and_keep_the_cited_spelling(plan):
    liuzhou = plan.jurisdiction
    assert Department.objects.filter(jurisdiction=liuzhou).count() == 26
    assert cited(plan, "四、(一)1", "lead") == ["市民政局", "卫生健康委", "发展改革委"]
    assert cited(plan, "四、(二)8", "support")[0] == "市卫生健康委"
    assert cited(plan, "四、(二)7", "support")[:2] == ["市财政局", "市场监管局"]
    assert links(plan, "四、(二)7", "support")[:2] == ["市财政局", "市市场监管局"]
    assert cited(plan, "四、(三)14", "support")[1] == "医保局"
    assert links(plan, "四、(三)14", "support")[1] == "医疗保障局"
    assert cited(plan, "四、(四)21", "lead")[2] == "大数据发展局"
    assert links(plan, "四、(四)21", "lead")[2] == "市大数据发展局"
    aliases = dict(
        DepartmentAlias.objects.filter(jurisdiction=liuzhou).values_list("name", "department__name")
    )
    assert aliases["人力资源社会保障局"] == "市人力资源和社会保障局"
    assert aliases["卫生健康委"] == "市卫生健康委"
    assert aliases["各县(区)"] == "各县(区)人民政府"
    health = Department.objects.get(jurisdiction=liuzhou, name="市卫生健康委")
    assert TaskDepartment.objects.filter(task__plan=plan, department=health).count() == 19


@pytest.mark.django_db
def test_the_county_governments_are_one_collective_and_the_two_new_areas_are_two_bodies(plan):
    collectives = Department.objects.filter(jurisdiction=plan.jurisdiction, is_collective=True)
    assert list(collectives.values_list("name", flat=True)) == ["各县(区)人民政府"]
    for name in ("柳东新区", "阳和工业新区(北部生态新区)管委会"):
        dept = Department.objects.get(jurisdiction=plan.jurisdiction, name=name)
        assert not dept.is_collective
        assert TaskDepartment.objects.filter(task__plan=plan, department=dept).count() == 20


@pytest.mark.django_db
def test_dated_deliverables_are_due_at_the_end_of_the_stated_year(plan):
    due = {
        (d.task.number, d.due_date)
        for d in Deliverable.objects.filter(task__plan=plan).select_related("task")
    }
    assert due == {
        ("4", dt.date(2023, 12, 31)),
        ("5", dt.date(2025, 12, 31)),
        ("7", dt.date(2023, 12, 31)),
        ("8", dt.date(2025, 12, 31)),
        ("11", dt.date(2023, 12, 31)),
        ("12", dt.date(2023, 12, 31)),
        ("12", dt.date(2025, 12, 31)),
        ("17", dt.date(2025, 12, 31)),
        ("22", dt.date(2023, 12, 31)),
        ("22", dt.date(2024, 12, 31)),
        ("22", dt.date(2025, 12, 31)),
    }
    assert Deliverable.objects.filter(task__plan=plan).count() == 12
    evaluation = Deliverable.objects.get(task__plan=plan, task__number="7")
    assert evaluation.due_text == "2023年底前"
    assert evaluation.description == "研究制定柳州市示范性托育机构评估办法"


@pytest.mark.django_db
def test_task_22_asks_for_a_summary_every_year_of_the_plan(plan):
    summaries = Deliverable.objects.filter(task__plan=plan, task__number="22").order_by("due_date")
    assert [d.due_date.year for d in summaries] == [2023, 2024, 2025]
    assert {d.description for d in summaries} == {
        "各县(区)及各部门按年度报送养老托育服务开展情况总结"
    }
    assert not Task.objects.get(plan=plan, number="22").is_ongoing


@pytest.mark.django_db
def test_only_the_tasks_that_say_持续_are_ongoing(plan):
    ongoing = set(plan.tasks.filter(is_ongoing=True).values_list("number", flat=True))
    assert ongoing == {"17", "20"}
    assert not plan.indicators.filter(is_ongoing=True).exists()


@pytest.mark.django_db
def test_tasks_link_the_indicators_they_drive(plan):
    def codes(number: str) -> set[str]:
        task = Task.objects.get(plan=plan, number=number)
        return set(task.indicators.values_list("code", flat=True))

    assert codes("8") == {"home-care-service-visits"}
    assert codes("11") == {"inclusive-elderly-care-fee-standard", "nursing-bed-share"}
    assert codes("17") == {"guangxi-livable-communities"}
    assert {"county-childcare-guidance-centre-share", "city-demo-childcare-centre"} <= codes("12")
    assert codes("1") == set()


@pytest.mark.django_db
def test_goal_targets_cite_no_department_and_task_targets_cite_the_task_leads(plan):
    assert not IndicatorDepartment.objects.filter(
        indicator__plan=plan, indicator__source_clause="三、"
    ).exists()
    links_ = IndicatorDepartment.objects.filter(indicator__code="guangxi-livable-communities")
    assert sorted(links_.values_list("cited_as", flat=True)) == ["市住房城乡建设局", "民政局"]


@pytest.mark.django_db
def test_every_quoted_text_and_name_appears_verbatim_in_the_seed(plan, seed_text):
    quoted = [plan.title, plan.issuing_office, *plan.goal.splitlines()]
    for task in plan.tasks.all():
        quoted += [task.title, task.text]
        quoted += task.deliverables.values_list("description", flat=True)
        quoted += task.links.values_list("cited_as", flat=True)
    for indicator in plan.indicators.all():
        quoted.append(indicator.source_text)
        quoted += indicator.milestones.values_list("source_text", flat=True)
        quoted += indicator.links.values_list("cited_as", flat=True)
    quoted += Department.objects.filter(jurisdiction=plan.jurisdiction).values_list(
        "name", flat=True
    )
    quoted += DepartmentAlias.objects.filter(jurisdiction=plan.jurisdiction).values_list(
        "name", flat=True
    )
    quoted += plan.sections.values_list("title", flat=True)
    missing = [text for text in quoted if squeeze(text) not in seed_text]
    assert missing == []
    assert len(quoted) > 200
