"""The July and December workbooks from the database: data, downloads and the command."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from decimal import Decimal
from urllib.parse import quote

import openpyxl
import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Indicator, Measurement
from plans.dashboards import plan_progress
from plans.models import Liaison, Plan
from reports import services
from reports.excel import HEADER_ROWS, INDICATOR_SHEET, SUBMISSION_SHEET, TASK_SHEET
from reports.export import (
    department_workbook,
    export_filename,
    find_period,
    plan_workbook,
    timeliness,
    workbook_title,
)
from reports.models import Report, ReportItem
from reports.rules import BoardState
from tasks.models import Task
from tasks.table import task_table_row
from tests.builders import link_indicator, make_department, make_indicator, make_plan, make_task
from tests.reports.test_board import filled_report, liucheng, period_of, submitted_report

pytestmark = pytest.mark.django_db

LIUCHENG_TITLE = "柳城县养老服务业综合改革试验区实施方案(2018-2020年)2019年上半年工作情况"


def export_url(code: str = "liucheng", period: str = "2019-07") -> str:
    return reverse("report-export", args=[code, period])


def workbook_of(response):
    assert response.status_code == 200
    return openpyxl.load_workbook(io.BytesIO(response.getvalue()))


def data_rows(ws) -> list[tuple]:
    return list(ws.iter_rows(min_row=HEADER_ROWS + 1, values_only=True))


def measure(code: str, on: str, value: str) -> None:
    indicator = Indicator.objects.get(plan__code="liucheng", code=code)
    Measurement.objects.create(indicator=indicator, period_end=on, value=Decimal(value))


@pytest.fixture
def liucheng_values():
    """Liucheng's July 2019: a flow behind, a level, a deliverable done, a conflicting flow."""
    measure("new-beds", "2018-12-31", "300")
    measure("new-beds", "2019-06-30", "480")
    measure("health-management-rate", "2019-06-30", "45.5")
    measure("smart-care-centre", "2019-06-30", "1")
    measure("wubao-village-conversion", "2019-06-30", "30")
    measure("care-worker-training", "2019-12-31", "200")  # after the period: not shown


@pytest.fixture
def liucheng_reports(office_user, liaison_user):
    period = period_of()
    on_time = submitted_report(
        period, liucheng("县民政局"), liaison_user, first_on=dt.date(2019, 7, 30)
    )
    late = submitted_report(
        period, liucheng("县卫生计生局"), office_user, first_on=dt.date(2019, 8, 2)
    )
    draft = filled_report(period, liucheng("县财政局"), office_user)
    return {"period": period, "on_time": on_time, "late": late, "draft": draft}


# -- Pure rules ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("state", "first", "expected"),
    [
        (BoardState.SUBMITTED_ON_TIME, dt.date(2019, 7, 31), "on_time"),
        (BoardState.SUBMITTED_LATE, dt.date(2019, 8, 1), "late"),
        (BoardState.ACCEPTED, dt.date(2019, 7, 1), "on_time"),
        (BoardState.RETURNED, dt.date(2019, 8, 9), "late"),
        (BoardState.OVERDUE, None, "missing"),
        (BoardState.DRAFT, None, "pending"),
        (BoardState.NOT_STARTED, None, "pending"),
    ],
)
def test_timeliness_judges_the_first_submission_against_the_deadline(state, first, expected):
    assert timeliness(state, first, dt.date(2019, 7, 31)) == expected


def test_the_title_names_the_plan_and_the_period():
    plan = Plan.objects.get(code="liucheng")
    assert workbook_title(plan, dt.date(2019, 6, 30)) == LIUCHENG_TITLE
    assert workbook_title(plan, dt.date(2019, 12, 31)).endswith("2019年全年工作情况")
    assert workbook_title(plan, dt.date(2019, 6, 30), "县民政局").endswith("(县民政局)")


