"""The reporting workflow (reports/services.py): what each step checks, changes and records."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.db import DatabaseError
from django.forms.models import model_to_dict

from indicators.models import Indicator, IndicatorDepartment, Measurement
from indicators.progress import Status
from reports import services
from reports.models import Report, ReportEvent, ReportingPeriod, ReportItem, ReportValue
from reports.rules import needs_delay_reason
from tasks.models import Task, TaskDepartment, TaskUpdate
from tasks.progress import TaskState
from tests.builders import make_department, make_plan, make_task

pytestmark = pytest.mark.django_db

HALF_2019 = dt.date(2019, 6, 30)


def period_of(code: str, year: int = 2019, kind: str = "half") -> ReportingPeriod:
    return ReportingPeriod.objects.select_related("plan").get(plan__code=code, kind=kind, year=year)


def good_value(indicator: Indicator) -> Decimal:
    """A value that is valid for the indicator's unit: its final target, or done."""
    if indicator.final_target is not None:
        return indicator.final_target
    milestones = [m.value for m in indicator.milestones.all()]
    return max(milestones) if milestones else Decimal(1)


def fill(report: Report, by, overrides: dict[str, Decimal] | None = None) -> Report:
    """Fill every entry the liaison may edit, completely and validly, and save the draft.

    Progress on every item, a state on lead items, a value for every value (its final target
    unless `overrides` gives one by indicator code), and a delay reason, measures and a new date
    wherever the status at the period's end calls for them.
    """
    overrides = overrides or {}
    report = Report.objects.select_related("period__plan").get(pk=report.pk)
    period = report.period
    editable_items, editable_values = services._editable_items(report)
    reason = {
        "delay_reason": "资金到位较晚",
        "measures": "已协调财政加快拨付",
        "new_expected_date": dt.date(2020, 6, 30),
    }
    items = {}
    for item in ReportItem.objects.filter(pk__in=[i.pk for i in editable_items]).select_related(
        "task__plan"
    ):
        entry = {
            "progress": f"{item.task.clause}:已按方案推进",
            "problems": "",
            "next_steps": "继续推进",
            "state": TaskState.IN_PROGRESS if item.role == TaskDepartment.Role.LEAD else "",
            "delay_reason": "",
            "measures": "",
            "new_expected_date": None,
        }
        item.state = entry["state"]
        if item.state and needs_delay_reason(services.item_status(item, period)):
            entry.update(reason)
        items[item.pk] = entry
    values = {}
    for value in ReportValue.objects.filter(pk__in=[v.pk for v in editable_values]).select_related(
        "indicator__plan"
    ):
        value.value = overrides.get(value.indicator.code, good_value(value.indicator))
        entry = {
            "value": value.value,
            "note": "据台账统计",
            "delay_reason": "",
            "measures": "",
            "new_expected_date": None,
        }
        if needs_delay_reason(services.value_status(value, period)):
            entry.update(reason)
        values[value.pk] = entry
    return services.report_save_draft(
        report=report, by=by, version=report.version, items=items, values=values
    )


@pytest.fixture
def period():
    return period_of("liucheng")


@pytest.fixture
def report(period, liaison_user):
    """The 2019 half-year report of 柳城县 县民政局, opened by its liaison."""
    return services.report_open(
        period=period, department=liaison_user.liaison.department, by=liaison_user
    )


@pytest.fixture
def submitted(report, liaison_user):
    report = fill(report, liaison_user)
    return services.report_submit(report=report, by=liaison_user, version=report.version)


def reload(report: Report) -> Report:
    return Report.objects.get(pk=report.pk)


def item_for(report: Report, clause: str) -> ReportItem:
    return report.items.get(task__clause=clause)


def value_for(report: Report, code: str) -> ReportValue:
    return report.values.get(indicator__code=code)


def kinds(report: Report) -> list[str]:
    return list(report.events.order_by("at", "pk").values_list("kind", flat=True))


# -- Opening -----------------------------------------------------------------------------------


