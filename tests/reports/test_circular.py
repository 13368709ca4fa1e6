"""The circular (通报) for a period: who reported on time, late or not at all, and the items
behind schedule (reports/circular.py, reports/circular_views.py)."""

from __future__ import annotations

import datetime as dt
import io

import openpyxl
import pytest
from django.contrib.auth.models import Group
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from hypothesis import given
from hypothesis import strategies as st

from indicators.models import Indicator
from indicators.progress import Status
from plans.dashboards import plan_progress
from plans.models import Jurisdiction, OfficeScope
from reports.circular import (
    Circular,
    ItemKind,
    Timeliness,
    chinese_date,
    circular_for,
    circular_title,
    circular_workbook,
    days_after,
    is_behind_schedule,
    opening_paragraph,
    timeliness,
)
from reports.models import ReportingPeriod, ReportItem
from reports.rules import BoardState, board_state
from tasks.models import Deliverable
from tests.builders import link_indicator, make_department, make_indicator, make_plan, make_task
from tests.reports.test_board import filled_report, submitted_report

DEADLINE = dt.date(2019, 7, 31)
HOSTILE = "=cmd|' /C calc'!A0"


# -- The rules, without the database ---------------------------------------------------------


@pytest.mark.parametrize(
    ("first_on", "today", "expected"),
    [
        (dt.date(2019, 7, 20), dt.date(2019, 9, 1), Timeliness.ON_TIME),
        (DEADLINE, dt.date(2019, 9, 1), Timeliness.ON_TIME),  # the deadline day is on time
        (dt.date(2019, 8, 1), dt.date(2019, 9, 1), Timeliness.LATE),
        (dt.date(2019, 7, 20), dt.date(2019, 7, 25), Timeliness.ON_TIME),
        (None, dt.date(2019, 7, 25), Timeliness.NOT_DUE),
        (None, DEADLINE, Timeliness.NOT_DUE),  # not missing until the day after
        (None, dt.date(2019, 8, 1), Timeliness.MISSING),
        (None, dt.date(2026, 11, 23), Timeliness.MISSING),
    ],
)
def test_timeliness_is_judged_by_the_first_submission_and_the_deadline(first_on, today, expected):
    assert timeliness(first_on, DEADLINE, today) == expected


@given(
    first_on=st.none() | st.dates(dt.date(2019, 1, 1), dt.date(2021, 12, 31)),
    today=st.dates(dt.date(2019, 1, 1), dt.date(2021, 12, 31)),
)
def test_timeliness_agrees_with_the_submission_board(first_on, today):
    """The circular and the board never disagree on a department: same rule, same dates."""
    if first_on is not None and first_on > today:
        return  # nothing is submitted in the future
    state = board_state("submitted" if first_on else None, first_on, DEADLINE, today)
    expected = {
        BoardState.SUBMITTED_ON_TIME: Timeliness.ON_TIME,
        BoardState.SUBMITTED_LATE: Timeliness.LATE,
        BoardState.OVERDUE: Timeliness.MISSING,
        BoardState.NOT_STARTED: Timeliness.NOT_DUE,
    }[state]
    assert timeliness(first_on, DEADLINE, today) == expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        (dt.date(2019, 7, 1), 0),
        (DEADLINE, 0),
        (dt.date(2019, 8, 1), 1),
        (dt.date(2019, 8, 31), 31),
        (dt.date(2020, 7, 31), 366),
    ],
)
def test_days_after_the_deadline_count_whole_days_and_never_go_negative(day, expected):
    assert days_after(DEADLINE, day) == expected


@pytest.mark.parametrize(
    ("status", "named"),
    [
        (Status.OVERDUE, True),
        (Status.BEHIND, True),
        (Status.AT_RISK, False),
        (Status.ON_TRACK, False),
        (Status.ACHIEVED, False),
        (Status.NO_DATA, False),
    ],
)
def test_only_behind_and_overdue_items_are_named_in_the_circular(status, named):
    assert is_behind_schedule(status) is named


def test_the_title_names_the_plan_and_the_period():
    assert circular_title("柳城县养老服务改革试验区方案", "2019年上半年") == (
        "关于柳城县养老服务改革试验区方案2019年上半年工作进展情况的通报"
    )


def test_dates_are_written_the_way_a_document_writes_them():
    assert chinese_date(dt.date(2019, 7, 1)) == "2019年7月1日"


def _circular(today: dt.date, **kw) -> Circular:
    fields = {
        "plan_code": "p",
        "plan_name": "测试方案",
        "plan_title": "测试县实施方案",
        "document_number": "测政办〔2018〕1号",
        "period_slug": "2019-07",
        "period_label": "2019年上半年",
        "period_end": dt.date(2019, 6, 30),
        "deadline": DEADLINE,
        "today": today,
        "expected": 0,
        "on_time": (),
        "late": (),
        "not_reported": (),
        "behind": (),
    }
    return Circular(**(fields | kw))