@pytest.mark.parametrize(
    ("slug", "found"),
    [
        ("2019-07", True),
        ("2019-12", True),
        ("2019-06", False),
        ("2017-07", False),
        ("２019-07", False),
        ("2019-7", False),
        ("", False),
        ("x" * 500, False),
    ],
)
def test_find_period_knows_only_the_plans_july_and_december_reports(slug, found):
    plan = Plan.objects.get(code="liucheng")
    period = find_period(plan, slug)
    assert (period is not None) == found
    if found:
        assert period.slug == slug


# -- The plan's workbook ---------------------------------------------------------------------


def test_indicator_values_match_the_dashboard_for_liucheng_july_2019(
    office_client, liucheng_values
):
    dashboard = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-06-30"}
    )
    shown = dashboard.context["progress"].indicators
    ws = workbook_of(office_client.get(export_url()))[INDICATOR_SHEET]
    rows = data_rows(ws)
    assert len(rows) == len(shown) == Indicator.objects.filter(plan__code="liucheng").count()

    def number(value):
        return None if value is None else pytest.approx(float(value))

    for row, expected in zip(rows, shown, strict=True):
        a = expected.assessment
        assert row[1] == expected.indicator.name
        assert row[9] == expected.status.label
        if expected.indicator.kind != Indicator.Kind.DELIVERABLE:
            assert row[3] == number(a.year_milestone), row[1]
            assert row[5] == number(a.actual), row[1]
            assert row[7] == number(a.share_of_milestone), row[1]
            assert row[8] == number(a.share_of_final), row[1]
    beds = next(r for r in rows if r[1] == "新增养老床位")
    assert beds[3:9] == (700, 1200, 480, dt.datetime(2019, 6, 30), pytest.approx(480 / 700), 0.4)
    rate = next(r for r in rows if r[1] == "65岁以上老年人健康管理率")
    assert rate[2] == "%" and rate[5] == 45.5
    centre = next(r for r in rows if r[1] == "建成智慧养老服务管理中心")
    assert centre[4:6] == ("完成", "已完成")
    wubao = next(r for r in rows if r[1] == "五保村拓展为农村幸福院")
    assert wubao[12]  # the body and annex 1 disagree: the conflict is in the workbook


def test_indicator_values_match_plan_progress_for_every_plan_and_a_full_year():
    for plan in Plan.objects.all():
        period = plan.periods.order_by("period_end").last()
        period.plan = plan
        lines = plan_workbook(period).indicators
        expected = plan_progress(plan, period.period_end).indicators
        assert [line.name for line in lines] == [row.indicator.name for row in expected]
        assert [line.status for line in lines] == [row.status.value for row in expected]


def test_task_sheet_lists_every_task_and_sub_item_in_document_order():
    plan = Plan.objects.get(code="xianyang")
    period = find_period(plan, "2019-12")
    tasks = list(Task.objects.filter(plan=plan).with_departments().order_by("position"))
    assert any(t.parent_id for t in tasks) and any(not t.parent_id for t in tasks)
    lines = plan_workbook(period).tasks
    assert [line.table for line in lines] == [task_table_row(t) for t in tasks]
    parents = {t.parent_id for t in tasks}
    for line, task in zip(lines, tasks, strict=True):
        # A parent's status is its sub-items'; the sub-items carry the dashboard's status.
        assert (line.status == "") == (task.pk in parents)


def test_task_progress_shows_lead_and_supporting_departments_each_under_its_name(
    office_client, liucheng_reports
):
    ws = workbook_of(office_client.get(export_url()))[TASK_SHEET]
    rows = {row[0]: row for row in data_rows(ws)}
    item = (
        ReportItem.objects.filter(
            report=liucheng_reports["on_time"],
            role="lead",
            task__links__role="support",
            task__links__department__name="县卫生计生局",
        )
        .select_related("task")
        .first()
    )
    row = rows[item.task.clause]
    assert f"【县民政局】县民政局:{item.task.clause} 已按方案推进" in row[5]
    assert f"【县卫生计生局】县卫生计生局:{item.task.clause}" in row[5]
    assert row[5].index("【县民政局】") < row[5].index("【县卫生计生局】")  # lead first
    assert "滞后原因:资金到位较晚" in row[6]
    assert "采取措施:已协调加快推进" in row[7] and "预计完成日期:2020-12-31" in row[7]
    # A draft is the department's own business until it is submitted.
    assert not any("【县财政局】" in (r[5] or "") for r in rows.values())