def test_open_creates_one_item_per_task_and_one_value_per_indicator(report, period):
    department = report.department
    expected: dict[int, str] = {}
    leaf_links = TaskDepartment.objects.filter(
        department=department, task__plan=period.plan, task__subtasks__isnull=True
    )
    for task_id, role in leaf_links.values_list("task_id", "role"):
        if role == TaskDepartment.Role.LEAD or task_id not in expected:
            expected[task_id] = role
    indicators = set(
        IndicatorDepartment.objects.filter(
            department=department, indicator__plan=period.plan
        ).values_list("indicator_id", flat=True)
    )

    items = list(report.items.values_list("task_id", "role"))
    assert dict(items) == expected
    assert len(items) == len(expected) == 29  # 30 links; 二、(六)3 is led and supported
    assert {v.indicator_id for v in report.values.all()} == indicators
    assert report.values.count() == len(indicators) == 14
    assert report.state == Report.State.DRAFT
    assert report.version == 0
    assert kinds(report) == [ReportEvent.Kind.SAVED]


def test_a_department_both_leading_and_supporting_a_task_reports_once_as_lead(report):
    items = report.items.filter(task__clause="二、(六)3")
    assert [i.role for i in items] == [TaskDepartment.Role.LEAD]


def test_open_twice_returns_the_same_report(report, period, liaison_user):
    again = services.report_open(period=period, department=report.department, by=liaison_user)
    assert again.pk == report.pk
    assert again.items.count() == 29
    assert report.events.count() == 1


def test_xianyang_reports_on_rows_not_on_their_headings(office_user):
    period = period_of("xianyang")
    # The department on the most sub-item rows.
    rows = TaskDepartment.objects.filter(task__plan=period.plan, task__parent__isnull=False)
    department = max(
        {link.department for link in rows.select_related("department")},
        key=lambda d: rows.filter(department=d).count(),
    )
    report = services.report_open(period=period, department=department, by=office_user)
    tasks = Task.objects.filter(pk__in=report.items.values("task_id"))
    leaves = Task.objects.filter(plan=period.plan).leaves().for_department(department)
    assert set(tasks) == set(leaves)
    assert tasks.filter(parent__isnull=False).exists()
    assert not tasks.filter(subtasks__isnull=False).exists()


def test_a_heading_with_departments_is_not_reported_its_rows_are(office_user):
    plan = make_plan()
    lead, support = make_department(plan.jurisdiction), make_department(plan.jurisdiction)
    heading = make_task(plan, lead=[lead], support=[support])
    row1 = make_task(plan, parent=heading, lead=[lead])
    row2 = make_task(plan, parent=heading, support=[lead])
    make_task(plan, lead=[support])  # another department's task
    period = plan.periods.get(kind="half", year=2019)

    report = services.report_open(period=period, department=lead, by=office_user)

    assert dict(report.items.values_list("task_id", "role")) == {
        row1.pk: TaskDepartment.Role.LEAD,
        row2.pk: TaskDepartment.Role.SUPPORT,
    }
    assert heading.pk not in set(report.items.values_list("task_id", flat=True))


# -- Saving ------------------------------------------------------------------------------------


def test_save_draft_bumps_the_version_and_records_a_snapshot(report, liaison_user):
    item = item_for(report, "二、(一)1")
    beds = value_for(report, "new-beds")

    saved = services.report_save_draft(
        report=report,
        by=liaison_user,
        version=0,
        items={item.pk: {"progress": "新建养老床位项目已开工", "state": TaskState.IN_PROGRESS}},
        values={beds.pk: {"value": Decimal("520"), "note": "含民办"}},
    )

    assert saved.version == 1
    assert saved.updated_by == liaison_user
    item.refresh_from_db()
    beds.refresh_from_db()
    assert (item.progress, item.state) == ("新建养老床位项目已开工", TaskState.IN_PROGRESS)
    assert (beds.value, beds.note) == (Decimal("520"), "含民办")
    event = report.events.latest("pk")
    assert (event.kind, event.version, event.by) == (ReportEvent.Kind.SAVED, 1, liaison_user)
    snap_item = next(i for i in event.snapshot["items"] if i["task"] == "二、(一)1")
    snap_beds = next(v for v in event.snapshot["values"] if v["indicator"] == "new-beds")
    assert snap_item["progress"] == "新建养老床位项目已开工"
    assert snap_item["state"] == "in_progress"
    assert (Decimal(snap_beds["value"]), snap_beds["note"]) == (Decimal(520), "含民办")
    assert event.snapshot["version"] == 1