def test_the_opening_counts_missing_departments_only_after_the_deadline():
    after = opening_paragraph(_circular(dt.date(2019, 9, 1)))
    before = opening_paragraph(_circular(dt.date(2019, 7, 15)))
    assert "截至2019年9月1日" in after and "逾期报送0个,未报送0个" in after
    assert "尚未报送0个(未到截止日期)" in before and "逾期报送0个,未报送" not in before
    assert "《测试县实施方案》(测政办〔2018〕1号)" in after
    assert "2019年7月31日前" in after


# -- The data --------------------------------------------------------------------------------


@pytest.fixture
def scene(office_user):
    """A plan's half year 2019: one department on time, one late, one missing; a task overdue
    (a deliverable missed) led by the punctual one, an indicator overdue owned by the late one,
    both explained in their reports."""
    plan = make_plan(short_title="测试县养老方案")
    period = ReportingPeriod.objects.get(plan=plan, kind="half", year=2019)
    punctual = make_department(plan.jurisdiction, name="按时局")
    tardy = make_department(plan.jurisdiction, name="逾期局")
    silent = make_department(plan.jurisdiction, name="未报局")
    task = make_task(plan, lead=[punctual], support=[silent], title="建设信息平台")
    Deliverable.objects.create(
        task=task, description="建成平台", due_text="2019年3月", due_date=dt.date(2019, 3, 31)
    )
    make_task(plan, lead=[silent], title="按计划推进的任务")
    indicator = make_indicator(
        plan, kind=Indicator.Kind.DELIVERABLE, unit="个", milestones={2018: "1"}, name="建成中心"
    )
    link_indicator(indicator, tardy)
    submitted_report(period, punctual, office_user, first_on=DEADLINE)
    submitted_report(period, tardy, office_user, first_on=dt.date(2019, 8, 5))
    return {"plan": plan, "period": period, "task": task, "indicator": indicator}


@pytest.mark.django_db
def test_the_circular_sorts_departments_by_how_they_reported(scene):
    circular = circular_for(scene["plan"], scene["period"], today=dt.date(2019, 9, 1))
    assert [r.department for r in circular.on_time] == ["按时局"]
    assert circular.on_time[0].submitted_at.date() == DEADLINE
    assert [(r.department, r.days_late) for r in circular.late] == [("逾期局", 5)]
    assert [(r.department, r.timeliness) for r in circular.not_reported] == [
        ("未报局", Timeliness.MISSING)
    ]
    assert circular.not_reported[0].days_overdue == 32
    assert circular.expected == 3 and circular.reported == 2 and circular.missing == 1


@pytest.mark.django_db
def test_before_the_deadline_a_department_without_a_report_is_not_yet_due(scene):
    circular = circular_for(scene["plan"], scene["period"], today=dt.date(2019, 7, 20))
    assert [(r.department, r.timeliness) for r in circular.not_reported] == [
        ("未报局", Timeliness.NOT_DUE)
    ]
    assert circular.missing == 0
    assert "未到截止日期" in circular.opening


@pytest.mark.django_db
def test_behind_items_carry_their_lead_departments_and_the_reason_given(scene):
    circular = circular_for(scene["plan"], scene["period"], today=dt.date(2019, 9, 1))
    by_name = {item.name: item for item in circular.behind}
    assert set(by_name) == {"建设信息平台", "建成中心"}  # the on-track task is not named
    task = by_name["建设信息平台"]
    assert task.kind == ItemKind.TASK and task.status == Status.OVERDUE
    assert task.departments == ("按时局",)  # the lead only, not the supporting department
    assert [(r.department, r.reason) for r in task.reasons] == [("按时局", "资金到位较晚")]
    assert task.reasons[0].measures == "已协调加快推进"
    indicator = by_name["建成中心"]
    assert indicator.kind == ItemKind.INDICATOR and indicator.departments == ("逾期局",)
    assert [r.department for r in indicator.reasons] == ["逾期局"]


@pytest.mark.django_db
def test_a_reason_in_a_draft_is_not_quoted(office_user):
    plan = make_plan()
    period = ReportingPeriod.objects.get(plan=plan, kind="half", year=2019)
    dept = make_department(plan.jurisdiction)
    task = make_task(plan, lead=[dept])
    Deliverable.objects.create(
        task=task, description="成果", due_text="2019年3月", due_date=dt.date(2019, 3, 31)
    )
    filled_report(period, dept, office_user)  # the draft has a reason, but is not submitted
    (item,) = circular_for(plan, period, today=dt.date(2019, 9, 1)).behind
    assert item.reasons == ()


