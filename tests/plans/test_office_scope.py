"""Office staff of one county manage only that county's plans; leaders still read all."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from indicators.models import Measurement
from plans.models import Department, Jurisdiction, OfficeScope, Plan
from plans.roles import manages_plan
from reports import services
from reports.models import Report, ReportingPeriod
from tasks.models import Task

pytestmark = pytest.mark.django_db


@pytest.fixture
def panjin_office(django_user_model):
    """An office account of 盘锦市 only."""
    user = django_user_model.objects.create_user("panjin-office", password="x-2026-panjin")
    user.groups.add(Group.objects.get(name="office"))
    scope = OfficeScope.objects.create(user=user)
    scope.jurisdictions.add(Jurisdiction.objects.get(name="盘锦市"))
    client = Client()
    client.force_login(user)
    return user, client


@pytest.fixture
def liucheng_report(liaison_user) -> Report:
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    return services.report_open(period=period, department=department, by=liaison_user)


def test_an_office_account_without_a_scope_manages_every_plan(office_user):
    assert all(manages_plan(office_user, plan) for plan in Plan.objects.all())


def test_a_scoped_office_enters_data_for_its_own_plan_only(panjin_office):
    _user, client = panjin_office
    assert client.get(reverse("measurement-grid", args=["panjin", "2017-12-31"])).status_code == 200
    assert (
        client.get(reverse("measurement-grid", args=["liucheng", "2019-12-31"])).status_code == 403
    )
    task = Task.objects.filter(plan__code="liucheng").first()
    assert client.get(reverse("task-update", args=["liucheng", task.pk])).status_code == 403
    response = client.post(
        reverse("measurement-edit", args=["liucheng", "new-beds"]),
        {"period": "2019-12-31", "value": "999"},
    )
    assert response.status_code == 403
    assert not Measurement.objects.filter(indicator__code="new-beds", value=999).exists()


def test_a_scoped_office_reviews_its_own_plans_reports_only(panjin_office, liucheng_report):
    _user, client = panjin_office
    assert client.get(reverse("report-board", args=["liucheng", "2019-07"])).status_code == 403
    assert client.get(reverse("period-list", args=["liucheng"])).status_code == 403
    assert client.get(reverse("period-edit", args=["liucheng", "2019-07"])).status_code == 403
    assert client.get(liucheng_report.get_absolute_url()).status_code == 404
    response = client.post(reverse("report-accept", args=[liucheng_report.pk]))
    assert response.status_code == 404
    liucheng_report.refresh_from_db()
    assert liucheng_report.state == Report.State.DRAFT
    assert client.get(reverse("report-board", args=["panjin", "2017-12"])).status_code == 200


def test_leaders_still_read_every_plans_reports(leader_user, liucheng_report):
    client = Client()
    client.force_login(leader_user)
    assert client.get(reverse("report-board", args=["liucheng", "2019-07"])).status_code == 200
    assert client.get(liucheng_report.get_absolute_url()).status_code == 200