def test_snapshot_writes_numbers_the_way_people_read_them(report, liaison_user):
    beds = value_for(report, "new-beds")
    rate = value_for(report, "nursing-bed-share")
    services.report_save_draft(
        report=report,
        by=liaison_user,
        version=0,
        items={},
        values={beds.pk: {"value": Decimal("520.00")}, rate.pk: {"value": Decimal("52.50")}},
    )
    values = {v["indicator"]: v["value"] for v in report.events.latest("pk").snapshot["values"]}
    assert (values["new-beds"], values["nursing-bed-share"]) == ("520", "52.5")


def test_a_save_from_an_old_version_is_refused_and_changes_nothing(report, liaison_user):
    item = item_for(report, "二、(一)1")
    services.report_save_draft(
        report=report,
        by=liaison_user,
        version=0,
        items={item.pk: {"progress": "第一人"}},
        values={},
    )
    events = report.events.count()

    with pytest.raises(services.StaleReport) as error:
        services.report_save_draft(
            report=report,
            by=liaison_user,
            version=0,
            items={item.pk: {"progress": "第二人"}},
            values={},
        )

    assert "第 1 版" in error.value.message
    assert "民政局联络员" in error.value.message
    assert reload(report).version == 1
    item.refresh_from_db()
    assert item.progress == "第一人"
    assert report.events.count() == events


def test_a_filled_report_can_be_submitted(report, liaison_user):
    report = fill(report, liaison_user)
    assert services.check_for_submission(report) == {}


# -- Submitting --------------------------------------------------------------------------------


def test_submit_refuses_missing_entries_and_a_behind_value_without_reason(
    report, period, liaison_user
):
    report = fill(report, liaison_user)
    no_progress = item_for(report, "二、(一)1")
    no_state = item_for(report, "二、(一)3")
    support = item_for(report, "二、(一)2")
    no_value = value_for(report, "nursing-bed-share")
    beds = value_for(report, "new-beds")
    report = services.report_save_draft(
        report=report,
        by=liaison_user,
        version=report.version,
        items={
            no_progress.pk: {"progress": "  "},
            no_state.pk: {"state": ""},
            support.pk: {"state": ""},  # supporting departments need not give a state
        },
        values={
            no_value.pk: {"value": None},
            beds.pk: {"value": Decimal(100), "delay_reason": "", "measures": ""},
        },
    )
    beds.refresh_from_db()
    assert services.value_status(beds, period) == Status.BEHIND  # 100 of about 500 expected
    version, events = report.version, report.events.count()

    with pytest.raises(services.ReportInvalid) as error:
        services.report_submit(report=report, by=liaison_user, version=version)

    problems = error.value.problems
    assert set(problems) == {
        ("item", no_progress.pk),
        ("item", no_state.pk),
        ("value", no_value.pk),
        ("value", beds.pk),
    }
    assert problems[("item", no_progress.pk)] == ["请填写工作进展。"]
    assert problems[("item", no_state.pk)] == ["请选择任务进度。"]
    assert problems[("value", no_value.pk)] == ["请填写实际值。"]
    assert problems[("value", beds.pk)] == [
        "进度滞后:请说明滞后原因。",
        "进度滞后:请填写已采取的措施。",
        "进度滞后:请填写预计完成日期。",
    ]
    assert "4 处" in error.value.message
    report = reload(report)
    assert (report.state, report.version) == (Report.State.DRAFT, version)
    assert report.first_submitted_at is None
    assert report.events.count() == events


def test_a_behind_value_with_reason_measures_and_date_is_accepted(report, liaison_user):
    report = fill(report, liaison_user, overrides={"new-beds": Decimal(100)})
    beds = value_for(report, "new-beds")
    assert beds.delay_reason and beds.measures and beds.new_expected_date

    submitted = services.report_submit(report=report, by=liaison_user, version=report.version)

    assert submitted.state == Report.State.SUBMITTED


