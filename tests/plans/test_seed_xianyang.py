"""The Xianyang fixture (fixtures/plans/xianyang.yaml) holds seed 004 faithfully.

Seed: 咸阳市加快推进养老服务体系建设重点任务分工, the annex table of 33 numbered tasks.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal

import pytest
from django.conf import settings

from indicators.models import AlternativeMilestone, Indicator, IndicatorDepartment, Milestone
from plans.models import Department, DepartmentAlias, Plan, Section
from tasks.models import Deliverable, Task, TaskDepartment

CODE = "xianyang"
SEED = settings.BASE_DIR / "fixtures" / "sources" / "004_a0d7d2555f135a42.txt"

pytestmark = pytest.mark.django_db


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


def task(clause: str) -> Task:
    return Task.objects.get(plan__code=CODE, clause=clause)


def names(clause: str, role: str) -> list[str]:
    links = TaskDepartment.objects.filter(task=task(clause), role=role).order_by("position")
    return [link.department.name for link in links.select_related("department")]


def test_the_plan_is_the_city_of_xianyang_covering_2019_to_2020():
    plan = Plan.objects.get(code=CODE)
    assert plan.jurisdiction.name == "咸阳市"
    assert plan.jurisdiction.level == "city"
    assert plan.title == "咸阳市加快推进养老服务体系建设重点任务分工"
    assert (plan.start_year, plan.end_year) == (2019, 2020)
    assert plan.document_number == ""
    assert plan.source_document == "004_a0d7d2555f135a42.txt"


def test_the_ten_chapter_rows_are_sections_in_document_order():
    sections = Section.objects.filter(plan__code=CODE).order_by("position")
    assert [s.path for s in sections] == [f"{n}、" for n in "一二三四五六七八九十"]
    assert sections[0].title == "健全完善社会保障政策体系"
    assert sections[9].title == "强化保障机制"


def test_there_are_33_numbered_tasks_and_24_sub_items():
    top = Task.objects.filter(plan__code=CODE, parent=None).order_by("position")
    assert [t.clause for t in top] == [str(n) for n in range(1, 34)]
    assert Task.objects.filter(plan__code=CODE).count() == 33 + 24
    with_subtasks = {t.clause: t.subtasks.count() for t in top if t.subtasks.exists()}
    assert with_subtasks == {
        "1": 3,
        "2": 2,
        "3": 3,
        "5": 3,
        "6": 3,
        "7": 2,
        "8": 2,
        "10": 2,
        "11": 2,
        "15": 2,
    }


def test_sub_items_are_numbered_like_the_table_and_sit_in_their_parents_chapter():
    sub = task("6.1")
    assert sub.parent == task("6")
    assert sub.number == "(1)"
    assert sub.section.path == "二、"
    assert task("15.2").section.path == "五、"
    assert task("18").section.path == "六、"


def test_a_one_row_task_carries_its_row_text_departments_and_schedule():
    t = task("4")
    assert t.title == "推进养老公益慈善事业发展"
    assert t.text.startswith("开展募捐捐赠、志愿服务")
    assert names("4", "lead") == ["市民政局"]
    assert names("4", "support") == ["市财政局", "各县市区人民政府"]
    assert t.schedule.endswith("(持续实施)")


@pytest.mark.parametrize(
    ("clause", "lead", "support"),
    [
        ("1.1", ["市民政局"], ["市财政局", "市残联", "各县市区人民政府"]),
        ("1.3", ["市民政局"], ["市医疗保障局", "市财政局", "市扶贫开发局", "各县市区人民政府"]),
        (
            "2.1",
            ["市卫生健康委员会"],
            ["市民政局", "市财政局", "市医疗保障局", "各县市区人民政府"],
        ),
        ("2.2", ["市卫生健康委员会"], ["市大数据管理局", "市财政局", "各县市区人民政府"]),
        ("3.1", ["市人社局"], ["市财政局", "各县市区人民政府"]),
        (
            "3.3",
            ["咸阳银保监分局"],
            ["市保险行业协会", "市卫生健康委员会", "市民政局", "市财政局", "各县市区人民政府"],
        ),
        ("5.2", ["市民政局", "市发展改革委"], ["市财政局", "各县市区人民政府"]),
        (
            "6.1",
            ["各县市区人民政府"],
            ["市民政局", "市自然资源局", "市卫生健康委员会", "市住房和城乡建设局"],
        ),
        ("6.2", ["市民政局", "市市场监督管理局"], ["各县市区人民政府"]),
        (
            "7.1",
            ["市自然资源局", "市城市管理执法局"],
            ["市住房和城乡建设局", "市民政局", "各县市区人民政府"],
        ),
        (
            "10.1",
            ["市卫生健康委员会", "市财政局"],
            ["市医疗保障局", "市民政局", "各县市区人民政府"],
        ),
        (
            "15.1",
            ["市发展改革委"],
            [
                "市人社局",
                "市工业和信息化局",
                "市民政局",
                "市卫生健康委员会",
                "市医疗保障局",
                "咸阳银保监分局",
                "各县市区人民政府",
            ],
        ),
        (
            "15.2",
            ["市工业和信息化局"],
            [
                "市发展改革委",
                "市人社局",
                "市民政局",
                "市卫生健康委员会",
                "市医疗保障局",
                "咸阳银保监分局",
                "各县市区人民政府",
            ],
        ),
        (
            "17",
            ["市自然资源局", "市住房和城乡建设局"],
            ["市民政局", "市农业农村局", "市发展改革委", "市残联", "各县市区人民政府"],
        ),
        ("24", ["市民政局", "市卫生健康委员会"], ["各县市区人民政府"]),
    ],
)
def test_lead_and_supporting_departments_follow_the_table(clause, lead, support):
    assert names(clause, "lead") == lead
    assert names(clause, "support") == support


def test_multi_row_tasks_have_their_departments_on_the_sub_items_only():
    assert not TaskDepartment.objects.filter(task=task("1")).exists()
    assert task("1").schedule == ""


def test_spellings_of_one_body_merge_into_one_clean_department():
    departments = Department.objects.filter(jurisdiction__name="咸阳市")
    assert departments.count() == 26
    assert all(d.name == squeeze(d.name) for d in departments)
    assert not departments.filter(name__in=["市发改委", "咸阳银保保监分局"]).exists()
    merged = {
        "市卫生健康 委员会": "市卫生健康委员会",
        "市医疗 保障局": "市医疗保障局",
        "市发改委": "市发展改革委",
        "咸阳银保保监分局": "咸阳银保监分局",
        "咸阳银保监 分局": "咸阳银保监分局",
        "市市场监督 管理局": "市市场监督管理局",
        "市住房和城乡建 设局": "市住房和城乡建设局",
    }
    for cited, canonical in merged.items():
        alias = DepartmentAlias.objects.get(jurisdiction__name="咸阳市", name=cited)
        assert alias.department.name == canonical


@pytest.mark.parametrize(
    ("clause", "role", "cited", "canonical"),
    [
        ("2.1", "lead", "市卫生健康 委员会", "市卫生健康委员会"),
        ("3.2", "lead", "市医疗 保障局", "市医疗保障局"),
        ("5.2", "lead", "市发改委", "市发展改革委"),
        ("15.1", "support", "咸阳银保保监分局", "咸阳银保监分局"),
        ("17", "lead", "市住房和城乡建 设局", "市住房和城乡建设局"),
    ],
)
def test_a_link_keeps_the_cited_spelling_while_the_department_is_clean(
    clause, role, cited, canonical
):
    link = TaskDepartment.objects.get(task=task(clause), role=role, cited_as=cited)
    assert link.department.name == canonical


def test_the_health_commission_is_one_record_whichever_way_it_is_spelled():
    spaced = TaskDepartment.objects.get(task=task("2.1"), role="lead").department
    clean = TaskDepartment.objects.get(task=task("3.2"), department__name="市卫生健康委员会")
    assert spaced == clean.department


def test_the_county_governments_are_one_collective_cited_without_fuze():
    collective = Department.objects.get(jurisdiction__name="咸阳市", is_collective=True)
    assert collective.name == "各县市区人民政府"
    # "各县市区人民政府负责" in 2 (2) and 3 (3) is the same collective with 负责 appended
    link = TaskDepartment.objects.get(task=task("2.2"), department=collective)
    assert link.cited_as == "各县市区人民政府"
    assert link.role == "support"
    assert TaskDepartment.objects.filter(department=collective, role="lead").count() == 2


@pytest.mark.parametrize(
    ("clause", "due_text", "description", "due_date"),
    [
        ("1.1", "2019年6月", "完成全市提标老年人摸底工作", dt.date(2019, 6, 30)),
        ("1.1", "2020年", "分类施保资金纳入政府预算,并增发保障金", dt.date(2020, 12, 31)),
        ("1.2", "2019年6月", "出台相关文件,完善全市老年人应急临时救助机制", dt.date(2019, 6, 30)),
        (
            "1.3",
            "2019年6月",
            "采集贫困老年人健康信息,完成电子健康档案录入工作",
            dt.date(2019, 6, 30),
        ),
        ("2.1", "2019年6月", "全面摸底全市失能老年人人数以及护理现状", dt.date(2019, 6, 30)),
        ("2.1", "2019年底", "结合摸底调研情况出台具体实施办法", dt.date(2019, 12, 31)),
        ("2.2", "2019年6月", "建成老龄工作管理信息平台", dt.date(2019, 6, 30)),
        ("3.1", "2019年6月", "按照全省统一安排,提高退休人员基本养老金标准", dt.date(2019, 6, 30)),
        ("3.3", "2019年6月", "建立老年人商业保险制度", dt.date(2019, 6, 30)),
        ("7.1", "到2020年", "农村互助幸福院覆盖80%的农村社区", dt.date(2020, 12, 31)),
        ("11.1", "到十三五末", "二级医院老年病科建立达到35%", dt.date(2020, 12, 31)),
        ("20", "“十三五”期间", "每个县(区、市)建成一所老年大学", dt.date(2020, 12, 31)),
        ("33", "到2020年", "全面建立全市统一的养老服务质量标准和评价体系", dt.date(2020, 12, 31)),
    ],
)
def test_deliverables_fall_due_on_the_last_day_the_text_allows(
    clause, due_text, description, due_date
):
    deliverable = Deliverable.objects.get(task=task(clause), description=description)
    assert deliverable.due_text == due_text
    assert deliverable.due_date == due_date
    schedule = squeeze(task(clause).schedule)
    assert squeeze(due_text) in schedule
    assert squeeze(description) in schedule


def test_every_dated_schedule_has_its_deliverables_and_no_other_task_has_any():
    with_deliverables = sorted(
        Task.objects.filter(plan__code=CODE, deliverables__isnull=False)
        .distinct()
        .values_list("clause", flat=True)
    )
    assert with_deliverables == sorted(
        [
            "1.1",
            "1.2",
            "1.3",
            "2.1",
            "2.2",
            "3.1",
            "3.3",
            "6.1",
            "7.1",
            "11.1",
            "11.2",
            "20",
            "24",
            "33",
        ]
    )
    assert Deliverable.objects.filter(task__plan__code=CODE).count() == 17


def test_only_the_two_welfare_rows_of_task_2_are_not_ongoing():
    rows = Task.objects.filter(plan__code=CODE).exclude(schedule="")
    assert rows.count() == 47
    assert sorted(rows.filter(is_ongoing=False).values_list("clause", flat=True)) == [
        "2.1",
        "2.2",
    ]
    assert task("33").is_ongoing  # "…评价体系。持续实施" without brackets
    assert task("3.2").schedule == "持续实施"
    assert not task("1").is_ongoing  # a heading row has no schedule of its own


def test_there_are_21_indicators_with_18_milestones():
    indicators = Indicator.objects.filter(plan__code=CODE)
    assert indicators.count() == 21
    kinds = {k: indicators.filter(kind=k).count() for k in ("flow", "level", "deliverable")}
    assert kinds == {"flow": 0, "level": 11, "deliverable": 10}
    assert Milestone.objects.filter(indicator__plan__code=CODE).count() == 18


def test_government_run_beds_are_capped_at_half_of_all_beds_by_2020():
    beds = Indicator.objects.get(plan__code=CODE, code="government-run-beds-share")
    assert beds.direction == Indicator.Direction.AT_MOST
    assert beds.kind == Indicator.Kind.LEVEL
    assert beds.unit == "%"
    assert beds.final_target == Decimal(50)
    assert beds.target_year == 2020
    assert beds.is_ongoing
    assert beds.source_text == "到2020年政府运营的养老床位数占当地养老床位总数的比例应不超过50%"
    assert list(beds.milestones.values_list("year", "value")) == [(2020, Decimal(50))]
    assert list(beds.tasks.values_list("clause", flat=True)) == ["6.1"]
    assert [d.name for d in beds.departments.all()] == ["各县市区人民政府"]


def test_upper_bound_is_the_only_at_most_indicator():
    at_most = Indicator.objects.filter(plan__code=CODE, direction="at_most")
    assert list(at_most.values_list("code", flat=True)) == ["government-run-beds-share"]


@pytest.mark.parametrize(
    ("code", "target", "clause"),
    [
        ("urban-community-facility-coverage", 100, "7.1"),
        ("rural-mutual-aid-home-coverage", 80, "7.1"),
        ("geriatrics-department-rate", 35, "11.1"),
        ("elderly-health-management-rate", 70, "11.2"),
        ("county-elderly-university-coverage", 100, "20"),
        ("elderly-volunteer-share", 12, "24"),
    ],
)
def test_rates_to_reach_by_2020_are_levels(code, target, clause):
    indicator = Indicator.objects.get(plan__code=CODE, code=code)
    assert indicator.kind == "level"
    assert indicator.direction == "at_least"
    assert indicator.unit == "%"
    assert indicator.final_target == Decimal(target)
    assert indicator.target_year == 2020
    assert list(indicator.milestones.values_list("year", "value")) == [(2020, Decimal(target))]
    assert clause in indicator.tasks.values_list("clause", flat=True)


def test_the_relief_band_keeps_its_floor_as_the_target():
    relief = Indicator.objects.get(plan__code=CODE, code="relief-extra-allowance-rate")
    assert relief.source_text == "按照20%—50%比例增发保障金"
    assert relief.final_target == Decimal(20)
    assert "20%—50%" in relief.milestones.get().note


def test_standing_rules_without_a_year_are_ongoing_levels_without_milestones():
    for code in (
        "lottery-fund-share-for-elderly-care",
        "community-facility-land-per-capita",
        "mutual-aid-home-public-posts",
    ):
        indicator = Indicator.objects.get(plan__code=CODE, code=code)
        assert indicator.is_ongoing
        assert indicator.target_year is None
        assert not indicator.milestones.exists()
    lottery = Indicator.objects.get(plan__code=CODE, code="lottery-fund-share-for-elderly-care")
    assert lottery.final_target == Decimal(50)


def test_the_info_platform_is_a_deliverable_due_in_june_2019():
    platform = Indicator.objects.get(plan__code=CODE, code="ageing-work-info-platform")
    assert platform.kind == "deliverable"
    assert platform.final_target == 1
    milestone = platform.milestones.get()
    assert (milestone.year, milestone.value) == (2019, 1)
    assert milestone.due_date == dt.date(2019, 6, 30)
    assert list(platform.tasks.values_list("clause", flat=True)) == ["2.2"]
    link = IndicatorDepartment.objects.get(indicator=platform)
    assert (link.department.name, link.cited_as) == ("市卫生健康委员会", "市卫生健康 委员会")


def test_every_deliverable_indicator_is_done_once_by_a_dated_milestone():
    deliverables = Indicator.objects.filter(plan__code=CODE, kind="deliverable")
    for indicator in deliverables:
        assert indicator.final_target == 1
        milestone = indicator.milestones.get()
        assert milestone.value == 1
        assert milestone.year == indicator.target_year
    june = Milestone.objects.filter(indicator__in=deliverables, due_date=dt.date(2019, 6, 30))
    assert june.count() == 7
    assert deliverables.get(milestones__due_date=dt.date(2019, 12, 31)).code == (
        "care-subsidy-measures"
    )


def test_the_body_restates_the_quality_standard_target_without_conflict():
    quality = Indicator.objects.with_conflict_flag().get(
        plan__code=CODE, code="care-quality-standard-system"
    )
    assert not quality.has_conflict
    alternative = AlternativeMilestone.objects.get(indicator=quality)
    assert (alternative.year, alternative.value, alternative.source_clause) == (2020, 1, "正文")


def test_every_indicator_drives_a_task_and_percentages_stay_within_0_to_100():
    for indicator in Indicator.objects.filter(plan__code=CODE):
        assert indicator.tasks.exists(), indicator.code
        assert indicator.links.exists(), indicator.code
        if indicator.unit == "%":
            assert 0 <= indicator.final_target <= 100
            for milestone in indicator.milestones.all():
                assert 0 <= milestone.value <= 100


def test_every_quoted_string_appears_in_the_seed():
    seed = squeeze(SEED.read_text(encoding="utf-8"))
    quoted: list[str] = []
    for t in Task.objects.filter(plan__code=CODE):
        quoted += [t.title, t.text, t.schedule]
        quoted += [link.cited_as for link in t.links.all()]
        for d in t.deliverables.all():
            quoted += [d.description, d.due_text]
    for i in Indicator.objects.filter(plan__code=CODE):
        quoted.append(i.source_text)
        quoted += [link.cited_as for link in i.links.all()]
        quoted += [m.source_text for m in i.milestones.all()]
        quoted += [m.source_text for m in i.alternative_milestones.all()]
    quoted += Department.objects.filter(jurisdiction__name="咸阳市").values_list("name", flat=True)
    quoted += DepartmentAlias.objects.filter(jurisdiction__name="咸阳市").values_list(
        "name", flat=True
    )
    missing = [q for q in quoted if q and squeeze(q) not in seed]
    assert missing == []
    assert "|" not in "".join(quoted)