def test_submission_sheet_tells_on_time_late_and_missing(office_client, liucheng_reports):
    ws = workbook_of(office_client.get(export_url()))[SUBMISSION_SHEET]
    rows = {row[0]: row for row in data_rows(ws)}
    assert rows["县民政局"][3:] == (
        "按时报送",
        dt.datetime(2019, 7, 30, 10, 0),
        dt.datetime(2019, 7, 30, 10, 0),
        "按时",
    )
    assert rows["县卫生计生局"][6] == "逾期"
    assert rows["县财政局"][6] == "逾期未报"  # a draft after the deadline
    assert rows["县民政局"][1]  # the liaison's name
    assert set(rows) >= {"县民政局", "县卫生计生局", "县财政局"}


def test_every_sheet_has_the_title_and_the_date_made(office_client):
    workbook = workbook_of(office_client.get(export_url()))
    for ws in workbook.worksheets:
        assert ws["A1"].value == LIUCHENG_TITLE
        assert ws["A2"].value.startswith("制表日期:")


def test_typed_formulas_stay_text_in_the_download(office_client, liaison_user):
    period = period_of()
    report = filled_report(period, liucheng("县民政局"), liaison_user)
    hostile = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x"]
    items = list(report.items.order_by("pk")[: len(hostile)])
    for item, text in zip(items, hostile, strict=True):
        ReportItem.objects.filter(pk=item.pk).update(progress=text, problems=text, next_steps=text)
    services.report_submit(report=report, by=liaison_user, version=report.version)
    response = office_client.get(export_url())
    content = response.getvalue()  # a streamed body reads once
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        xml = "".join(
            archive.read(n).decode() for n in archive.namelist() if "worksheets/sheet" in n
        )
    assert "<f>" not in xml
    ws = openpyxl.load_workbook(io.BytesIO(content))[TASK_SHEET]
    cells = {c for row in data_rows(ws) for c in row[5:8]}
    assert {f"【县民政局】{text.strip()}" for text in hostile} <= cells


def test_control_characters_and_huge_text_do_not_break_the_download(office_client, liaison_user):
    period = period_of()
    report = filled_report(period, liucheng("县民政局"), liaison_user)
    item = report.items.order_by("pk").first()
    huge = "进展" * 20000  # 40,000 characters: more than a cell holds
    ReportItem.objects.filter(pk=item.pk).update(progress=huge, problems="粘贴\x0b自Word\x07")
    services.report_submit(report=report, by=liaison_user, version=report.version)
    ws = workbook_of(office_client.get(export_url()))[TASK_SHEET]
    rows = data_rows(ws)
    start = next(i for i, r in enumerate(rows) if r[0] == item.task.clause)
    assert rows[start][5].endswith("(未完,接下行)")
    assert rows[start + 1][5].startswith("(接上行)") and rows[start + 1][0] is None
    assert rows[start][6].startswith("【县民政局】粘贴\n自Word\n")


# -- One department's copy -------------------------------------------------------------------


def test_department_workbook_holds_only_its_own_items(liucheng_reports):
    report = liucheng_reports["on_time"]
    data = department_workbook(report)
    own = set(report.items.values_list("task__clause", flat=True))
    assert {line.table.number for line in data.tasks} == own
    assert all("县卫生计生局" not in line.progress for line in data.tasks)
    assert all(line.progress.startswith("县民政局:") for line in data.tasks)
    indicators = set(report.values.values_list("indicator__name", flat=True))
    assert {line.name for line in data.indicators} == indicators
    assert [line.department for line in data.submissions] == ["县民政局"]
    assert data.title.endswith("(县民政局)")


