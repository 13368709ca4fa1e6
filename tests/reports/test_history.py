"""A report's versions: what changed between two snapshots (pure), and the history page."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import reverse

from reports import services
from reports.history import Change, changes
from reports.models import Report, ReportingPeriod


def item(clause="二、(一)1", **fields) -> dict:
    base = {
        "task": clause,
        "title": "新建示范性养护机构",
        "role": "lead",
        "state": "",
        "progress": "",
        "problems": "",
        "next_steps": "",
        "delay_reason": "",
        "measures": "",
        "new_expected_date": None,
        "is_returned": False,
        "return_comment": "",
    }
    return {**base, **fields}


def value(code="new-beds", **fields) -> dict:
    base = {
        "indicator": code,
        "name": "新增养老床位",
        "unit": "张",
        "value": None,
        "note": "",
        "delay_reason": "",
        "measures": "",
        "new_expected_date": None,
        "is_returned": False,
        "return_comment": "",
    }
    return {**base, **fields}


def snap(state="draft", version=1, items=(), values=()) -> dict:
    return {"state": state, "version": version, "items": list(items), "values": list(values)}


# -- changes(): pure ------------------------------------------------------------------------------


def test_identical_snapshots_have_no_changes():
    s = snap(items=[item(progress="进行中")], values=[value(value="300")])
    assert changes(s, s) == []


def test_a_field_changed_is_listed_with_old_and_new():
    old = snap(items=[item(progress="选址中")])
    new = snap(items=[item(progress="已开工", state="in_progress")])
    assert changes(old, new) == [
        Change("item", "二、(一)1", "新建示范性养护机构", "state", "", "in_progress"),
        Change("item", "二、(一)1", "新建示范性养护机构", "progress", "选址中", "已开工"),
    ]


def test_values_are_compared_by_indicator_code():
    old = snap(values=[value("a", value="300"), value("b", value="20")])
    new = snap(values=[value("b", value="25"), value("a", value="300")])
    assert changes(old, new) == [Change("value", "b", "新增养老床位", "value", "20", "25")]


def test_items_are_compared_by_clause_not_position():
    old = snap(items=[item("一", progress="甲"), item("二", progress="乙")])
    new = snap(items=[item("二", progress="乙"), item("一", progress="甲!")])
    assert [(c.key, c.field, c.old, c.new) for c in changes(old, new)] == [
        ("一", "progress", "甲", "甲!")
    ]


def test_the_report_state_comes_first():
    old = snap(state="draft", items=[item(progress="甲")])
    new = snap(state="submitted", items=[item(progress="乙")])
    found = changes(old, new)
    assert found[0] == Change("report", "", "", "state", "draft", "submitted")
    assert found[0].field_label == "报告状态"
    assert (found[0].old_text, found[0].new_text) == ("草稿", "已报送")
    assert found[1].field == "progress"


def test_the_version_number_alone_is_not_a_change():
    assert changes(snap(version=1), snap(version=2)) == []


def test_a_first_version_compared_with_nothing_lists_only_what_is_filled_in():
    new = snap(items=[item(progress="已开工")], values=[value()])
    assert changes({}, new) == [
        Change("item", "二、(一)1", "新建示范性养护机构", "progress", None, "已开工")
    ]


def test_an_entry_that_disappeared_is_listed_against_nothing():
    old = snap(items=[item("一", progress="甲"), item("二", progress="乙")])
    new = snap(items=[item("一", progress="甲")])
    assert changes(old, new) == [Change("item", "二", "新建示范性养护机构", "progress", "乙", None)]


def test_a_return_mark_and_comment_are_changes():
    old = snap(values=[value(value="300")])
    new = snap(values=[value(value="300", is_returned=True, return_comment="请核实口径")])
    found = changes(old, new)
    assert [(c.field, c.old, c.new) for c in found] == [
        ("is_returned", False, True),
        ("return_comment", "", "请核实口径"),
    ]
    assert (found[0].old_text, found[0].new_text) == ("否", "是")


@pytest.mark.parametrize(
    ("field", "old", "new", "old_text", "new_text"),
    [
        ("state", "in_progress", "delayed", "推进中", "延期"),
        ("state", "", "done", "—", "已完成"),
        ("new_expected_date", None, "2019-12-31", "—", "2019-12-31"),
        ("state", "unknown", "done", "unknown", "已完成"),  # an old snapshot's retired choice
    ],
)
def test_values_read_as_the_page_shows_them(field, old, new, old_text, new_text):
    change = Change("item", "一", "", field, old, new)
    assert (change.old_text, change.new_text) == (old_text, new_text)


def test_field_labels_are_chinese():
    assert Change("item", "一", "", "delay_reason", "", "x").field_label == "滞后原因"
    assert Change("value", "a", "", "value", None, "1").field_label == "实际值"


def test_a_snapshot_without_lists_is_tolerated():
    assert changes({"state": "draft"}, {"state": "draft", "items": None}) == []


# -- The history page -----------------------------------------------------------------------------


@pytest.fixture
def report(liaison_user) -> Report:
    period = ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)
    return services.report_open(
        period=period, department=liaison_user.liaison.department, by=liaison_user
    )


def _save(report: Report, by, **items) -> Report:
    report.refresh_from_db()
    first = report.items.order_by("task__position").first()
    return services.report_save_draft(
        report=report, by=by, version=report.version, items={first.pk: items}, values={}
    )


@pytest.mark.django_db
def test_history_lists_every_version_newest_first_with_its_changes(client, liaison_user, report):
    _save(report, liaison_user, progress="选址中")
    _save(report, liaison_user, progress="已开工", state="in_progress")
    client.force_login(liaison_user)
    response = client.get(reverse("report-history", args=[report.pk]))
    assert response.status_code == 200
    versions = response.context["versions"]
    assert [v.event.version for v in versions] == [2, 1, 0]
    newest = versions[0].changes
    assert [(c.field, c.old, c.new) for c in newest] == [
        ("state", "", "in_progress"),
        ("progress", "选址中", "已开工"),
    ]
    assert [(c.field, c.new) for c in versions[1].changes] == [("progress", "选址中")]
    assert versions[2].changes == []
    content = response.content.decode()
    assert content.index("已开工") < content.index("创建报告。")
    assert "推进中" in content


@pytest.mark.django_db
def test_history_shows_one_versions_whole_content(client, liaison_user, report):
    _save(report, liaison_user, progress="第一版的进展")
    _save(report, liaison_user, progress="第二版的进展")
    event = report.events.get(version=1)
    client.force_login(liaison_user)
    response = client.get(reverse("report-history", args=[report.pk]), {"v": event.pk})
    assert response.context["shown"] == event
    section = response.content.decode().split('class="versions"')[0]
    assert "第一版的进展" in section and "第二版的进展" not in section


@pytest.mark.django_db
def test_history_is_not_shown_to_another_department(report, liaison_user, django_user_model):
    other = Client()
    other.force_login(django_user_model.objects.get(username="liaison2"))
    assert other.get(reverse("report-history", args=[report.pk])).status_code == 404


@pytest.mark.django_db
def test_history_shows_the_offices_return_with_its_comment(
    client, liaison_user, office_user, report
):
    report.refresh_from_db()
    first = report.items.order_by("task__position").first()
    report.items.update(state="in_progress", progress="已推进")
    report.values.update(value=1)
    for key in services.check_for_submission(report):
        kind, pk = key
        model = report.items if kind == "item" else report.values
        model.filter(pk=pk).update(
            delay_reason="原因", measures="措施", new_expected_date="2019-12-31"
        )
    report.refresh_from_db()
    services.report_submit(report=report, by=liaison_user, version=report.version)
    services.report_return_item(report=report, by=office_user, comment="请补充开工日期", item=first)
    client.force_login(liaison_user)
    response = client.get(reverse("report-history", args=[report.pk]))
    newest = response.context["versions"][0]
    assert newest.event.kind == "item_returned"
    assert [(c.key, c.field, c.new) for c in newest.changes] == [
        ("", "state", "returned"),
        (first.task.clause, "is_returned", True),
        (first.task.clause, "return_comment", "请补充开工日期"),
    ]
    assert "请补充开工日期" in response.content.decode()