@pytest.mark.django_db
def test_the_circular_counts_what_the_board_and_the_dashboard_count(office_client, scene):
    plan, period = scene["plan"], scene["period"]
    board = office_client.get(reverse("report-board", args=[plan.code, period.slug]))
    counts = board.context["counts"]
    circular = circular_for(plan, period)
    assert len(circular.on_time) == counts[BoardState.SUBMITTED_ON_TIME]
    assert len(circular.late) == counts[BoardState.SUBMITTED_LATE]
    assert len(circular.not_reported) == counts[BoardState.OVERDUE]
    dashboard = plan_progress(plan, period.period_end).counts
    assert len(circular.behind) == dashboard[Status.BEHIND] + dashboard[Status.OVERDUE] == 2


# -- The page --------------------------------------------------------------------------------


def circular_url(code: str = "liucheng", period: str = "2019-07") -> str:
    return reverse("report-circular", args=[code, period])


def export_url(code: str = "liucheng", period: str = "2019-07") -> str:
    return reverse("report-circular-export", args=[code, period])


@pytest.mark.django_db
def test_the_page_reads_like_a_circular_for_the_office_and_leaders(
    client, office_user, leader_user, scene
):
    plan, period = scene["plan"], scene["period"]
    for user in (office_user, leader_user):
        client.force_login(user)
        response = client.get(circular_url(plan.code, period.slug))
        assert response.status_code == 200
        html = response.content.decode()
        assert "关于测试县养老方案2019年上半年工作进展情况的通报" in html
        for heading in (
            "一、按时报送的单位",
            "二、逾期报送的单位",
            "三、未报送的单位",
            "四、进度滞后的事项",
        ):
            assert heading in html
        assert "按时局" in html and "逾期局" in html and "未报局" in html
        assert "资金到位较晚" in html
        assert export_url(plan.code, period.slug) in html
        assert "circular.css" in html


@pytest.mark.django_db
def test_the_board_links_to_the_circular(office_client):
    html = office_client.get(reverse("report-board", args=["liucheng", "2019-07"])).content
    assert circular_url().encode() in html


@pytest.mark.django_db
def test_before_the_deadline_the_page_does_not_call_anyone_missing(office_client, scene):
    plan, period = scene["plan"], scene["period"]
    ReportingPeriod.objects.filter(pk=period.pk).update(deadline=dt.date(2099, 7, 31))
    html = office_client.get(circular_url(plan.code, period.slug)).content.decode()
    assert "未到截止日期" in html
    assert "尚未到期" in html


@pytest.mark.django_db
@pytest.mark.parametrize("url", [circular_url, export_url])
def test_liaisons_and_outsiders_are_refused_as_on_the_board(
    client, liaison_user, outsider_user, url
):
    assert client.get(url()).status_code == 302  # to the login page
    for user in (liaison_user, outsider_user):
        client.force_login(user)
        assert client.get(url()).status_code == 403


@pytest.mark.django_db
@pytest.mark.parametrize("url", [circular_url, export_url])
@pytest.mark.parametrize("period", ["2019-06", "2019-7", "2099-07", "<script>"])
def test_a_bad_period_is_404(office_client, url, period):
    assert office_client.get(url("liucheng", period)).status_code == 404


@pytest.mark.django_db
def test_an_office_scoped_to_another_county_is_refused(django_user_model):
    user = django_user_model.objects.create_user("panjin-office", password="x-2026-panjin")
    user.groups.add(Group.objects.get(name="office"))
    scope = OfficeScope.objects.create(user=user)
    scope.jurisdictions.add(Jurisdiction.objects.get(name="盘锦市"))
    client = Client()
    client.force_login(user)
    assert client.get(circular_url()).status_code == 403
    assert client.get(export_url()).status_code == 403
    assert client.get(circular_url("panjin", "2019-07")).status_code == 200


def _make_hostile(scene) -> None:
    ReportItem.objects.filter(task=scene["task"]).update(
        delay_reason="<script>alert(1)</script>" + HOSTILE
    )
    scene["plan"].jurisdiction.departments.filter(name="未报局").update(
        name="<img src=x onerror=alert(1)>"
    )


