"""The 柳城县 fixture (fixtures/plans/liucheng.yaml) pinned to its seed document.

Seed: shared/seeds/000_586c903b12436ccf.txt, 柳城政办〔2018〕34号. Quoted text is compared with
the seed after removing all whitespace from both sides, as the fixture's README promises.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal
from functools import cache

import pytest
from django.conf import settings

from indicators.models import Indicator
from plans.models import Department, Plan
from tasks.models import Deliverable, Task, TaskDepartment

pytestmark = pytest.mark.django_db

SEED = settings.BASE_DIR / "fixtures" / "sources" / "000_586c903b12436ccf.txt"
_WHITESPACE = re.compile(r"\s+")


def _squash(text: str) -> str:
    return _WHITESPACE.sub("", text)


@cache
def _seed() -> str:
    return _squash(SEED.read_text(encoding="utf-8"))


def _quoted(text: str) -> bool:
    return _squash(text) in _seed()


@pytest.fixture
def plan() -> Plan:
    return Plan.objects.get(code="liucheng")


def _indicator(plan: Plan, code: str) -> Indicator:
    return plan.indicators.get(code=code)


def _milestones(plan: Plan, code: str) -> dict[int, Decimal]:
    return dict(_indicator(plan, code).milestones.values_list("year", "value"))


def _cited(task: Task, role: str) -> list[str]:
    links = task.links.filter(role=role).order_by("position")
    return [link.cited_as for link in links]


def _departments(task: Task, role: str) -> list[str]:
    links = task.links.filter(role=role).order_by("position").select_related("department")
    return [link.department.name for link in links]


# -- the plan and its chapter tree ---------------------------------------------------------------


def test_plan_is_liucheng_county_2018_to_2020(plan):
    assert plan.jurisdiction.name == "柳城县"
    assert plan.jurisdiction.level == "county"
    assert (plan.start_year, plan.end_year) == (2018, 2020)
    assert plan.document_number == "柳城政办〔2018〕34号"
    assert plan.issue_date == dt.date(2018, 5, 3)
    assert plan.source_document == SEED.name
    assert plan.goal.startswith("到2020年,全面建成以居家为基础")
    assert _quoted(plan.goal)


def test_sections_follow_the_document_order(plan):
    paths = list(plan.sections.order_by("position").values_list("path", flat=True))
    assert paths == [
        "一、",
        "一、(一)",
        "一、(二)",
        "一、(三)",
        "一、(四)",
        "一、(五)",
        "二、",
        "二、(一)",
        "二、(二)",
        "二、(三)",
        "二、(四)",
        "二、(五)",
        "二、(六)",
        "三、",
        "四、",
        "四、(一)",
        "四、(二)",
        "四、(三)",
        "附件1",
    ]


def test_plan_has_29_tasks_none_of_them_nested(plan):
    assert plan.tasks.count() == 29
    assert plan.tasks.filter(parent=None).count() == 29
    assert plan.tasks.filter(section__path__startswith="二、").count() == 18
    assert plan.tasks.filter(section__path="三、").count() == 11


def test_tasks_run_from_main_tasks_to_policy_items_in_order(plan):
    clauses = list(plan.tasks.order_by("position").values_list("clause", flat=True))
    assert clauses[:4] == ["二、(一)1", "二、(一)2", "二、(一)3", "二、(一)4"]
    assert clauses[17] == "二、(六)3"
    assert clauses[18:] == [
        f"三、({n})" for n in ["一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一"]
    ]


def test_plan_has_22_indicators(plan):
    assert plan.indicators.count() == 22
    goal_indicators = plan.indicators.filter(section__path__startswith="一、")
    assert goal_indicators.count() == 10


# -- indicators and milestones --------------------------------------------------------------------


def test_new_beds_milestones_are_300_400_500(plan):
    assert _milestones(plan, "new-beds") == {2018: 300, 2019: 400, 2020: 500}
    beds = _indicator(plan, "new-beds")
    assert beds.kind == Indicator.Kind.FLOW
    assert {m.source_clause for m in beds.milestones.all()} == {"二、(一)3"}


def test_new_beds_total_1200_is_the_sum_of_its_milestones(plan):
    beds = _indicator(plan, "new-beds")
    assert beds.final_target == 1200
    assert sum(_milestones(plan, "new-beds").values()) == beds.final_target
    assert beds.source_clause == "一、(一)"


def test_health_management_rate_milestones_are_30_50_60(plan):
    rate = _indicator(plan, "health-management-rate")
    assert rate.kind == Indicator.Kind.LEVEL
    assert rate.unit == "%"
    assert _milestones(plan, "health-management-rate") == {2018: 30, 2019: 50, 2020: 60}
    assert set(rate.milestones.values_list("source_clause", flat=True)) == {"二、(三)1"}


def test_medical_service_capability_milestones_are_50_80_100(plan):
    rate = _indicator(plan, "medical-service-capability")
    assert rate.kind == Indicator.Kind.LEVEL
    assert _milestones(plan, "medical-service-capability") == {2018: 50, 2019: 80, 2020: 100}
    assert set(rate.milestones.values_list("source_clause", flat=True)) == {"二、(三)2"}


def test_training_milestones_are_50_50_50_and_add_up_to_150(plan):
    training = _indicator(plan, "care-worker-training")
    assert training.unit == "人次"
    assert _milestones(plan, "care-worker-training") == {2018: 50, 2019: 50, 2020: 50}
    assert training.final_target == 150


def test_training_150_is_a_different_indicator_from_80_more_care_workers(plan):
    staff = _indicator(plan, "care-workforce-increase")
    assert (staff.final_target, staff.unit, staff.source_clause) == (80, "人", "一、(五)")
    assert not staff.milestones.exists()


def test_flow_milestones_add_up_to_their_final_target(plan):
    flows = plan.indicators.filter(kind=Indicator.Kind.FLOW, milestones__isnull=False).distinct()
    assert flows.count() == 6
    for indicator in flows:
        total = sum(indicator.milestones.values_list("value", flat=True))
        assert total == indicator.final_target, indicator.code


def test_goal_rates_are_levels_and_goal_results_are_deliverables(plan):
    kinds = dict(plan.indicators.values_list("code", "kind"))
    assert kinds["beds-per-thousand-elderly"] == "level"
    assert kinds["nursing-bed-share"] == "level"
    assert kinds["public-built-private-run"] == "level"
    assert kinds["smart-care-centre"] == "deliverable"
    assert kinds["fengshan-health-town"] == "deliverable"
    assert kinds["info-platform-service-volume"] == "flow"
    deliverables = plan.indicators.filter(kind=Indicator.Kind.DELIVERABLE)
    assert set(deliverables.values_list("final_target", flat=True)) == {1}


def test_no_indicator_is_an_upper_bound(plan):
    assert not plan.indicators.filter(direction=Indicator.Direction.AT_MOST).exists()


def test_county_welfare_institution_is_due_in_2018(plan):
    institution = _indicator(plan, "county-welfare-institution")
    assert institution.target_year == 2018
    assert institution.source_clause == "附件1"
    assert "柳城县社会福利院老年养护楼" in institution.source_text


# -- the 五保村 conflict ---------------------------------------------------------------------------


def test_wubao_villages_follow_the_body_20_15_15_from_clause_2_2_2(plan):
    wubao = _indicator(plan, "wubao-village-conversion")
    milestones = wubao.milestones.all()
    assert [(m.year, m.value, m.source_clause) for m in milestones] == [
        (2018, 20, "二、(二)2"),
        (2019, 15, "二、(二)2"),
        (2020, 15, "二、(二)2"),
    ]
    assert wubao.final_target == 50


def test_wubao_villages_keep_annex_1_split_15_20_15_as_alternatives(plan):
    wubao = _indicator(plan, "wubao-village-conversion")
    alternatives = wubao.alternative_milestones.all()
    assert [(a.year, a.value, a.source_clause) for a in alternatives] == [
        (2018, 15, "附件1"),
        (2019, 20, "附件1"),
        (2020, 15, "附件1"),
    ]
    assert [a.source_text for a in alternatives] == [
        "2018年完成15%",
        "2019年完成20%",
        "2020年完成15%",
    ]


def test_wubao_villages_show_as_conflicting_and_cite_both_clauses(plan):
    flagged = plan.indicators.with_conflict_flag().filter(has_conflict=True)
    assert list(flagged.values_list("code", flat=True)) == ["wubao-village-conversion"]
    note = flagged.get().conflict_note
    assert "二、(二)2" in note
    assert "附件1" in note


# -- departments ----------------------------------------------------------------------------------


def test_minzhengju_and_xian_minzhengju_are_one_department(plan):
    bureau = Department.objects.get(jurisdiction=plan.jurisdiction, name="县民政局")
    assert not Department.objects.filter(jurisdiction=plan.jurisdiction, name="民政局").exists()
    assert list(bureau.aliases.values_list("name", flat=True)) == ["民政局"]
    cited = set(
        TaskDepartment.objects.filter(task__plan=plan, department=bureau).values_list(
            "cited_as", flat=True
        )
    )
    assert cited == {"民政局", "县民政局"}


def test_task_keeps_the_spelling_it_cites(plan):
    beds = plan.tasks.get(clause="二、(一)3")
    lead = beds.links.filter(role=TaskDepartment.Role.LEAD).select_related("department")
    assert [(link.cited_as, link.department.name) for link in lead.order_by("position")] == [
        ("民政局", "县民政局"),
        ("各乡镇人民政府", "各乡镇人民政府"),
    ]


def test_short_bureau_names_merge_into_the_county_bureaus(plan):
    names = set(
        Department.objects.filter(jurisdiction=plan.jurisdiction).values_list("name", flat=True)
    )
    for short in [
        "财政局",
        "发展改革局",
        "卫生计生局",
        "住房城乡建设局",
        "国土资源局",
        "投资促进局",
    ]:
        assert short not in names
        assert f"县{short}" in names
    assert Department.objects.filter(jurisdiction=plan.jurisdiction).count() == 18


def test_township_spellings_resolve_to_the_collective(plan):
    townships = Department.objects.get(jurisdiction=plan.jurisdiction, name="各乡镇人民政府")
    assert townships.is_collective
    assert set(townships.aliases.values_list("name", flat=True)) == {"各相关乡镇人民政府", "各乡镇"}
    centres = plan.tasks.get(clause="二、(一)2")
    assert _cited(centres, "lead") == ["各相关乡镇人民政府"]
    assert _departments(centres, "lead") == ["各乡镇人民政府"]


def test_overseas_chinese_zone_is_its_own_body_beside_the_townships(plan):
    platform = plan.tasks.get(clause="二、(四)2")
    assert _cited(platform, "support")[-2:] == ["各乡镇", "华侨管理区"]
    assert _departments(platform, "support")[-2:] == ["各乡镇人民政府", "华侨管理区"]
    zone = Department.objects.get(jurisdiction=plan.jurisdiction, name="华侨管理区")
    assert not zone.is_collective


def test_fengshan_town_government_is_a_named_department(plan):
    town = plan.tasks.get(clause="二、(五)2")
    assert _departments(town, "lead") == ["县民政局", "凤山镇人民政府"]


@pytest.mark.parametrize(
    ("clause", "lead", "support"),
    [
        (
            "二、(一)1",
            ["县民政局"],
            ["县投资促进局", "县发展改革局", "县财政局", "县国土资源局", "县住房城乡建设局"],
        ),
        ("二、(二)3", ["县住房城乡建设局", "县民政局"], ["各乡镇人民政府"]),
        ("二、(三)1", ["县卫生计生局", "各乡镇人民政府"], ["县民政局", "县人力资源和社会保障局"]),
        (
            "二、(三)3",
            ["县人力资源和社会保障局"],
            ["县财政局", "县卫生计生局", "县民政局", "各乡镇人民政府"],
        ),
        ("二、(六)1", ["县教育局"], ["县人力资源和社会保障局", "县民政局", "各乡镇人民政府"]),
        (
            "二、(六)3",
            ["县委文明办", "团县委", "县妇联", "县民政局"],
            ["县人力资源和社会保障局", "县民政局", "各乡镇人民政府"],
        ),
        ("三、(六)", ["县民政局", "各乡镇人民政府"], []),
        (
            "三、(十一)",
            ["县金融办"],
            ["县财政局", "县发展改革局", "县民政局", "各乡镇人民政府"],
        ),
    ],
)
def test_named_tasks_have_their_lead_and_supporting_departments(plan, clause, lead, support):
    task = plan.tasks.get(clause=clause)
    assert _departments(task, "lead") == lead
    assert _departments(task, "support") == support


def test_task_departments_match_the_parenthesis_after_each_task(plan):
    """Every task's text is followed in the seed by "(牵头部门:…,责任单位:…)"; compare lists."""
    seed = _seed()
    for task in plan.tasks.all():
        start = seed.find(_squash(task.text))
        assert start >= 0, task.clause
        after = seed[start + len(_squash(task.text)) :]
        assert after.startswith("(牵头"), task.clause
        inside = after[1 : after.index(")")]
        lead_part, _, support_part = inside.partition("责任单位:")
        lead_part = lead_part.split(":", 1)[1].rstrip(",")
        split = re.compile("[、,]")
        assert _cited(task, "lead") == split.split(lead_part), task.clause
        expected_support = split.split(support_part) if support_part else []
        assert _cited(task, "support") == expected_support, task.clause


