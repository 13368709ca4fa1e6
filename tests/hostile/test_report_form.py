"""Hostile input in the liaison's report form: every refusal says why in Chinese and saves nothing.

A report form saves all its entries or none, so each case checks the whole report (version,
state, events and every entry's content) before and after.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils.html import escape

from indicators.models import Indicator
from reports.models import Report
from tests.hostile.conftest import (
    IMG,
    SCRIPT,
    assert_nothing_live,
    assert_says_in_chinese,
    client_for,
    page_data,
    report_state,
)

pytestmark = pytest.mark.django_db

TOO_LONG = "长" * 100_000


def edit(client, report: Report, data: dict[str, str]):
    return client.post(reverse("report-edit", args=[report.pk]), data)


def amount_value(report: Report):
    return report.values.exclude(indicator__kind=Indicator.Kind.DELIVERABLE).first()


def percent_value(report: Report):
    return report.values.filter(indicator__unit="%").first()


# -- Free text ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["progress", "problems", "next_steps", "delay_reason", "measures"])
def test_a_100000_character_text_is_refused_with_the_limit_and_nothing_is_saved(
    liaison_client, report, item, name
):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-{name}"] = TOO_LONG
    response = edit(liaison_client, report, data)
    assert response.status_code == 200
    assert_says_in_chinese(response, "有 1 处填写有误,本次未保存", "最多5000字(现有100000字)")
    assert report_state(report) == before


def test_a_nul_byte_in_a_text_is_refused_and_nothing_is_saved(liaison_client, report, item):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-progress"] = "已完成\x00验收"
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "本次未保存")
    assert report_state(report) == before


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        # Word's manual line break (Shift+Enter) and page break arrive as \x0b and \x0c.
        ("第一段\x0b第二段", "第一段\n第二段"),
        ("第一页\x0c第二页", "第一页\n第二页"),
        ("行一\r\n行二\r行三", "行一\n行二\n行三"),
        ("Unicode 行分隔\u2028段\u2029落", "Unicode 行分隔\n段\n落"),
    ],
)
def test_line_breaks_pasted_from_word_are_kept_as_plain_line_breaks(
    liaison_client, report, item, typed, kept
):
    """Control characters would break the Excel export (XML refuses them): they are stored as
    the line breaks they stand for."""
    data = page_data(report)
    data[f"item-{item.pk}-progress"] = typed
    assert edit(liaison_client, report, data).status_code == 302
    item.refresh_from_db()
    assert item.progress == kept


def test_other_control_characters_are_refused(liaison_client, report, item):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-problems"] = "问题\x1b[31m红色\x07"
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "控制字符")
    assert report_state(report) == before


@pytest.mark.parametrize(
    "text",
    [SCRIPT, IMG, "javascript:alert(1)", "'; DROP TABLE plans_plan; --", "1 OR 1=1", "{{ 7*7 }}"],
)
def test_hostile_text_is_stored_as_typed_and_shown_escaped_everywhere(
    liaison_client, office_user, report, item, text
):
    data = page_data(report)
    for name in ("progress", "problems", "next_steps"):
        data[f"item-{item.pk}-{name}"] = f"{name}:{text}"
    value = amount_value(report)
    data[f"value-{value.pk}-note"] = f"note:{text}"
    assert edit(liaison_client, report, data).status_code == 302
    item.refresh_from_db()
    assert item.progress == f"progress:{text}"  # stored verbatim: escaping is the page's job

    office = client_for(office_user)
    pages = [
        liaison_client.get(reverse("report-detail", args=[report.pk])),
        office.get(reverse("report-detail", args=[report.pk])),
        office.get(reverse("report-history", args=[report.pk])),
    ]
    event = report.events.latest("at", "pk")
    pages.append(office.get(reverse("report-history", args=[report.pk]) + f"?v={event.pk}"))
    for response in pages:
        assert response.status_code == 200
        html = response.content.decode()
        assert_nothing_live(html)
        assert escape(f"progress:{text}") in html


# -- Numbers -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("三百", "请输入阿拉伯数字"),
        ("abc", "请输入阿拉伯数字"),
        ("NaN", "请输入阿拉伯数字"),
        ("Infinity", "请输入阿拉伯数字"),
        ("-Infinity", "请输入阿拉伯数字"),
        ("1e309", "请输入阿拉伯数字"),
        ("1E5", "请输入阿拉伯数字"),
        ("-5", "数值不能为负数"),
        ("−5", "数值不能为负数"),  # U+2212 minus sign
        ("١٢٣", "请输入阿拉伯数字"),  # Arabic-Indic digits
        ("१२३", "请输入阿拉伯数字"),  # Devanagari digits
        ("99999999999999999999", "数值过大"),
        ("9" * 100_000, "输入过长"),
        ("1' OR '1'='1", "请输入阿拉伯数字"),
        ("'; DROP TABLE plans_plan; --", "请输入阿拉伯数字"),
        (SCRIPT, "请输入阿拉伯数字"),
        ("12\x00", "本次未保存"),
        ("0x1F", "请输入阿拉伯数字"),
    ],
)
def test_a_value_that_is_not_a_number_is_refused_and_nothing_is_saved(
    liaison_client, report, typed, message
):
    value = amount_value(report)
    before = report_state(report)
    data = page_data(report)
    data[f"value-{value.pk}-value"] = typed
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "本次未保存", message)
    assert_nothing_live(response.content.decode())
    assert report_state(report) == before


def test_full_width_digits_are_read_as_the_number_they_are(liaison_client, report):
    value = amount_value(report)
    data = page_data(report)
    data[f"value-{value.pk}-value"] = "１，２００"
    assert edit(liaison_client, report, data).status_code == 302
    value.refresh_from_db()
    assert value.value == 1200


@pytest.mark.parametrize("typed", ["101", "150%", "１０１％", "100.01"])
def test_a_percentage_over_100_is_refused(liaison_client, report, typed):
    value = percent_value(report)
    if value is None:
        pytest.skip("县民政局 owns no percentage indicator in this plan")
    before = report_state(report)
    data = page_data(report)
    data[f"value-{value.pk}-value"] = typed
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "百分比应在0到100之间")
    assert report_state(report) == before


@pytest.mark.parametrize("typed", ["2", "-1", "done", "1.0", "完成"])
def test_a_deliverable_takes_only_done_or_not_done(liaison_client, report, typed):
    value = report.values.filter(indicator__kind=Indicator.Kind.DELIVERABLE).first()
    if value is None:
        pytest.skip("县民政局 owns no yes/no indicator in this plan")
    before = report_state(report)
    data = page_data(report)
    data[f"value-{value.pk}-value"] = typed
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "本次未保存")
    assert report_state(report) == before


# -- Dates and choices ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "message"),
    [
        ("2019-02-30", "日期"),
        ("2019-13-01", "日期"),
        ("0000-12-31", "日期"),
        ("9999-99-99", "日期"),
        ("99999-01-01", "日期"),
        ("2019-06-29", "预计完成日期不能早于报告期末"),
        ("1900-01-01", "预计完成日期不能早于报告期末"),
        (SCRIPT, "日期"),
        ("'; DROP TABLE plans_plan; --", "日期"),
    ],
)
def test_a_bad_expected_date_is_refused(liaison_client, report, item, typed, message):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-new_expected_date"] = typed
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "本次未保存", message)
    assert_nothing_live(response.content.decode())
    assert report_state(report) == before


@pytest.mark.parametrize("state", ["hacked", "DONE", SCRIPT, "in_progress' OR '1'='1"])
def test_a_state_outside_the_list_is_refused(liaison_client, report, item, state):
    before = report_state(report)
    data = page_data(report)
    data[f"item-{item.pk}-state"] = state
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "本次未保存")
    assert_nothing_live(response.content.decode())
    assert report_state(report) == before


# -- The form's own fields -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "sent"),
    [
        ("version", "abc"),
        ("version", "-1"),
        ("version", "1e309"),
        ("version", ""),
        ("action", "delete"),
        ("action", ""),
    ],
)
def test_a_tampered_version_or_action_is_answered_400_in_chinese(
    liaison_client, report, field, sent
):
    before = report_state(report)
    data = page_data(report)
    data[field] = sent
    response = edit(liaison_client, report, data)
    assert response.status_code == 400
    assert_says_in_chinese(response, "表单已失效")
    assert report_state(report) == before


def test_a_version_from_the_future_is_refused_as_stale(liaison_client, report):
    before = report_state(report)
    data = page_data(report)
    data["version"] = "9" * 400
    response = edit(liaison_client, report, data)
    assert_says_in_chinese(response, "您的修改未保存")
    assert report_state(report) == before


def test_a_stale_version_is_refused_and_keeps_the_newer_save(liaison_client, report, item):
    data = page_data(report)
    data[f"item-{item.pk}-progress"] = "第一次保存"
    assert edit(liaison_client, report, data).status_code == 302
    before = report_state(report)
    stale = dict(data)  # the same page, opened before the save above
    stale[f"item-{item.pk}-progress"] = "旧页面覆盖"
    response = edit(liaison_client, report, stale)
    assert_says_in_chinese(response, "您的修改未保存")
    assert report_state(report) == before
    item.refresh_from_db()
    assert item.progress == "第一次保存"


def test_entries_of_another_report_posted_into_this_form_are_ignored(
    liaison_client, other_liaison, report, item, period
):
    from plans.models import Department
    from reports import services

    other = services.report_open(
        period=period,
        department=Department.objects.get(pk=other_liaison.liaison.department_id),
        by=other_liaison,
    )
    foreign = other.items.first()
    before = report_state(other)
    data = page_data(report)
    data[f"item-{foreign.pk}-progress"] = "越权写入"
    data[f"item-{foreign.pk}-state"] = "done"
    assert edit(liaison_client, report, data).status_code == 302
    assert report_state(other) == before


def test_submitting_twice_is_refused_the_second_time(liaison_client, report, monkeypatch):
    from reports import services

    monkeypatch.setattr(services, "check_for_submission", lambda report: {})
    data = page_data(report, action="submit")
    assert edit(liaison_client, report, data).status_code == 302
    before = report_state(report)
    assert before[1] == Report.State.SUBMITTED
    response = liaison_client.post(reverse("report-edit", args=[report.pk]), data, follow=True)
    assert_says_in_chinese(response)
    assert report_state(report) == before
