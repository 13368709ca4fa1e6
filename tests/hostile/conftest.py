"""Shared set-up of the hostile-input suite: the cast, a liaison's report, and the checks every
case makes (no 500, a message in Chinese, nothing stored that should not be)."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from django.contrib.messages import get_messages
from django.test import Client

from plans.models import Department
from reports import services
from reports.forms import ReportForm
from reports.models import Report, ReportingPeriod, ReportItem

HAN = re.compile(r"[\u4e00-\u9fff]")

SCRIPT = "<script>alert(1)</script>"
IMG = '"><img src=x onerror=alert(1)>'
JS_URL = "javascript:alert(1)"
# What a browser would run if any of the above came back unescaped.
LIVE = ("<script>alert(1)", "<img src=x onerror", 'href="javascript:')


def client_for(user) -> Client:
    client = Client()
    if user is not None:
        client.force_login(user)
    return client


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def text_of(response) -> str:
    """What the user reads: the body, or for a redirect the messages it carries."""
    if response.status_code in (301, 302):
        return " ".join(messages_of(response))
    if getattr(response, "streaming", False):
        return ""
    return response.content.decode("utf-8", "replace")


def assert_says_in_chinese(response, *expected: str) -> None:
    """Not a 500, and the user is told in Chinese (each `expected` piece appears)."""
    assert response.status_code < 500, response.status_code
    shown = text_of(response)
    assert HAN.search(shown), shown[:500]
    for piece in expected:
        assert piece in shown, (piece, shown[:2000])


def assert_nothing_live(html: str) -> None:
    for fragment in LIVE:
        assert fragment not in html, fragment


@pytest.fixture
def liaison_client(liaison_user) -> Client:
    return client_for(liaison_user)


@pytest.fixture
def other_liaison(django_user_model):
    """The liaison of 柳城县卫生计生局."""
    return django_user_model.objects.get(username="liaison2")


@pytest.fixture
def media(settings, tmp_path) -> Path:
    settings.MEDIA_ROOT = tmp_path / "media"
    return settings.MEDIA_ROOT


@pytest.fixture
def period() -> ReportingPeriod:
    return ReportingPeriod.objects.select_related("plan").get(
        plan__code="liucheng", kind="half", year=2019
    )


@pytest.fixture
def report(liaison_user, period, media) -> Report:
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    return services.report_open(period=period, department=department, by=liaison_user)


@pytest.fixture
def item(report) -> ReportItem:
    return report.items.order_by("task__position").first()


def page_data(report: Report, action: str = "save") -> dict[str, str]:
    """What the browser sends back from the report page untouched: every input of the form."""
    report.refresh_from_db()
    items, values = services._editable_items(report)
    form = ReportForm(report=report, items=items, values=values)
    data = {"version": str(report.version), "action": action}
    for entry_form in form.entry_forms():
        for field in entry_form:
            value = field.value()
            if isinstance(value, dt.date):
                value = value.isoformat()
            data[field.html_name] = "" if value is None else str(value)
    return data


def report_state(report: Report) -> tuple:
    """Everything a refused save must leave as it was: version, state, events, content."""
    report.refresh_from_db()
    content = services.snapshot(report)
    return (
        report.version,
        report.state,
        report.events.count(),
        content["items"],
        content["values"],
    )
