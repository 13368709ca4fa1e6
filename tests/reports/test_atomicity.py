"""A database error in the middle of a workflow step leaves nothing half-written.

Each test lets a step write some rows, then makes the next write fail with DatabaseError, and
compares every row of every table with what was there before the step began.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.apps import apps
from django.db import DatabaseError
from django.test import Client
from django.urls import reverse

from indicators.models import Indicator, Measurement
from plans.models import Department
from reports import services
from reports.models import Report, ReportEvent, ReportingPeriod
from tasks.models import TaskUpdate
from tasks.progress import TaskState
from tests.reports.test_liaison import page_data

pytestmark = pytest.mark.django_db

# Logging in and showing a message write to these; they are not the report's data.
NOT_DATA = {"django_session", "axes_accesslog", "axes_accessattempt"}


def all_rows() -> dict[str, list[tuple]]:
    """Every row of every table, in primary-key order."""
    rows = {}
    for model in apps.get_models():
        table = model._meta.db_table
        if table in NOT_DATA:
            continue
        names = [f.attname for f in model._meta.concrete_fields]
        rows[table] = list(model._default_manager.order_by("pk").values_list(*names))
    return rows


def fail_on(monkeypatch, kind: str) -> None:
    """Make recording an event of `kind` fail, as a lost connection or full disk would."""
    record = services._record

    def failing(report, event_kind, *args, **kwargs):
        if event_kind == kind:
            raise DatabaseError("disk I/O error (forced by the test)")
        return record(report, event_kind, *args, **kwargs)

    monkeypatch.setattr(services, "_record", failing)


def fill(report: Report, by) -> Report:
    """Everything a submission needs, with a reason for delay wherever one could be asked."""
    reason = {
        "delay_reason": "资金未及时到位。",
        "measures": "已协调财政局加快拨付。",
        "new_expected_date": dt.date(2019, 12, 31),
    }
    items = {
        item.pk: {"state": TaskState.IN_PROGRESS, "progress": "已完成年度任务的一半。", **reason}
        for item in report.items.all()
    }
    values = {
        value.pk: {
            "value": Decimal(1 if value.indicator.kind == Indicator.Kind.DELIVERABLE else 10),
            **reason,
        }
        for value in report.values.select_related("indicator")
    }
    return services.report_save_draft(
        report=report, by=by, version=report.version, items=items, values=values
    )


@pytest.fixture
def report(liaison_user) -> Report:
    """柳城县县民政局's half-year 2019 report, filled in as a draft."""
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    department = Department.objects.get(jurisdiction__name="柳城县", name="县民政局")
    report = services.report_open(period=period, department=department, by=liaison_user)
    return fill(report, liaison_user)


@pytest.fixture
def returned_report(report, liaison_user, office_user) -> Report:
    """Submitted, then one item returned by the office, then corrected by the liaison."""
    report = services.report_submit(report=report, by=liaison_user, version=report.version)
    item = report.items.order_by("pk").first()
    report = services.report_return_item(report=report, by=office_user, comment="请补充", item=item)
    return fill(report, liaison_user)


def test_a_failed_submission_writes_nothing(report, liaison_user, monkeypatch):
    before = all_rows()
    fail_on(monkeypatch, ReportEvent.Kind.SUBMITTED)

    with pytest.raises(DatabaseError):
        services.report_submit(report=report, by=liaison_user, version=report.version)

    # The state, dates and version were saved before the event failed: all rolled back.
    assert all_rows() == before
    assert Report.objects.get(pk=report.pk).state == Report.State.DRAFT


def test_a_failed_resubmission_keeps_the_returned_item_marked(
    returned_report, liaison_user, monkeypatch
):
    assert returned_report.items.filter(is_returned=True).exists()
    before = all_rows()
    fail_on(monkeypatch, ReportEvent.Kind.SUBMITTED)

    with pytest.raises(DatabaseError):
        services.report_submit(
            report=returned_report, by=liaison_user, version=returned_report.version
        )

    assert all_rows() == before
    assert returned_report.items.filter(is_returned=True).exists()


def test_a_failed_acceptance_leaves_no_measurement_task_update_or_history(
    report, liaison_user, office_user, monkeypatch
):
    report = services.report_submit(report=report, by=liaison_user, version=report.version)
    before = all_rows()
    measurements = Measurement.objects.count()
    fail_on(monkeypatch, ReportEvent.Kind.ACCEPTED)

    with pytest.raises(DatabaseError):
        services.report_accept(report=report, by=office_user)

    assert all_rows() == before
    # The step had values to write and lead items to record before the event failed.
    assert report.values.filter(value__isnull=False).exists()
    assert report.items.filter(role="lead").exists()
    assert Measurement.objects.count() == measurements
    assert not Measurement.history.filter(history_date__gte=report.submitted_at).exists()
    assert not TaskUpdate.objects.filter(created_at__gte=report.submitted_at).exists()


def test_the_report_page_says_the_submission_failed_instead_of_a_500(
    report, liaison_user, monkeypatch
):
    client = Client()
    client.force_login(liaison_user)
    url = reverse("report-edit", args=[report.pk])
    fail_on(monkeypatch, ReportEvent.Kind.SUBMITTED)

    response = client.post(url, page_data(report, action="submit"), follow=True)

    assert response.status_code == 200
    texts = [str(m) for m in response.context["messages"]]
    assert any("报送失败,请重试" in t for t in texts), texts
    report.refresh_from_db()
    assert report.state == Report.State.DRAFT
    assert not report.events.filter(kind=ReportEvent.Kind.SUBMITTED).exists()
