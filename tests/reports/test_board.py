"""The submission board, the by-task comparison and the reporting periods (reports/board.py)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from plans.models import Department, Liaison
from reports import services
from reports.board import board_rows, state_counts
from reports.models import Report, ReportingPeriod
from reports.rules import BoardState
from tasks.models import TaskDepartment
from tasks.progress import TaskState
from tests.builders import link_indicator, make_department, make_indicator, make_plan, make_task

pytestmark = pytest.mark.django_db

SHANGHAI = dt.timezone(dt.timedelta(hours=8))


# -- Helpers shared with test_review.py ------------------------------------------------------


def period_of(code: str = "liucheng", year: int = 2019, kind: str = "half") -> ReportingPeriod:
    return ReportingPeriod.objects.select_related("plan").get(plan__code=code, kind=kind, year=year)


def liucheng(name: str) -> Department:
    return Department.objects.get(jurisdiction__name="柳城县", name=name)


def filled_report(
    period: ReportingPeriod, department: Department, by, values: dict[str, str] | None = None
) -> Report:
    """Open the department's report and save a draft that passes every check of submission:
    progress on every item, a state on lead items, a value on every value row (1 unless
    `values` gives one by indicator code), and a delay reason, measures and a new date on all
    of them, so it passes whatever the engine says about being behind."""
    values = values or {}
    report = services.report_open(period=period, department=department, by=by)
    reason = {
        "delay_reason": "资金到位较晚",
        "measures": "已协调加快推进",
        "new_expected_date": dt.date(2020, 12, 31),
    }
    items = {
        item.pk: {
            "progress": f"{department.name}:{item.task.clause} 已按方案推进",
            "state": TaskState.IN_PROGRESS if item.role == TaskDepartment.Role.LEAD else "",
            **reason,
        }
        for item in report.items.select_related("task")
    }
    rows = {
        value.pk: {"value": Decimal(values.get(value.indicator.code, "1")), **reason}
        for value in report.values.select_related("indicator")
    }
    return services.report_save_draft(
        report=report, by=by, version=report.version, items=items, values=rows
    )


def submitted_report(
    period: ReportingPeriod,
    department: Department,
    by,
    *,
    first_on: dt.date | None = None,
    values: dict[str, str] | None = None,
) -> Report:
    """A complete report, submitted; `first_on` sets the date it first came in."""
    report = filled_report(period, department, by, values)
    report = services.report_submit(report=report, by=by, version=report.version)
    if first_on is not None:
        at = dt.datetime.combine(first_on, dt.time(10), tzinfo=SHANGHAI)
        Report.objects.filter(pk=report.pk).update(first_submitted_at=at, submitted_at=at)
        report.refresh_from_db()
    return report


def board_url(code: str = "liucheng", period: str = "2019-07", **query) -> str:
    url = reverse("report-board", args=[code, period])
    if query:
        url += "?" + "&".join(f"{k}={v}" for k, v in query.items())
    return url


@pytest.fixture
def liucheng_reports(office_user, liaison_user):
    """Liucheng's half year 2019: one department in each state a report can be in."""
    period = period_of()
    on_time = submitted_report(
        period, liucheng("县民政局"), liaison_user, first_on=dt.date(2019, 7, 31)
    )
    late = submitted_report(
        period, liucheng("县卫生计生局"), office_user, first_on=dt.date(2019, 8, 1)
    )
    draft = filled_report(period, liucheng("县财政局"), office_user)
    returned = submitted_report(period, liucheng("县妇联"), office_user)
    services.report_return(report=returned, by=office_user, comment="请补充数据来源")
    accepted = submitted_report(period, liucheng("团县委"), office_user)
    services.report_accept(report=accepted, by=office_user)
    return {
        "period": period,
        "on_time": on_time,
        "late": late,
        "draft": draft,
        "returned": returned,
        "accepted": accepted,
    }


def _states(response) -> dict[str, BoardState]:
    return {row.department.name: row.state for row in response.context["table"].data}


# -- The board -------------------------------------------------------------------------------