# -- annex 1: places and budgets -------------------------------------------------------------------


def test_home_care_stations_are_2_3_3_in_the_annex_places(plan):
    stations = _indicator(plan, "home-care-stations")
    assert stations.final_target == 8
    assert [(m.year, m.value, m.note) for m in stations.milestones.all()] == [
        (2018, 2, "六塘镇、东泉镇"),
        (2019, 3, "太平镇、社冲乡、龙头镇"),
        (2020, 3, "冲脉镇、马山镇、大埔镇洛崖社区"),
    ]
    assert set(stations.milestones.values_list("source_clause", flat=True)) == {"附件1"}


def test_home_care_station_budget_is_10_15_15_wan_yuan_total_40(plan):
    budget = _indicator(plan, "home-care-station-budget")
    assert budget.unit == "万元"
    assert budget.final_target == 40
    assert _milestones(plan, "home-care-station-budget") == {2018: 10, 2019: 15, 2020: 15}
    stations = plan.tasks.get(clause="二、(二)1")
    assert set(stations.indicators.values_list("code", flat=True)) == {
        "home-care-stations",
        "home-care-station-budget",
    }


def test_rural_care_centres_are_1_2_1_in_the_annex_towns(plan):
    centres = _indicator(plan, "rural-care-centres")
    assert centres.final_target == 4
    assert [(m.year, m.value, m.note) for m in centres.milestones.all()] == [
        (2018, 1, "冲脉镇"),
        (2019, 2, "古砦仫佬族乡、凤山镇"),
        (2020, 1, "首选1.沙埔镇,其次2.太平镇"),
    ]