def test_the_liaison_downloads_the_departments_workbook(client, liaison_user, liucheng_reports):
    client.force_login(liaison_user)
    report = liucheng_reports["on_time"]
    response = client.get(reverse("report-export-department", args=[report.pk]))
    workbook = workbook_of(response)
    assert workbook[SUBMISSION_SHEET].cell(HEADER_ROWS + 1, 1).value == "县民政局"
    assert quote("县民政局") in response["Content-Disposition"]


def test_another_departments_workbook_is_404_for_a_liaison(client, liucheng_reports):
    client.force_login(get_user_model().objects.get(username="liaison2"))
    report = liucheng_reports["on_time"]
    assert client.get(reverse("report-export-department", args=[report.pk])).status_code == 404


# -- Downloads -------------------------------------------------------------------------------


def test_download_is_an_xlsx_attachment_with_a_chinese_file_name(office_client):
    response = office_client.get(export_url())
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment;")
    plan = Plan.objects.get(code="liucheng")
    name = export_filename(plan, find_period(plan, "2019-07"))
    assert name.endswith("-2019年上半年.xlsx")
    assert f"filename*=utf-8''{quote(name)}" in disposition
    assert "no-store" in response["Cache-Control"]


def test_leaders_download_too_and_liaisons_do_not(client, leader_user, liaison_user):
    client.force_login(leader_user)
    assert client.get(export_url()).status_code == 200
    client.force_login(liaison_user)
    assert client.get(export_url()).status_code == 403


@pytest.mark.parametrize(
    ("code", "period"),
    [("nowhere", "2019-07"), ("liucheng", "2019-08"), ("liucheng", "2030-07"), ("liucheng", "abc")],
)
def test_unknown_plan_or_period_is_a_404_page(office_client, code, period):
    response = office_client.get(export_url(code, period))
    assert response.status_code == 404
    assert b"<html" in response.content.lower() or response.templates


def test_download_buttons_on_the_dashboard_the_board_and_the_report(
    office_client, client, liaison_user, liucheng_reports
):
    dashboard = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-06-30"}
    )
    assert f'href="{export_url()}"' in dashboard.content.decode()
    board = office_client.get(reverse("report-board", args=["liucheng", "2019-07"]))
    assert f'href="{export_url()}"' in board.content.decode()
    report = liucheng_reports["on_time"]
    client.force_login(liaison_user)
    page = client.get(reverse("report-detail", args=[report.pk])).content.decode()
    assert f'href="{reverse("report-export-department", args=[report.pk])}"' in page
    assert "下载Excel报表" in page
    own_dashboard = client.get(reverse("plan-detail", args=["liucheng"])).content.decode()
    assert "export.xlsx" not in own_dashboard  # a liaison may not download the plan's


# -- Queries ---------------------------------------------------------------------------------


def _grow(plan, period, by, n: int) -> None:
    """n departments, each leading a task with a sub-item, supporting another, owning an
    indicator with values, with a liaison and a submitted report."""
    for i in range(n):
        dept, other = make_department(plan.jurisdiction), make_department(plan.jurisdiction)
        parent = make_task(plan, lead=[dept])
        make_task(plan, lead=[dept], support=[other], parent=parent)
        make_task(plan, lead=[other], support=[dept])
        indicator = make_indicator(plan, milestones={2019: "10"})
        link_indicator(indicator, dept)
        Measurement.objects.create(indicator=indicator, period_end="2019-06-30", value=i)
        user = get_user_model().objects.create_user(f"x-{dept.pk}", first_name=f"联络员{i}")
        Liaison.objects.create(user=user, department=dept, phone="123")
        submitted_report(period, dept, by)