def test_board_lists_every_expected_department_with_its_state(office_client, liucheng_reports):
    period = liucheng_reports["period"]
    response = office_client.get(board_url())
    assert response.status_code == 200
    states = _states(response)
    assert set(states) == {d.name for d in services.expected_departments(period)}
    assert len(states) == 18
    assert states["县民政局"] == BoardState.SUBMITTED_ON_TIME
    assert states["县卫生计生局"] == BoardState.SUBMITTED_LATE
    assert states["县妇联"] == BoardState.RETURNED
    assert states["团县委"] == BoardState.ACCEPTED
    # Today is long after the 2019 deadline: a draft and a report never begun are both overdue.
    assert states["县财政局"] == BoardState.OVERDUE
    assert states["县教育局"] == BoardState.OVERDUE


def test_board_rows_before_the_deadline_tell_a_draft_from_not_started(liucheng_reports):
    rows = board_rows(liucheng_reports["period"], today=dt.date(2019, 7, 15))
    states = {row.department.name: row.state for row in rows}
    assert states["县财政局"] == BoardState.DRAFT
    assert states["县教育局"] == BoardState.NOT_STARTED
    assert states["县民政局"] == BoardState.SUBMITTED_ON_TIME


def test_a_report_sent_again_after_a_return_stays_on_time(liucheng_reports, office_user):
    on_time = liucheng_reports["on_time"]
    services.report_return(report=on_time, by=office_user, comment="请核对数值")
    on_time.refresh_from_db()
    services.report_submit(report=on_time, by=office_user, version=on_time.version)
    rows = board_rows(liucheng_reports["period"], today=dt.date(2019, 9, 1))
    row = next(r for r in rows if r.department.name == "县民政局")
    assert row.state == BoardState.SUBMITTED_ON_TIME
    assert row.submitted_at > row.first_submitted_at


def test_board_shows_liaisons_counts_submission_time_and_report_links(
    office_client, liucheng_reports
):
    Liaison.objects.filter(user__username="liaison").update(phone="0772-7612345")
    response = office_client.get(board_url())
    html = response.content.decode()
    row = next(r for r in response.context["table"].data if r.department.name == "县民政局")
    report = liucheng_reports["on_time"]
    assert row.item_count == report.items.count() > 0
    assert row.value_count == report.values.count() > 0
    assert "民政局联络员" in html and "0772-7612345" in html
    assert "2019-07-31 10:00" in html
    assert reverse("report-detail", args=[report.pk]) in html
    assert "未指定" in html  # departments without a liaison say so


def test_board_counts_per_state_at_the_top(office_client, liucheng_reports):
    response = office_client.get(board_url())
    counts = response.context["counts"]
    assert list(counts) == list(BoardState)
    assert counts[BoardState.SUBMITTED_ON_TIME] == 1
    assert counts[BoardState.SUBMITTED_LATE] == 1
    assert counts[BoardState.RETURNED] == 1
    assert counts[BoardState.ACCEPTED] == 1
    assert counts[BoardState.OVERDUE] == 14
    assert sum(counts.values()) == response.context["total"] == 18
    html = response.content.decode()
    assert "?state=overdue" in html and "逾期未报" in html


def test_state_counts_list_every_state_even_when_none():
    counts = state_counts([BoardState.DRAFT, BoardState.DRAFT])
    assert counts[BoardState.DRAFT] == 2
    assert counts[BoardState.ACCEPTED] == 0
    assert len(counts) == len(BoardState)


def test_board_filters_by_state_and_department_name(office_client, liucheng_reports):
    response = office_client.get(board_url(state="overdue"))
    states = _states(response)
    assert len(states) == 14
    assert set(states.values()) == {BoardState.OVERDUE}
    assert response.context["counts"][BoardState.ACCEPTED] == 1  # counts stay for the period

    response = office_client.get(board_url(state="submitted_late"))
    assert list(_states(response)) == ["县卫生计生局"]

    response = office_client.get(board_url(q="卫生"))
    assert list(_states(response)) == ["县卫生计生局"]


@pytest.mark.parametrize("bad", ["nonsense", "<script>", "1' OR '1'='1"])
def test_board_ignores_a_bad_state_filter_and_says_so(office_client, liucheng_reports, bad):
    response = office_client.get(board_url(), {"state": bad})
    assert response.status_code == 200
    assert len(response.context["table"].data) == 18
    assert response.context["filter_form"].errors
    assert "<script>" not in response.content.decode().split("<main")[1]