def test_submit_changes_state_and_records_the_submission(report, liaison_user):
    report = fill(report, liaison_user)

    submitted = services.report_submit(report=report, by=liaison_user, version=report.version)

    submitted = reload(submitted)
    assert submitted.state == Report.State.SUBMITTED
    assert submitted.version == report.version + 1
    assert submitted.submitted_by == liaison_user
    assert submitted.first_submitted_at == submitted.submitted_at is not None
    assert not submitted.is_editable
    event = submitted.events.latest("pk")
    assert (event.kind, event.version) == (ReportEvent.Kind.SUBMITTED, submitted.version)
    assert event.snapshot["state"] == "submitted"
    assert len(event.snapshot["items"]) == 29


def test_submit_twice_is_refused(submitted, liaison_user):
    with pytest.raises(services.ReportError, match="不能重复报送"):
        services.report_submit(report=submitted, by=liaison_user, version=submitted.version)
    assert reload(submitted).version == submitted.version


def test_submit_in_a_closed_period_is_refused(report, period, liaison_user):
    report = fill(report, liaison_user)
    period.is_open = False
    period.save(update_fields=["is_open"])

    with pytest.raises(services.ReportError, match="报告期已关闭"):
        services.report_submit(report=report, by=liaison_user, version=report.version)
    assert reload(report).state == Report.State.DRAFT


def test_a_closed_period_refuses_drafts_too(report, period, liaison_user):
    period.is_open = False
    period.save(update_fields=["is_open"])
    with pytest.raises(services.ReportError, match="不能修改"):
        services.report_save_draft(report=report, by=liaison_user, version=0, items={}, values={})


# -- The office's steps --------------------------------------------------------------------------


def test_return_sends_the_whole_report_back_with_a_comment(submitted, office_user):
    returned = services.report_return(report=submitted, by=office_user, comment=" 请补充数据 ")

    returned = reload(returned)
    assert returned.state == Report.State.RETURNED
    assert returned.version == submitted.version + 1
    assert returned.is_editable
    event = returned.events.latest("pk")
    assert (event.kind, event.comment, event.by) == (
        ReportEvent.Kind.RETURNED,
        "请补充数据",
        office_user,
    )
    assert event.snapshot["state"] == "returned"
    items, values = services._editable_items(returned)
    assert len(items) == 29 and len(values) == 14  # all of it is open again


def test_return_needs_a_comment_and_a_submitted_report(report, submitted, office_user):
    with pytest.raises(services.ReportError, match="请填写意见"):
        services.report_return(report=submitted, by=office_user, comment="  ")
    services.report_return(report=submitted, by=office_user, comment="退回")
    with pytest.raises(services.ReportError, match="只能退回已报送"):
        services.report_return(report=submitted, by=office_user, comment="再退回")


def test_return_item_marks_one_entry_and_records_its_clause(submitted, office_user):
    item = item_for(submitted, "二、(二)1")

    services.report_return_item(report=submitted, by=office_user, comment="进展过简", item=item)

    item.refresh_from_db()
    assert (item.is_returned, item.return_comment) == (True, "进展过简")
    assert reload(submitted).state == Report.State.RETURNED
    event = submitted.events.latest("pk")
    assert (event.kind, event.target, event.comment) == (
        ReportEvent.Kind.ITEM_RETURNED,
        "二、(二)1",
        "进展过简",
    )
    snap = next(i for i in event.snapshot["items"] if i["task"] == "二、(二)1")
    assert (snap["is_returned"], snap["return_comment"]) == (True, "进展过简")


def test_return_value_marks_one_value(submitted, office_user):
    beds = value_for(submitted, "new-beds")
    services.report_return_item(report=submitted, by=office_user, comment="请核实", value=beds)
    assert submitted.events.latest("pk").target == "new-beds"
    beds.refresh_from_db()
    assert beds.is_returned


def test_return_item_of_another_report_is_refused(submitted, office_user, period):
    other = services.report_open(
        period=period,
        department=period.plan.jurisdiction.departments.get(name="县卫生计生局"),
        by=office_user,
    )
    with pytest.raises(services.ReportError, match="找不到"):
        services.report_return_item(
            report=submitted, by=office_user, comment="x", item=other.items.first()
        )


