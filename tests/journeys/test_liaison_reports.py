"""Issue 4's journey, through the pages as people use them.

The Liucheng civil affairs liaison drafts and submits the 2019 half-year report; the office
returns it with a comment; the liaison resubmits; the office accepts; the board and the
dashboard show it; a liaison of another department can neither see nor change it.
"""

from __future__ import annotations

import re

import pytest
from django.test import Client
from django.urls import reverse

from indicators.models import Measurement
from indicators.progress import Status
from reports.models import Report, ReportEvent
from reports.rules import BoardState

pytestmark = pytest.mark.django_db

DELAY = {
    "delay_reason": "资金未及时到位。",
    "measures": "已协调财政局加快拨付。",
    "new_expected_date": "2019-12-31",
}


def log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302, f"{username} could not log in"
    return client


def form_of(response) -> dict[str, str]:
    """Every input of the report form as the page shows it."""
    form = response.context["form"]
    data = {"version": str(form.action["version"].value())}
    for entry in form.entry_forms():
        for field in entry:
            value = field.value()
            data[field.html_name] = "" if value is None else str(value)
    return data


def fill_everything(data: dict[str, str]) -> dict[str, str]:
    """A careful liaison: progress and a state on every item, a value for every indicator."""
    for name in list(data):
        if name.endswith("-state"):
            data[name] = "in_progress"
        elif name.endswith("-progress"):
            data[name] = "已按计划推进,完成年度任务过半。"
        elif name.endswith("-value"):
            data[name] = "1"
    return data


def test_the_half_year_report_goes_round_the_cycle():
    liaison = log_in("liaison", "liaison-demo-2026")
    other = log_in("liaison2", "liaison-demo-2026")
    office = log_in("office", "office-demo-2026")
    leader = log_in("leader", "leader-demo-2026")

    # The liaison finds the open 2019 half-year period on the home page and starts the report.
    home = liaison.get(reverse("report-home")).content.decode()
    start = reverse("report-start", args=["liucheng", "2019-07"])
    assert start in home
    response = liaison.post(start)
    report = Report.objects.get(
        period__plan__code="liucheng",
        period__year=2019,
        period__kind="half",
        department__name="县民政局",
    )
    assert response["Location"] == report.get_absolute_url()

    # A draft first: saved, nothing submitted.
    page = liaison.get(report.get_absolute_url())
    data = fill_everything(form_of(page))
    response = liaison.post(reverse("report-edit", args=[report.pk]), {**data, "action": "save"})
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == Report.State.DRAFT
    assert report.version == 1

    # Submitting asks for delay reasons where the engine says an entry is behind.
    page = liaison.get(report.get_absolute_url())
    data = {**form_of(page), "action": "submit"}
    response = liaison.post(reverse("report-edit", args=[report.pk]), data)
    report.refresh_from_db()
    if report.state != Report.State.SUBMITTED:
        assert response.status_code == 200
        assert "滞后原因" in response.content.decode()
        data = form_of(response)
        for name in list(data):
            for field, text in DELAY.items():
                if name.endswith(f"-{field}"):
                    data[name] = text
        response = liaison.post(
            reverse("report-edit", args=[report.pk]), {**data, "action": "submit"}
        )
        report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED, response.content.decode()[:3000]

    # Another department's liaison can neither see nor change it.
    assert other.get(report.get_absolute_url()).status_code == 404
    assert other.post(reverse("report-edit", args=[report.pk]), data).status_code == 404
    assert other.post(reverse("report-accept", args=[report.pk])).status_code == 404

    # The office returns it with a comment; the liaison sees why.
    response = office.post(
        reverse("report-return", args=[report.pk]), {"comment": "请补充床位建设的具体数字。"}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == Report.State.RETURNED
    assert "请补充床位建设的具体数字。" in liaison.get(report.get_absolute_url()).content.decode()

    # The liaison corrects and resubmits.
    page = liaison.get(report.get_absolute_url())
    data = form_of(page)
    for name in list(data):
        for field, text in DELAY.items():
            if name.endswith(f"-{field}") and not data[name]:
                data[name] = text
    response = liaison.post(reverse("report-edit", args=[report.pk]), {**data, "action": "submit"})
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED

    # The leader comments, cannot accept; the office accepts.
    assert (
        leader.post(
            reverse("report-comment", args=[report.pk]), {"comment": "抓紧推进。"}
        ).status_code
        == 302
    )
    assert leader.post(reverse("report-accept", args=[report.pk])).status_code == 403
    assert office.post(reverse("report-accept", args=[report.pk])).status_code == 302
    report.refresh_from_db()
    assert report.state == Report.State.ACCEPTED
    kinds = list(report.events.values_list("kind", flat=True))
    for kind in ("submitted", "returned", "commented", "accepted"):
        assert kind in kinds
    assert report.events.filter(kind=ReportEvent.Kind.SUBMITTED).count() == 2

    # Locked: the liaison can no longer change it.
    response = liaison.post(reverse("report-edit", args=[report.pk]), {**data, "action": "save"})
    report.refresh_from_db()
    assert report.state == Report.State.ACCEPTED

    # The board shows it accepted; the values are the plan's measurements for the period.
    board = office.get(reverse("report-board", args=["liucheng", "2019-07"]))
    html = board.content.decode()
    assert "县民政局" in html
    assert str(BoardState.ACCEPTED.label) in html
    values = Measurement.objects.filter(period_end="2019-06-30", report_values__report=report)
    assert values.count() == report.values.exclude(value=None).count() > 0

    # The dashboard for the half year counts those values.
    dashboard = office.get(reverse("plan-detail", args=["liucheng"]), {"period": "2019-06-30"})
    rows = {row.indicator.pk: row for row in dashboard.context["indicator_table"].data}
    for measurement in values:
        assert rows[measurement.indicator_id].assessment.actual_on is not None
        assert rows[measurement.indicator_id].status != Status.NO_DATA
    assert re.search(r"报送情况", dashboard.content.decode())