def test_board_sorts_by_department_state_and_submission_time(office_client, liucheng_reports):
    names = list(_states(office_client.get(board_url(sort="department"))))
    assert names == sorted(names)
    assert list(_states(office_client.get(board_url(sort="-department")))) == names[::-1]

    states = list(_states(office_client.get(board_url(sort="state"))).values())
    order = list(BoardState)
    assert [order.index(s) for s in states] == sorted(order.index(s) for s in states)

    latest_first = list(_states(office_client.get(board_url(sort="-submitted_at"))))
    reported = [n for n in latest_first if n in {"县民政局", "县卫生计生局"}]
    assert reported == ["县卫生计生局", "县民政局"]


def test_board_paginates(office_client, monkeypatch):
    monkeypatch.setattr("reports.board.PER_PAGE", 5)
    first = office_client.get(board_url())
    second = office_client.get(board_url(page=2))
    assert len(first.context["table"].page.object_list) == 5
    names = {r.record.department.name for r in first.context["table"].page.object_list}
    assert names.isdisjoint(
        r.record.department.name for r in second.context["table"].page.object_list
    )
    assert "page=2" in first.content.decode()


def test_board_picks_any_period_of_the_plan_and_shows_deadline_and_state(office_client):
    period = period_of(kind="full")
    services.period_update(period=period, by=None, is_open=False)
    response = office_client.get(board_url(period="2019-12"))
    assert response.status_code == 200
    assert response.context["period"] == period
    html = response.content.decode()
    assert "2019-12-31" in html and "已关闭" in html
    for slug in ("2018-07", "2018-12", "2019-07", "2020-07", "2020-12"):
        assert board_url(period=slug) in html
    assert reverse("period-edit", args=["liucheng", "2019-12"]) in html


@pytest.mark.parametrize(
    "query",
    ["sort=bogus", "page=999", "page=abc", "view=bogus", "q=" + "x" * 200, "sort=-item_count"],
)
def test_board_shrugs_off_odd_query_strings(office_client, query):
    assert office_client.get(board_url() + "?" + query).status_code == 200


@pytest.mark.parametrize(
    "bad",
    [
        "2019-06",
        "2019-13",
        "2019-7",
        "2019-06-30",
        "19-07",
        "abcd",
        "2019-07x",
        "2030-07",
        "２０１９-07",
    ],
)
def test_board_answers_404_to_a_bad_period(office_client, bad):
    assert office_client.get(board_url(period=bad)).status_code == 404


def test_board_of_an_unknown_plan_is_404(office_client):
    assert office_client.get(board_url(code="nowhere")).status_code == 404


def test_board_is_for_the_office_and_leaders(client, leader_user, liaison_user, outsider_user):
    response = client.get(board_url())
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(liaison_user)
    assert client.get(board_url()).status_code == 403
    client.force_login(outsider_user)
    assert client.get(board_url()).status_code == 403
    client.force_login(leader_user)
    response = client.get(board_url())
    assert response.status_code == 200
    assert reverse("period-edit", args=["liucheng", "2019-07"]) not in response.content.decode()


def test_board_escapes_what_liaisons_typed(office_client, office_user):
    period = period_of()
    report = filled_report(period, liucheng("县民政局"), office_user)
    item = report.items.filter(role="lead").first()
    item.progress = "<script>alert(1)</script>"
    item.save(update_fields=["progress"])
    services.report_submit(report=report, by=office_user, version=report.version)
    html = office_client.get(board_url(view="tasks")).content.decode()
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_the_plan_dashboard_links_to_the_board(office_client, client, leader_user):
    html = office_client.get(reverse("plan-detail", args=["liucheng"]) + "?period=2019-06-30")
    assert board_url() in html.content.decode()
    client.force_login(leader_user)
    html = client.get(reverse("plan-detail", args=["liucheng"]) + "?period=2019-12-31")
    assert board_url(period="2019-12") in html.content.decode()


# -- Side by side ----------------------------------------------------------------------------