def test_after_a_single_item_return_only_that_entry_is_editable(
    submitted, liaison_user, office_user
):
    returned_item = item_for(submitted, "二、(二)1")
    services.report_return_item(
        report=submitted, by=office_user, comment="进展过简", item=returned_item
    )
    report = reload(submitted)
    items, values = services._editable_items(report)
    assert [i.pk for i in items] == [returned_item.pk]
    assert values == []

    before = {i.pk: model_to_dict(i) for i in report.items.exclude(pk=returned_item.pk)}
    values_before = {v.pk: model_to_dict(v) for v in report.values.all()}
    services.report_save_draft(
        report=report,
        by=liaison_user,
        version=report.version,
        items={i.pk: {"progress": "全部改写", "state": TaskState.DONE} for i in report.items.all()},
        values={v.pk: {"value": Decimal(1), "note": "改"} for v in report.values.all()},
    )

    returned_item.refresh_from_db()
    assert returned_item.progress == "全部改写"
    assert {i.pk: model_to_dict(i) for i in report.items.exclude(pk=returned_item.pk)} == before
    assert {v.pk: model_to_dict(v) for v in report.values.all()} == values_before

    resubmitted = services.report_submit(report=report, by=liaison_user, version=report.version + 1)
    assert resubmitted.state == Report.State.SUBMITTED
    assert not report.items.filter(is_returned=True).exists()


def test_accept_writes_measurements_and_task_updates(submitted, office_user, liaison_user):
    existing = Measurement.objects.create(
        indicator=value_for(submitted, "new-beds").indicator,
        period_end=HALF_2019,
        value=Decimal(1),
        note="联席办此前录入",
    )
    updates_before = TaskUpdate.objects.count()

    accepted = services.report_accept(report=submitted, by=office_user)

    accepted = reload(accepted)
    assert accepted.state == Report.State.ACCEPTED
    assert accepted.accepted_by == office_user
    assert not accepted.is_editable
    for value in submitted.values.select_related("indicator", "measurement"):
        measurement = Measurement.objects.get(indicator=value.indicator, period_end=HALF_2019)
        assert measurement.value == value.value
        assert value.measurement == measurement
        assert measurement.entered_by == liaison_user
        assert "县民政局 2019年上半年" in measurement.note
    existing.refresh_from_db()
    assert existing.value == Decimal(1200)  # the report's value replaced the office's

    lead_items = submitted.items.filter(role=TaskDepartment.Role.LEAD)
    updates = TaskUpdate.objects.filter(task__in=lead_items.values("task"), as_of=HALF_2019)
    assert TaskUpdate.objects.count() == updates_before + lead_items.count()
    assert {(u.task_id, u.state, u.note) for u in updates} == {
        (i.task_id, i.state, i.progress) for i in lead_items
    }
    assert all(u.created_by == liaison_user for u in updates)
    support_tasks = submitted.items.filter(role=TaskDepartment.Role.SUPPORT).values("task")
    assert not TaskUpdate.objects.filter(task__in=support_tasks, as_of=HALF_2019).exists()
    event = accepted.events.latest("pk")
    assert (event.kind, event.by, event.snapshot["state"]) == (
        ReportEvent.Kind.ACCEPTED,
        office_user,
        "accepted",
    )


def test_only_a_submitted_report_can_be_accepted(report, office_user):
    with pytest.raises(services.ReportError, match="只能采纳已报送"):
        services.report_accept(report=report, by=office_user)


def test_reopen_returns_an_accepted_report_with_a_reason(submitted, office_user):
    with pytest.raises(services.ReportError, match="只能重新开放已采纳"):
        services.report_reopen(report=submitted, by=office_user, comment="数据有误")
    services.report_accept(report=submitted, by=office_user)
    with pytest.raises(services.ReportError, match="请填写意见"):
        services.report_reopen(report=submitted, by=office_user, comment="")

    reopened = reload(services.report_reopen(report=submitted, by=office_user, comment="数据有误"))

    assert reopened.state == Report.State.RETURNED
    assert reopened.is_editable
    event = reopened.events.latest("pk")
    assert (event.kind, event.comment) == (ReportEvent.Kind.REOPENED, "数据有误")
    assert kinds(reopened)[-3:] == ["submitted", "accepted", "reopened"]