# -- dated deliverables and ongoing items ---------------------------------------------------------


def test_dated_deliverables_are_due_at_the_end_of_2018(plan):
    deliverables = Deliverable.objects.filter(task__plan=plan).select_related("task")
    assert [(d.task.clause, d.description, d.due_text, d.due_date) for d in deliverables] == [
        ("二、(四)2", "探索建立养老宣传推广平台", "2018年", dt.date(2018, 12, 31)),
        ("三、(十一)", "探索设立健康养老产业投资基金", "2018年", dt.date(2018, 12, 31)),
    ]


def test_only_the_yearly_inspection_is_ongoing(plan):
    ongoing = plan.tasks.filter(is_ongoing=True)
    assert list(ongoing.values_list("clause", flat=True)) == ["三、(八)"]
    assert not plan.indicators.filter(is_ongoing=True).exists()


def test_tasks_link_the_indicators_they_state(plan):
    def codes(clause: str) -> set[str]:
        return set(plan.tasks.get(clause=clause).indicators.values_list("code", flat=True))

    assert "new-beds" in codes("二、(一)3")
    assert codes("二、(二)2") == {"wubao-village-conversion"}
    assert codes("二、(三)1") == {"health-management-rate"}
    assert codes("二、(六)2") == {"care-worker-training"}
    assert codes("三、(一)") == set()


# -- everything quoted is in the seed -------------------------------------------------------------


def test_every_quoted_text_appears_in_the_seed(plan):
    quoted = [plan.title, plan.goal]
    quoted += [s.title for s in plan.sections.all()]
    for indicator in plan.indicators.all():
        quoted.append(indicator.source_text)
        quoted += [link.cited_as for link in indicator.links.all()]
        for m in indicator.milestones.all():
            quoted += [m.source_text, m.note]
        quoted += [a.source_text for a in indicator.alternative_milestones.all()]
    for task in plan.tasks.all():
        quoted += [task.title, task.text]
        quoted += [link.cited_as for link in task.links.all()]
        quoted += [d.description for d in task.deliverables.all()]
    missing = [text for text in quoted if text and not _quoted(text)]
    assert missing == []


def test_every_task_text_is_whole_and_not_empty(plan):
    for task in plan.tasks.all():
        assert task.text.endswith("。"), task.clause
        assert _squash(task.title) in _squash(task.text), task.clause
