"""The plan dashboard, the department page and the leaders' overview show engine statuses."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Indicator, Measurement
from indicators.progress import Status
from plans.models import Department
from tasks.models import Task, TaskUpdate
from tests.builders import (
    link_indicator,
    make_department,
    make_indicator,
    make_plan,
    make_section,
    make_task,
)

pytestmark = pytest.mark.django_db


def log(plan: str, code: str, period_end: str, value, user=None) -> Measurement:
    indicator = Indicator.objects.get(plan__code=plan, code=code)
    m, _ = Measurement.objects.update_or_create(
        indicator=indicator,
        period_end=period_end,
        defaults={"value": Decimal(str(value)), "entered_by": user},
    )
    return m


def rows_by_code(response) -> dict:
    return {row.indicator.code: row for row in response.context["indicator_table"].data}


def test_dashboard_opens_on_the_latest_period_of_a_finished_plan(office_client):
    response = office_client.get(reverse("plan-detail", args=["liucheng"]))
    assert response.context["on"] == dt.date(2020, 12, 31)


def test_liucheng_beds_and_health_rate_read_as_the_rule_says(office_client):
    log("liucheng", "new-beds", "2018-12-31", 280)
    log("liucheng", "new-beds", "2019-12-31", 650)
    log("liucheng", "health-management-rate", "2018-12-31", 32)
    log("liucheng", "health-management-rate", "2019-12-31", 52)
    response = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-12-31"}
    )
    rows = rows_by_code(response)
    assert rows["new-beds"].status == Status.ON_TRACK
    assert rows["new-beds"].assessment.expected == Decimal(700)
    assert rows["health-management-rate"].status == Status.ACHIEVED
    html = response.content.decode()
    assert "650 张" in html
    assert "应达 700 张" in html
    assert "按当前进度,预计2021年完成" in html


def test_beds_300_by_end_2019_are_behind_and_counted(office_client):
    log("liucheng", "new-beds", "2019-12-31", 300)
    response = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-12-31"}
    )
    assert rows_by_code(response)["new-beds"].status == Status.BEHIND
    assert response.context["progress"].indicator_counts[Status.BEHIND] >= 1


def test_dashboard_filters_by_status(office_client):
    log("liucheng", "new-beds", "2019-12-31", 300)
    response = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-12-31", "status": "behind"}
    )
    rows = list(response.context["indicator_table"].data)
    assert [r.indicator.code for r in rows] == ["new-beds"]


def test_dashboard_filters_by_department(office_client):
    dept = Department.objects.get(jurisdiction__name="柳城县", name="县卫生计生局")
    response = office_client.get(reverse("plan-detail", args=["liucheng"]), {"department": dept.pk})
    tasks = [r.task for r in response.context["task_table"].data]
    assert tasks
    assert all(any(link.department == dept for link in t.links.all()) for t in tasks)


@pytest.mark.parametrize("period", ["2031-06-30", "2019-05-31", "junk", "<script>", "9" * 300])
def test_dashboard_ignores_a_period_outside_the_plan(office_client, period):
    response = office_client.get(reverse("plan-detail", args=["liucheng"]), {"period": period})
    assert response.status_code == 200
    assert response.context["on"] == dt.date(2020, 12, 31)


def test_recorded_task_state_shows_on_the_dashboard(office_client, office_user):
    task = Task.objects.get(plan__code="liucheng", clause="二、(一)1")
    TaskUpdate.objects.create(
        task=task,
        state="delayed",
        note="用地未落实",
        as_of=dt.date(2019, 6, 30),
        created_by=office_user,
    )
    response = office_client.get(
        reverse("plan-detail", args=["liucheng"]), {"period": "2019-06-30"}
    )
    row = next(r for r in response.context["task_table"].data if r.task.pk == task.pk)
    assert row.status == Status.BEHIND
    assert "用地未落实" in response.content.decode()
    earlier = office_client.get(reverse("plan-detail", args=["liucheng"]), {"period": "2018-12-31"})
    row = next(r for r in earlier.context["task_table"].data if r.task.pk == task.pk)
    assert row.status == Status.NO_DATA  # the state was recorded as of mid-2019


def test_xianyang_dashboard_lists_rows_not_their_headings(office_client):
    response = office_client.get(reverse("plan-detail", args=["xianyang"]))
    tasks = [r.task for r in response.context["task_table"].data]
    leaves = Task.objects.filter(plan__code="xianyang").leaves().count()
    assert len(tasks) == leaves
    assert all(not t.subtasks.exists() for t in tasks[:5])


def test_departments_with_most_overdue_items(office_client):
    response = office_client.get(reverse("plan-detail", args=["liucheng"]))
    laggards = response.context["laggards"]
    assert laggards
    overdue = [n for _d, n, _b in laggards]
    assert overdue == sorted(overdue, reverse=True)


def test_department_page_shows_statuses_across_plans(office_client):
    log("liucheng", "new-beds", "2020-12-31", 1250)
    dept = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    response = office_client.get(dept.get_absolute_url())
    progress = response.context["progress"]
    beds = next(r for r in progress.indicators if r.indicator.code == "new-beds")
    assert beds.status == Status.ACHIEVED
    assert sum(progress.counts.values()) == (
        len(progress.lead) + len(progress.supporting) + len(progress.indicators)
    )


def test_overview_shows_every_plan_and_the_charts_as_json(client, leader_user):
    log("liucheng", "new-beds", "2019-12-31", 300)
    client.force_login(leader_user)
    response = client.get(reverse("overview"), {"period": "2019-12-31"})
    html = response.content.decode()
    assert [p.plan.code for p in response.context["summaries"]] == [
        "liucheng",
        "liuzhou",
        "panjin",
        "xianyang",
    ]
    share = json.loads(re.search(r'id="share-chart-data"[^>]*>(.*?)</script>', html, re.S)[1])
    assert len(share["data"]) == len(Status)
    assert "新增养老床位" in [row.name for row in response.context["laggards"]]
    assert "<script>" not in html.split("</head>", 1)[1].replace("<script id=", "")


def test_overview_escapes_names_in_chart_labels(client, leader_user):
    plan = make_plan(title="<b>恶意</b>方案", start_year=2018, end_year=2020)
    section = make_section(plan)
    ind = make_indicator(
        plan,
        section,
        name="<img src=x onerror=alert(1)>",
        milestones={2018: "100"},
        final_target=Decimal(100),
        target_year=2018,
    )
    Measurement.objects.create(indicator=ind, period_end="2018-12-31", value=10)
    client.force_login(leader_user)
    html = client.get(reverse("overview"), {"period": "2018-12-31"}).content.decode()
    assert "<img src=x" not in html
    assert "&lt;img src=x" in html or "\\u003cimg" in html


def test_pages_need_login(client):
    for url in (reverse("plan-detail", args=["liucheng"]), reverse("overview")):
        assert client.get(url).status_code == 302


def _grow(plan, n):
    section = make_section(plan)
    for _ in range(n):
        dept = make_department(plan.jurisdiction)
        ind = make_indicator(plan, section, milestones={2018: "1", 2019: "2"})
        Measurement.objects.create(indicator=ind, period_end="2018-12-31", value=1)
        link_indicator(ind, dept)
        task = make_task(plan, section, lead=[dept])
        TaskUpdate.objects.create(task=task, state="in_progress", as_of=dt.date(2018, 6, 30))


@pytest.mark.parametrize("page", ["dashboard", "overview", "department"])
def test_dashboards_cost_the_same_queries_whatever_the_size(
    office_client, page, django_assert_num_queries
):
    plan = make_plan()
    _grow(plan, 2)
    dept = plan.jurisdiction.departments.first()
    url = {
        "dashboard": reverse("plan-detail", args=[plan.code]),
        "overview": reverse("overview"),
        "department": reverse("department-detail", args=[dept.pk]),
    }[page]
    with CaptureQueriesContext(connection) as small:
        assert office_client.get(url).status_code == 200
    _grow(plan, 25)
    for _ in range(10):
        make_task(plan, make_section(plan), lead=[dept])
    with CaptureQueriesContext(connection) as large:
        assert office_client.get(url).status_code == 200
    assert len(large.captured_queries) == len(small.captured_queries)


def test_dashboard_query_budget(office_client, django_assert_max_num_queries):
    with django_assert_max_num_queries(16):
        office_client.get(reverse("plan-detail", args=["xianyang"]))
    with django_assert_max_num_queries(12):
        office_client.get(reverse("overview"))


def _count_queries(client, url, **params) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url, params)
    return len(ctx.captured_queries), response.content.decode()


def test_a_repeated_dashboard_is_served_from_the_cache(office_client):
    url = reverse("plan-detail", args=["liucheng"])
    first, html = _count_queries(office_client, url, period="2019-12-31")
    again, html_again = _count_queries(office_client, url, period="2019-12-31")
    assert again < first
    assert html_again.split("<main", 1)[1] == html.split("<main", 1)[1]


def test_a_new_value_shows_at_once_despite_the_cache(office_client):
    url = reverse("plan-detail", args=["liucheng"])
    office_client.get(url, {"period": "2019-12-31"})
    log("liucheng", "new-beds", "2019-12-31", 300)
    html = office_client.get(url, {"period": "2019-12-31"}).content.decode()
    assert "300 张" in html
    log("liucheng", "new-beds", "2019-12-31", 650)
    html = office_client.get(url, {"period": "2019-12-31"}).content.decode()
    assert "650 张" in html


def test_a_task_update_refreshes_the_cached_overview(client, leader_user, office_user):
    client.force_login(leader_user)
    before = client.get(reverse("overview"), {"period": "2019-06-30"}).context["summaries"]
    counts = next(s.counts for s in before if s.plan.code == "liucheng")
    task = Task.objects.get(plan__code="liucheng", clause="二、(一)1")
    TaskUpdate.objects.create(task=task, state="done", as_of=dt.date(2019, 6, 30))
    after = client.get(reverse("overview"), {"period": "2019-06-30"}).context["summaries"]
    new_counts = next(s.counts for s in after if s.plan.code == "liucheng")
    assert new_counts[Status.ACHIEVED] == counts[Status.ACHIEVED] + 1


def test_cached_dashboards_differ_by_role_and_language(client, office_user, leader_user):
    url = reverse("plan-detail", args=["liucheng"])
    client.force_login(office_user)
    client.get(url)
    client.force_login(leader_user)
    html = client.get(url).content.decode()
    assert "填报本期数据" not in html
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "Indicator" in client.get(url).content.decode()