def test_by_task_shows_lead_and_supporting_progress_side_by_side(office_user):
    plan = make_plan()
    lead, support, slow = (make_department(plan.jurisdiction) for _ in range(3))
    task = make_task(plan, lead=[lead], support=[support, slow])
    period = ReportingPeriod.objects.get(plan=plan, kind="half", year=2019)
    submitted_report(period, lead, office_user)
    submitted_report(period, support, office_user)
    filled_report(period, slow, office_user)  # a draft is not shown
    from reports.board import task_comparisons

    (row,) = task_comparisons(period)
    assert row.task == task
    assert [e.department for e in row.lead] == [lead]
    assert [e.department for e in row.supporting] == [support, slow]
    assert row.lead[0].item.progress.startswith(lead.name)
    assert row.lead[0].item.state == TaskState.IN_PROGRESS
    assert row.supporting[0].item.progress.startswith(support.name)
    assert row.supporting[1].item is None
    assert (row.reported, row.expected) == (2, 3)


def test_by_task_tab_on_the_board(office_client, liucheng_reports):
    response = office_client.get(board_url(view="tasks"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "按任务" in html
    assert "县民政局:" in html  # the submitted progress text
    assert "县财政局:" not in html  # a draft stays private
    assert "本期尚未报送" in html
    assert "table" not in response.context


# -- Periods ---------------------------------------------------------------------------------


def test_period_list_counts_reports_per_board_state(office_client, liucheng_reports):
    response = office_client.get(reverse("period-list", args=["liucheng"]))
    assert response.status_code == 200
    rows = {row.period.slug: row for row in response.context["rows"]}
    assert list(rows) == ["2018-07", "2018-12", "2019-07", "2019-12", "2020-07", "2020-12"]
    half = rows["2019-07"].counts
    assert half[BoardState.SUBMITTED_ON_TIME] == 1
    assert half[BoardState.ACCEPTED] == 1
    assert half[BoardState.OVERDUE] == 14
    assert rows["2019-07"].total == 18
    assert rows["2019-12"].counts[BoardState.OVERDUE] == 18
    html = response.content.decode()
    assert reverse("period-edit", args=["liucheng", "2019-07"]) in html
    assert board_url() in html


def test_period_list_is_read_only_for_leaders_and_closed_to_liaisons(
    client, leader_user, liaison_user
):
    url = reverse("period-list", args=["liucheng"])
    assert client.get(url).status_code == 302
    client.force_login(liaison_user)
    assert client.get(url).status_code == 403
    client.force_login(leader_user)
    response = client.get(url)
    assert response.status_code == 200
    assert "/periods/2019-07/" not in response.content.decode()


def test_office_sets_the_deadline_and_closes_the_period_with_history(office_client):
    url = reverse("period-edit", args=["liucheng", "2019-07"])
    assert office_client.get(url).status_code == 200
    response = office_client.post(url, {"deadline": "2019-08-15"})  # unchecked: closed
    assert response.status_code == 302
    assert response["Location"] == reverse("period-list", args=["liucheng"])
    period = period_of()
    assert period.deadline == dt.date(2019, 8, 15)
    assert period.is_open is False
    office_client.post(url, {"deadline": "2019-08-15", "is_open": "on"})
    assert period_of().is_open is True

    response = office_client.get(url)
    history = response.context["history"]
    assert [c.changes for c in history] == [
        ["开放报送"],
        ["截止日期 2019-07-31 → 2019-08-15", "关闭报送"],
    ]
    assert all(c.user.username == "office" for c in history)
    html = response.content.decode()
    assert "民政局办公室" in html and "2019-08-15" in html


@pytest.mark.parametrize(
    ("period", "deadline", "message"),
    [
        ("2019-07", "2019-06-29", "不能早于2019-06-30"),
        ("2019-07", "2021-07-01", "不能晚于"),
        ("2019-12", "2021-12-31", None),  # two years after the end is still allowed
        ("2019-12", "2022-01-01", "不能晚于"),
        ("2019-07", "2019-02-30", "有效"),
        ("2019-07", "", "必填"),
    ],
)
def test_period_deadline_must_be_plausible(office_client, period, deadline, message):
    url = reverse("period-edit", args=["liucheng", period])
    before = ReportingPeriod.objects.get(plan__code="liucheng", year=2019, kind=period_kind(period))
    response = office_client.post(url, {"deadline": deadline, "is_open": "on"})
    after = ReportingPeriod.objects.get(pk=before.pk)
    if message is None:
        assert response.status_code == 302
        assert after.deadline.isoformat() == deadline
    else:
        assert response.status_code == 200
        assert message in response.content.decode()
        assert after.deadline == before.deadline


def period_kind(slug: str) -> str:
    return "half" if slug.endswith("-07") else "full"


def test_period_edit_is_for_the_office_only(client, leader_user, liaison_user):
    url = reverse("period-edit", args=["liucheng", "2019-07"])
    response = client.post(url, {"deadline": "2019-08-15"})
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    for user in (leader_user, liaison_user):
        client.force_login(user)
        assert client.get(url).status_code == 403
        assert client.post(url, {"deadline": "2019-08-15"}).status_code == 403
    assert period_of().deadline == dt.date(2019, 7, 31)


@pytest.mark.parametrize("bad", ["2019-06-30", "2019-01", "x", "2031-12"])
def test_period_edit_answers_404_to_a_bad_period(office_client, bad):
    assert office_client.get(reverse("period-edit", args=["liucheng", bad])).status_code == 404


# -- Queries ---------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(plan, period, by, n: int) -> None:
    """n more departments, each leading a task, supporting another and owning an indicator;
    every other one submits its report, and each has a liaison."""
    from django.contrib.auth import get_user_model

    for i in range(n):
        dept = make_department(plan.jurisdiction)
        other = make_department(plan.jurisdiction)
        make_task(plan, lead=[dept], support=[other])
        link_indicator(make_indicator(plan, milestones={2019: "10"}), dept)
        user = get_user_model().objects.create_user(f"l-{dept.pk}", first_name=f"联络员{i}")
        Liaison.objects.create(user=user, department=dept, phone="123")
        if i % 2:
            submitted_report(period, dept, by)
        else:
            filled_report(period, other, by)


@pytest.mark.parametrize(
    "url_for",
    [
        lambda plan: board_url(code=plan.code),
        lambda plan: board_url(code=plan.code, view="tasks"),
        lambda plan: board_url(code=plan.code, state="overdue", sort="-submitted_at"),
        lambda plan: reverse("period-list", args=[plan.code]),
        lambda plan: reverse("period-edit", args=[plan.code, "2019-07"]),
    ],
    ids=["board", "by-task", "board-filtered", "periods", "period-edit"],
)
def test_pages_cost_the_same_queries_whatever_the_number_of_departments(
    office_client, office_user, url_for
):
    plan = make_plan()
    period = ReportingPeriod.objects.get(plan=plan, kind="half", year=2019)
    _grow(plan, period, office_user, 2)
    services.period_update(period=period, by=office_user, deadline=dt.date(2019, 8, 1))
    small = _queries(office_client, url_for(plan))
    _grow(plan, period, office_user, 20)
    services.period_update(period=period, by=office_user, is_open=False)
    assert _queries(office_client, url_for(plan)) == small


def test_board_and_period_pages_stay_within_a_query_budget(
    office_client, liucheng_reports, django_assert_max_num_queries
):
    """Counts include the session, the user, the user's groups and the office's scope."""
    with django_assert_max_num_queries(11):
        office_client.get(board_url())
    with django_assert_max_num_queries(14):
        office_client.get(board_url(view="tasks"))
    with django_assert_max_num_queries(10):
        office_client.get(reverse("period-list", args=["liucheng"]))
    with django_assert_max_num_queries(7):
        office_client.get(reverse("period-edit", args=["liucheng", "2019-07"]))


def test_board_uses_the_local_date_for_on_time(liucheng_reports):
    """A report first sent at 23:30 Beijing time on the deadline is on time (15:30 UTC)."""
    report = liucheng_reports["late"]
    at = dt.datetime(2019, 7, 31, 15, 30, tzinfo=dt.UTC)
    Report.objects.filter(pk=report.pk).update(first_submitted_at=at)
    assert timezone.localdate(at) == dt.date(2019, 7, 31)
    rows = board_rows(liucheng_reports["period"], today=dt.date(2019, 9, 1))
    row = next(r for r in rows if r.department.name == "县卫生计生局")
    assert row.state == BoardState.SUBMITTED_ON_TIME