@pytest.mark.django_db
def test_hostile_department_and_reason_text_is_escaped_on_the_page(office_client, scene):
    _make_hostile(scene)
    html = office_client.get(circular_url(scene["plan"].code, "2019-07")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html


# Session, user, groups, office scope, plan, periods; board rows 5; dashboard 7; reasons 2.
MAX_QUERIES = 20


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(plan, period, by, n: int) -> None:
    """n more departments, each leading an overdue task and owning an indicator; every other
    one submits its report."""
    for i in range(n):
        dept = make_department(plan.jurisdiction)
        task = make_task(plan, lead=[dept], support=[make_department(plan.jurisdiction)])
        Deliverable.objects.create(
            task=task, description="成果", due_text="2019年3月", due_date=dt.date(2019, 3, 31)
        )
        link_indicator(make_indicator(plan, milestones={2019: "10"}), dept)
        if i % 2:
            submitted_report(period, dept, by)


@pytest.mark.django_db
@pytest.mark.parametrize("url", [circular_url, export_url])
def test_the_circular_costs_the_same_queries_whatever_the_number_of_departments(
    office_client, office_user, django_assert_max_num_queries, url
):
    plan = make_plan()
    period = ReportingPeriod.objects.get(plan=plan, kind="half", year=2019)
    _grow(plan, period, office_user, 2)
    small = _queries(office_client, url(plan.code, "2019-07"))
    _grow(plan, period, office_user, 20)
    assert _queries(office_client, url(plan.code, "2019-07")) == small
    with django_assert_max_num_queries(MAX_QUERIES):
        office_client.get(url(plan.code, "2019-07"))


# -- The sheet -------------------------------------------------------------------------------


def _sheet(response):
    workbook = openpyxl.load_workbook(io.BytesIO(response.getvalue()))
    assert workbook.sheetnames == ["通报"]
    return workbook["通报"]


def _texts(ws) -> list[str]:
    return [str(cell.value) for row in ws.iter_rows() for cell in row if cell.value is not None]


@pytest.mark.django_db
def test_the_sheet_names_the_right_departments_under_each_section(office_client, scene):
    response = office_client.get(export_url(scene["plan"].code, "2019-07"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]  # liaisons' names: no cached copies
    ws = _sheet(response)
    assert ws["A1"].value == "关于测试县养老方案2019年上半年工作进展情况的通报"
    rows = [[cell.value for cell in row] for row in ws.iter_rows()]
    section = None
    found: dict[str, list[str]] = {}
    for row in rows[3:]:
        first = str(row[0] or "")
        if first[:2] in ("一、", "二、", "三、", "四、"):
            section = first[:2]
        elif isinstance(row[0], int):
            found.setdefault(section, []).append(row[1])
    assert found["一、"] == ["按时局"]
    assert found["二、"] == ["逾期局"]
    assert found["三、"] == ["未报局"]
    assert {name.split("\n")[0] for name in found["四、"]} == {"任务:建设信息平台", "指标:建成中心"}
    late = next(row for row in rows if row[1] == "逾期局")
    assert late[5] == 5 and isinstance(late[4], dt.datetime)  # numbers and dates, not text
    assert any("资金到位较晚" in text for text in _texts(ws))


@pytest.mark.django_db
def test_the_sheet_prints_on_a4_with_repeated_headers_and_page_numbers(office_client, scene):
    ws = _sheet(office_client.get(export_url(scene["plan"].code, "2019-07")))
    assert ws.page_setup.paperSize == 9  # A4
    assert ws.print_title_rows == "$1:$3"
    assert ws.freeze_panes == "A4"
    assert "&P" in ws.oddFooter.center.text
    assert ws["A3"].value == "序号"


@pytest.mark.django_db
def test_hostile_text_in_the_sheet_is_a_string_never_a_formula(office_client, scene):
    _make_hostile(scene)
    ws = _sheet(office_client.get(export_url(scene["plan"].code, "2019-07")))
    cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
    reason = next(c for c in cells if isinstance(c.value, str) and HOSTILE in c.value)
    assert reason.data_type == "s"
    assert not any(c.data_type == "f" for c in cells)
    assert any(c.value == "<img src=x onerror=alert(1)>" for c in cells)


def test_a_reason_that_starts_like_a_formula_is_written_as_text(tmp_path):
    """The builder alone, without the database: the reason is the whole cell."""
    from reports.circular import BehindItem, DelayReason

    reason = DelayReason(department=HOSTILE, reason=HOSTILE, measures="", new_expected_date=None)
    item = BehindItem(
        kind=ItemKind.TASK,
        clause="一、",
        name=HOSTILE,
        status=Status.BEHIND,
        departments=(HOSTILE,),
        reasons=(reason,),
        url="/",
    )
    path = tmp_path / "c.xlsx"
    circular_workbook(_circular(dt.date(2019, 9, 1), behind=(item,))).save(path)
    ws = openpyxl.load_workbook(path)["通报"]
    cells = [cell for row in ws.iter_rows() for cell in row if cell.value is not None]
    departments = next(c for c in cells if c.value == HOSTILE)
    assert departments.data_type == "s"
    assert not any(c.data_type == "f" for c in cells)
