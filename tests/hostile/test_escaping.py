"""Script in every name the pages show back: plans, indicators, units, tasks, departments and
liaisons (all editable in the admin), in pages, django-tables2 tables, the JSON the charts read
(json_script, plotly labels) and the admin lists. Nothing comes back as live markup."""

from __future__ import annotations

import datetime as dt
import json
import re
from decimal import Decimal

import pytest
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import reverse
from django.utils import timezone

from indicators.models import Indicator, Measurement
from plans.models import Department, Liaison, Plan
from reports import services
from reports.models import ReportingPeriod
from tasks.models import Task
from tests.hostile.conftest import assert_nothing_live, client_for

pytestmark = pytest.mark.django_db

# Closes json_script's element, opens a script, and an attribute-breaking image for good measure.
HOSTILE = '</script><script>alert(1)</script>"><img src=x onerror=alert(1)>'
HOSTILE_UNIT = "</script><b>张</b>"


def chart_data(html: str, element_id: str) -> dict:
    """The JSON a chart reads, as charts.js reads it: the text of <script id=... json>."""
    match = re.search(
        rf'<script id="{element_id}" type="application/json">(.*?)</script>', html, re.S
    )
    assert match, f"no {element_id} in the page"
    assert "</" not in match[1]  # json_script escapes "<": nothing can close the element early
    return json.loads(match[1])


def strings_in(data) -> list[str]:
    if isinstance(data, str):
        return [data]
    if isinstance(data, dict):
        return [s for v in data.values() for s in strings_in(v)]
    if isinstance(data, list):
        return [s for v in data for s in strings_in(v)]
    return []


def assert_labels_escaped(figure: dict) -> None:
    """Plotly renders a subset of HTML in labels: the names must arrive as escaped text."""
    labels = [s for s in strings_in(figure) if "alert(1)" in s or "张" in s]
    assert labels, "the hostile name is not in the chart"
    for label in labels:
        assert "<script" not in label and "<img" not in label and "<b>" not in label, label


@pytest.fixture
def hostile_plan(office_user) -> Plan:
    """柳城县 with every name replaced, and new beds reported far behind in 2019."""
    plan = Plan.objects.get(code="liucheng")
    Plan.objects.filter(pk=plan.pk).update(
        title=f"方案{HOSTILE}", short_title=f"柳城{HOSTILE[:34]}"
    )
    Indicator.objects.filter(plan=plan, code="new-beds").update(
        name=f"床位{HOSTILE}", unit=HOSTILE_UNIT
    )
    Task.objects.filter(plan=plan).update(title=Concat(F("title"), Value(HOSTILE)))
    Department.objects.filter(jurisdiction=plan.jurisdiction).update(
        name=Concat(F("name"), Value(HOSTILE))
    )
    office_user.first_name = f"联络员{HOSTILE}"
    office_user.save(update_fields=["first_name"])
    Liaison.objects.filter(department__jurisdiction=plan.jurisdiction).update(phone=HOSTILE[:20])
    Measurement.objects.create(
        indicator=Indicator.objects.get(plan=plan, code="new-beds"),
        period_end=dt.date(2019, 12, 31),
        value=Decimal(10),
        entered_by=office_user,
        entered_at=timezone.now(),
    )
    plan.refresh_from_db()
    return plan


PAGES = [
    ("home", []),
    ("plan-detail", ["liucheng"]),
    ("plan-document", ["liucheng"]),
    ("department-list", []),
    ("indicator-detail", ["liucheng", "new-beds"]),
    ("measurement-edit", ["liucheng", "new-beds"]),
    ("measurement-grid", ["liucheng", "2019-12-31"]),
    ("report-board", ["liucheng", "2019-07"]),
    ("period-list", ["liucheng"]),
    ("overview", []),
]


@pytest.mark.parametrize(("name", "args"), PAGES)
def test_hostile_names_come_back_escaped_in_every_page(office_client, hostile_plan, name, args):
    response = office_client.get(reverse(name, args=args))
    assert response.status_code == 200
    html = response.content.decode()
    assert_nothing_live(html)
    assert "<b>张</b>" not in html


