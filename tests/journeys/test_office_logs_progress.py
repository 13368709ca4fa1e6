"""Issue 3's journey, from the login form to the rendered pages, through the real forms.

The office logs Liucheng's 2018 and 2019 bed and health-management values in the entry grid;
the plan dashboard, the indicator chart and the leaders' overview then show the statuses the
rule in indicators/progress.py gives.
"""

from __future__ import annotations

import json
import re

import pytest
from django.test import Client
from django.urls import reverse

from indicators.models import Indicator, Measurement
from indicators.progress import Status

pytestmark = pytest.mark.django_db

PLAN = "liucheng"


def log_in(username: str, password: str) -> Client:
    client = Client()
    response = client.post(reverse("login"), {"username": username, "password": password})
    assert response.status_code == 302
    return client


def fill_grid(client: Client, period: str, values: dict[str, str]) -> None:
    """Open the grid for a period, type `values` by indicator code, submit it as the page would."""
    url = reverse("measurement-grid", args=[PLAN, period])
    rows = client.get(url).context["grid"]
    data = {}
    for row in rows:
        for name in ("value", "note", "started_from", "started_note"):
            data[row.add_prefix(name)] = row[name].value() or ""
    for code, typed in values.items():
        indicator = Indicator.objects.get(plan__code=PLAN, code=code)
        data[f"m{indicator.pk}-value"] = typed
    response = client.post(url, data)
    assert response.status_code == 302, response.content.decode()[:2000]


def chart_data(html: str, element_id: str) -> dict:
    return json.loads(re.search(rf'id="{element_id}"[^>]*>(.*?)</script>', html, re.S)[1])


def statuses(client: Client, period: str) -> dict[str, Status]:
    response = client.get(reverse("plan-detail", args=[PLAN]), {"period": period})
    return {row.indicator.code: row.status for row in response.context["indicator_table"].data}


def test_office_logs_values_and_every_page_shows_the_status():
    office = log_in("office", "office-demo-2026")
    fill_grid(office, "2018-12-31", {"new-beds": "280", "health-management-rate": "32%"})
    fill_grid(office, "2019-12", {"new-beds": "650", "health-management-rate": "５２"})

    assert (
        Measurement.objects.get(
            indicator__code="health-management-rate", period_end="2019-12-31"
        ).value
        == 52
    )
    seen = statuses(office, "2019-12-31")
    assert seen["new-beds"] == Status.ON_TRACK
    assert seen["health-management-rate"] == Status.ACHIEVED

    beds = Indicator.objects.get(plan__code=PLAN, code="new-beds")
    html = office.get(beds.get_absolute_url(), {"period": "2019-12-31"}).content.decode()
    chart = chart_data(html, "indicator-chart-data")
    actual = next(t for t in chart["data"] if t["name"] == "实际值")
    assert actual["y"] == [280.0, 650.0]
    assert "正常推进" in html
    history = html.split("修改记录", 1)[1]
    assert "民政局办公室" in history  # who entered the values, from the change history
    assert "280" in history

    # A correction to 300 turns the beds behind, everywhere.
    fill_grid(office, "2019-12-31", {"new-beds": "300"})
    assert statuses(office, "2019-12-31")["new-beds"] == Status.BEHIND

    leader = log_in("leader", "leader-demo-2026")
    overview = leader.get(reverse("overview"), {"period": "2019-12-31"})
    laggards = [row.name for row in overview.context["laggards"]]
    assert "新增养老床位" in laggards
    summary = next(s for s in overview.context["summaries"] if s.plan.code == PLAN)
    assert summary.counts[Status.BEHIND] >= 1
    assert summary.counts[Status.ACHIEVED] >= 1


def test_a_leader_cannot_log_values():
    leader = log_in("leader", "leader-demo-2026")
    url = reverse("measurement-grid", args=[PLAN, "2019-12-31"])
    assert leader.get(url).status_code == 403
    assert leader.post(url, {}).status_code == 403