def test_export_costs_the_same_queries_whatever_the_size_of_the_plan(
    office_client, office_user, django_assert_max_num_queries
):
    plan = make_plan()
    period = find_period(plan, "2019-07")
    _grow(plan, period, office_user, 2)
    url = export_url(plan.code)
    with CaptureQueriesContext(connection) as small:
        assert office_client.get(url).status_code == 200
    _grow(plan, period, office_user, 12)
    with django_assert_max_num_queries(len(small.captured_queries)):
        workbook = workbook_of(office_client.get(url))
    assert len(data_rows(workbook[TASK_SHEET])) == 14 * 3
    # The session and the office's scope (4), the plan and its periods (2), the dashboard's
    # assessment (7), the tasks with sub-items (2), the report items (1), the board's rows (5).
    with django_assert_max_num_queries(21):
        office_client.get(url)


def test_department_export_costs_the_same_queries_whatever_the_size(
    office_client, office_user, django_assert_max_num_queries
):
    plan = make_plan()
    period = find_period(plan, "2019-07")
    _grow(plan, period, office_user, 1)
    report = Report.objects.filter(period=period).first()
    url = reverse("report-export-department", args=[report.pk])
    with CaptureQueriesContext(connection) as small:
        assert office_client.get(url).status_code == 200
    _grow(plan, period, office_user, 10)
    with django_assert_max_num_queries(len(small.captured_queries)):
        assert office_client.get(url).status_code == 200


# -- The command -----------------------------------------------------------------------------


def test_command_writes_the_plans_workbook(tmp_path, liucheng_values):
    out = io.StringIO()
    target = tmp_path / "report.xlsx"
    call_command("export_report", "liucheng", "2019-07", "-o", str(target), stdout=out)
    workbook = openpyxl.load_workbook(target)
    assert workbook.sheetnames == [INDICATOR_SHEET, TASK_SHEET, SUBMISSION_SHEET]
    assert workbook[INDICATOR_SHEET]["A1"].value == LIUCHENG_TITLE
    assert "22 indicators" in out.getvalue()


def test_command_picks_december_and_a_default_file_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    call_command("export_report", "liucheng", "2019-12", stdout=io.StringIO())
    [written] = tmp_path.iterdir()
    assert written.name.endswith("-2019年全年.xlsx")
    title = openpyxl.load_workbook(written)[TASK_SHEET]["A1"].value
    assert title.endswith("2019年全年工作情况")


def test_command_exports_one_department(tmp_path, liucheng_reports):
    target = tmp_path / "dept.xlsx"
    call_command(
        "export_report",
        "liucheng",
        "2019-07",
        "--department",
        "县民政局",
        "-o",
        str(target),
        stdout=io.StringIO(),
    )
    ws = openpyxl.load_workbook(target)[SUBMISSION_SHEET]
    assert [row[0] for row in data_rows(ws)] == ["县民政局"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["nowhere", "2019-07"], "Unknown plan 'nowhere'"),
        (["liucheng", "2019-08"], "Unknown period '2019-08'"),
        (["liucheng", "2030-12"], "Unknown period '2030-12'"),
        (["liucheng", "July"], "Unknown period 'July'"),
        (["liucheng", "2019-07", "--department", "不存在的局"], "Unknown department '不存在的局'"),
        (["liucheng", "2019-07", "--department", "县民政局"], "has no report"),
    ],
)
def test_command_explains_what_is_wrong(tmp_path, args, message):
    with pytest.raises(CommandError, match=message):
        call_command("export_report", *args, "-o", str(tmp_path / "x.xlsx"))
    assert not (tmp_path / "x.xlsx").exists()


def test_command_reports_an_unwritable_path(tmp_path):
    with pytest.raises(CommandError, match="Cannot write"):
        call_command("export_report", "liucheng", "2019-07", "-o", str(tmp_path / "no" / "x.xlsx"))