def test_hostile_names_are_escaped_on_a_task_and_a_department_page(office_client, hostile_plan):
    task = Task.objects.filter(plan=hostile_plan).first()
    department = Department.objects.filter(jurisdiction=hostile_plan.jurisdiction).first()
    for url in (
        task.get_absolute_url(),
        reverse("task-update", args=["liucheng", task.pk]),
        reverse("department-detail", args=[department.pk]),
        reverse("report-board", args=["liucheng", "2019-07"]) + "?view=tasks",
    ):
        response = office_client.get(url)
        assert response.status_code == 200, url
        assert_nothing_live(response.content.decode())


def test_the_indicator_chart_data_keeps_script_inside_its_json(office_client, hostile_plan):
    html = office_client.get(reverse("indicator-detail", args=["liucheng", "new-beds"])).content
    figure = chart_data(html.decode(), "indicator-chart-data")
    assert_labels_escaped(figure)


def test_the_overview_charts_escape_plan_and_indicator_names(office_client, hostile_plan):
    html = office_client.get(reverse("overview") + "?period=2019-12-31").content.decode()
    assert_nothing_live(html)
    shares = chart_data(html, "share-chart-data")
    assert_labels_escaped(shares)
    behind = chart_data(html, "behind-chart-data")
    assert_labels_escaped(behind)


def test_the_board_table_escapes_department_and_liaison_names(
    office_client, hostile_plan, liaison_user
):
    liaison_user.first_name = f"王{HOSTILE}"
    liaison_user.save(update_fields=["first_name"])
    response = office_client.get(reverse("report-board", args=["liucheng", "2019-07"]))
    html = response.content.decode()
    assert_nothing_live(html)
    assert "&lt;/script&gt;&lt;script&gt;alert(1)" in html  # shown, as text


def test_the_api_returns_hostile_names_as_plain_json_strings(office_client, hostile_plan):
    response = office_client.get(reverse("api-plan-progress", args=["liucheng"]))
    assert response["Content-Type"].startswith("application/json")
    names = [i["name"] for i in response.json()["indicators"]]
    assert f"床位{HOSTILE}" in names  # data, not markup: the consumer escapes for its own page


@pytest.mark.parametrize(
    "changelist",
    [
        "admin:plans_plan_changelist",
        "admin:plans_department_changelist",
        "admin:plans_liaison_changelist",
        "admin:indicators_indicator_changelist",
        "admin:indicators_measurement_changelist",
        "admin:tasks_task_changelist",
        "admin:reports_report_changelist",
        "admin:reports_reportevent_changelist",
    ],
)
def test_the_admin_lists_escape_hostile_names(admin_client, hostile_plan, liaison_user, changelist):
    period = ReportingPeriod.objects.get(plan=hostile_plan, kind="half", year=2019)
    services.report_open(period=period, department=liaison_user.liaison.department, by=liaison_user)
    response = admin_client.get(reverse(changelist))
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())


@pytest.mark.parametrize(
    "query",
    [
        "q='; DROP TABLE plans_plan; --",
        "q=1 OR 1=1",
        "q=%00",
        "o=99",
        "o=abc",
        "state__exact=<script>",
        "period__year=abc",
    ],
)
def test_the_admin_search_and_ordering_take_hostile_parameters(admin_client, query):
    response = admin_client.get(reverse("admin:reports_report_changelist") + f"?{query}")
    assert response.status_code in (200, 302)
    assert_nothing_live(response.content.decode())
    assert Plan.objects.filter(code="liucheng").exists()


def test_hostile_names_in_a_liaisons_report_page(liaison_client, hostile_plan, liaison_user):
    period = ReportingPeriod.objects.get(plan=hostile_plan, kind="half", year=2019)
    report = services.report_open(
        period=period, department=liaison_user.liaison.department, by=liaison_user
    )
    for url in (
        reverse("report-home"),
        report.get_absolute_url(),
        reverse("report-history", args=[report.pk]),
    ):
        response = liaison_client.get(url)
        assert response.status_code == 200, url
        assert_nothing_live(response.content.decode())


def test_the_plan_dashboard_in_english_escapes_too(office_user, hostile_plan):
    client = client_for(office_user)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    response = client.get(reverse("plan-detail", args=["liucheng"]))
    assert response.status_code == 200
    assert_nothing_live(response.content.decode())