def test_a_comment_is_recorded_and_changes_nothing_else(submitted, leader_user):
    before = model_to_dict(reload(submitted))

    event = services.report_comment(report=submitted, by=leader_user, comment="请加快进度")

    assert (event.kind, event.by, event.comment) == (
        ReportEvent.Kind.COMMENTED,
        leader_user,
        "请加快进度",
    )
    assert event.version == submitted.version
    assert model_to_dict(reload(submitted)) == before
    with pytest.raises(services.ReportError, match="请填写批示内容"):
        services.report_comment(report=submitted, by=leader_user, comment=" ")


# -- Every version is kept -----------------------------------------------------------------------


def test_every_submitted_version_is_kept(submitted, liaison_user, office_user):
    item = item_for(submitted, "二、(一)1")
    first_progress = item.progress
    services.report_return(report=submitted, by=office_user, comment="请补充")
    report = reload(submitted)
    report = services.report_save_draft(
        report=report,
        by=liaison_user,
        version=report.version,
        items={item.pk: {"progress": "第二版进展"}},
        values={value_for(report, "new-beds").pk: {"value": Decimal(1300)}},
    )
    services.report_submit(report=report, by=liaison_user, version=report.version)

    first, second = ReportEvent.objects.filter(report=report, kind=ReportEvent.Kind.SUBMITTED)
    assert first.version < second.version

    def snap(event, clause, code):
        i = next(x for x in event.snapshot["items"] if x["task"] == clause)
        v = next(x for x in event.snapshot["values"] if x["indicator"] == code)
        return i["progress"], Decimal(v["value"])

    assert snap(first, "二、(一)1", "new-beds") == (first_progress, Decimal(1200))
    assert snap(second, "二、(一)1", "new-beds") == ("第二版进展", Decimal(1300))
    versions = list(report.events.order_by("pk").values_list("version", flat=True))
    assert versions == sorted(versions)
    assert reload(report).first_submitted_at == reload(submitted).first_submitted_at


# -- All or nothing ------------------------------------------------------------------------------


def fail_on_call(n: int, real=None):
    """A stand-in that raises DatabaseError on its n-th call (and calls `real` before)."""
    calls = {"n": 0}

    def stand_in(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] >= n:
            raise DatabaseError("forced failure")
        return real(*args, **kwargs)

    return stand_in


def state_of(report: Report) -> dict:
    report = reload(report)
    return {
        "report": model_to_dict(report),
        "events": report.events.count(),
        "returned": sorted(report.items.filter(is_returned=True).values_list("pk", flat=True)),
        "measurements": Measurement.objects.filter(period_end=HALF_2019).count(),
        "updates": TaskUpdate.objects.count(),
    }


def test_a_failure_while_submitting_leaves_nothing_half_written(
    submitted, liaison_user, office_user, monkeypatch
):
    item = item_for(submitted, "二、(二)1")
    services.report_return_item(report=submitted, by=office_user, comment="补充", item=item)
    before = state_of(submitted)
    assert before["returned"] == [item.pk]
    monkeypatch.setattr(services, "_record", fail_on_call(1))

    with pytest.raises(DatabaseError):
        services.report_submit(
            report=submitted, by=liaison_user, version=before["report"]["version"]
        )

    assert state_of(submitted) == before


def test_a_failure_while_accepting_leaves_nothing_half_written(submitted, office_user, monkeypatch):
    before = state_of(submitted)
    real = Measurement.objects.update_or_create
    monkeypatch.setattr(Measurement.objects, "update_or_create", fail_on_call(2, real))

    with pytest.raises(DatabaseError):
        services.report_accept(report=submitted, by=office_user)

    assert state_of(submitted) == before
    assert not submitted.values.filter(measurement__isnull=False).exists()


def test_a_failure_at_the_last_step_of_accepting_leaves_nothing_either(
    submitted, office_user, monkeypatch
):
    before = state_of(submitted)
    monkeypatch.setattr(services, "_record", fail_on_call(1))

    with pytest.raises(DatabaseError):
        services.report_accept(report=submitted, by=office_user)

    assert state_of(submitted) == before
