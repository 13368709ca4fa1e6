"""The liaison's side of the half-year and full-year reports: open, fill in, save, submit."""

from __future__ import annotations

import datetime as dt
import shutil
from decimal import Decimal

import pytest
from django.conf import settings
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from indicators.models import Indicator, IndicatorDepartment, Measurement
from reports import services
from reports.forms import ReportForm
from reports.models import Report, ReportEvent, ReportingPeriod, ReportItem, ReportValue
from tasks.models import Deliverable, Task, TaskDepartment
from tests.builders import make_indicator, make_section, make_task

pytestmark = pytest.mark.django_db

START_URL = "/plans/liucheng/reports/2019-07/mine/"
DELAY = {
    "delay_reason": "资金未及时到位。",
    "measures": "已协调财政局加快拨付。",
    "new_expected_date": "2019-12-31",
}


# -- Set-up ------------------------------------------------------------------------------------


@pytest.fixture
def liaison_client(client, liaison_user):
    client.force_login(liaison_user)
    return client


@pytest.fixture
def liaison2_client(django_user_model):
    """The liaison of 柳城县卫生计生局: another department of the same county."""
    other = Client()
    other.force_login(django_user_model.objects.get(username="liaison2"))
    return other


@pytest.fixture
def office_browser(office_user):
    """Office staff in a browser of their own (`office_client` shares `client`)."""
    other = Client()
    other.force_login(office_user)
    return other


@pytest.fixture
def leader_client(leader_user):
    other = Client()
    other.force_login(leader_user)
    return other


def half_2019() -> ReportingPeriod:
    return ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)


def detail_url(report: Report) -> str:
    return reverse("report-detail", args=[report.pk])


def edit_url(report: Report) -> str:
    return reverse("report-edit", args=[report.pk])


def history_url(report: Report) -> str:
    return reverse("report-history", args=[report.pk])


def open_report(client) -> Report:
    response = client.post(START_URL)
    assert response.status_code == 302
    report = Report.objects.get(period=half_2019(), department__name="县民政局")
    assert response["Location"] == detail_url(report)
    return report


@pytest.fixture
def report(liaison_client) -> Report:
    return open_report(liaison_client)


def page_data(source: Report | HttpResponse, action: str = "save") -> dict[str, str]:
    """What the browser would send back from the page as it is: every input of the form.

    From a response, the form the page showed; from a report, the same form built directly
    (rendering a whole report costs a few hundred milliseconds).
    """
    if isinstance(source, Report):
        source.refresh_from_db()
        items, values = services._editable_items(source)
        form = ReportForm(report=source, items=items, values=values)
    else:
        form = source.context["form"]
    assert form is not None, "the page shows no form"
    data = {"version": str(form.action["version"].value()), "action": action}
    for entry_form in form.entry_forms():
        for field in entry_form:
            value = field.value()
            if isinstance(value, dt.date):
                value = value.isoformat()
            data[field.html_name] = "" if value is None else str(value)
    return data


def filled(report: Report, data: dict[str, str]) -> dict[str, str]:
    """Fill in every editable entry the way a careful liaison would, without delay reasons."""
    for item in report.items.all():
        if f"item-{item.pk}-state" in data:
            data[f"item-{item.pk}-state"] = "in_progress"
            data[f"item-{item.pk}-progress"] = f"{item.task.clause}:已完成年度任务的一半。"
    for value in report.values.select_related("indicator"):
        if f"value-{value.pk}-value" in data:
            deliverable = value.indicator.kind == Indicator.Kind.DELIVERABLE
            data[f"value-{value.pk}-value"] = "1" if deliverable else "10"
    return data


def with_delay_reasons(data: dict[str, str], problems) -> dict[str, str]:
    for kind, pk in problems:
        for name, text in DELAY.items():
            data[f"{kind}-{pk}-{name}"] = text
    return data


def post(client, report: Report, data: dict[str, str], *, follow: bool = False, **overrides):
    return client.post(edit_url(report), {**data, **overrides}, follow=follow)


def snapshot(report: Report) -> dict:
    report.refresh_from_db()
    return services.snapshot(report)


def messages_of(response) -> list[str]:
    return [str(m) for m in response.context["messages"]]


def entry(response, kind: str, pk: int):
    entries = response.context["item_entries" if kind == "item" else "value_entries"]
    return next(e for e in entries if e.obj.pk == pk)


def submit_cleanly(client, report: Report):
    """Fill in everything, with reasons where the engine says behind, and submit."""
    data = filled(report, page_data(report, action="save"))
    assert post(client, report, data).status_code == 302
    report.refresh_from_db()
    data = with_delay_reasons(data, services.check_for_submission(report))
    response = post(client, report, data, version=str(report.version), action="submit")
    assert response.status_code == 302, response.context and messages_of(response)
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED
    return report


# -- My reports ----------------------------------------------------------------------------------


def test_liaison_home_lists_open_periods_and_department_tasks(liaison_client, liaison_user):
    response = liaison_client.get(reverse("report-home"))
    assert response.status_code == 200
    periods = [row.period for row in response.context["rows"]]
    # Liucheng is the only plan 县民政局 works on; its six periods are all open.
    assert periods == list(
        ReportingPeriod.objects.filter(plan__code="liucheng").order_by("period_end")
    )
    assert all(row.report is None for row in response.context["rows"])
    content = response.content.decode()
    assert "2019年上半年" in content and "未开始" in content
    assert START_URL in content
    department = liaison_user.liaison.department
    lead = TaskDepartment.objects.filter(department=department, role="lead").count()
    assert len(response.context["progress"].lead) == lead
    assert response.context["progress"].lead[0].status is not None


def test_liaison_home_shows_the_report_once_started(liaison_client, report):
    rows = liaison_client.get(reverse("report-home")).context["rows"]
    row = next(r for r in rows if r.period == half_2019())
    assert row.report == report
    assert "继续填报" in liaison_client.get(reverse("report-home")).content.decode()


@pytest.mark.parametrize("username", ["office", "leader"])
def test_office_and_leaders_are_sent_to_the_home_page(client, django_user_model, username):
    client.force_login(django_user_model.objects.get(username=username))
    response = client.get(reverse("report-home"))
    assert response.status_code == 302
    assert response["Location"] == reverse("home")


def test_anonymous_users_are_sent_to_log_in(client, report):
    client.logout()
    for url in [reverse("report-home"), detail_url(report), history_url(report), START_URL]:
        response = client.get(url)
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("login"))
    # A session that timed out while typing comes back to the report, not to the POST URL.
    response = client.post(edit_url(report), {"version": "0", "action": "save"})
    assert response.status_code == 302
    assert response["Location"] == f"{reverse('login')}?next={detail_url(report)}"


# -- Opening a report ------------------------------------------------------------------------------


def test_opening_creates_one_item_per_task_and_one_value_per_indicator(
    liaison_client, liaison_user
):
    report = open_report(liaison_client)
    department = liaison_user.liaison.department
    leaf = Task.objects.filter(plan__code="liucheng").leaves()
    expected_tasks = set(
        TaskDepartment.objects.filter(department=department, task__in=leaf).values_list(
            "task_id", flat=True
        )
    )
    expected_indicators = set(
        IndicatorDepartment.objects.filter(
            department=department, indicator__plan__code="liucheng"
        ).values_list("indicator_id", flat=True)
    )
    assert set(report.items.values_list("task_id", flat=True)) == expected_tasks
    assert report.items.count() == len(expected_tasks)
    assert set(report.values.values_list("indicator_id", flat=True)) == expected_indicators
    assert report.values.count() == len(expected_indicators)

    response = liaison_client.get(detail_url(report))
    assert response.status_code == 200
    assert len(response.context["item_entries"]) == len(expected_tasks)
    assert len(response.context["value_entries"]) == len(expected_indicators)
    content = response.content.decode()
    for task in Task.objects.filter(pk__in=expected_tasks):
        assert task.clause in content
    # Lead or support as the plan says it.
    for item in report.items.all():
        roles = set(
            TaskDepartment.objects.filter(task=item.task, department=department).values_list(
                "role", flat=True
            )
        )
        assert item.role in roles


def test_opening_twice_gives_the_same_report(liaison_client):
    first = open_report(liaison_client)
    second = open_report(liaison_client)
    assert first == second
    assert Report.objects.filter(period=half_2019(), department=first.department).count() == 1


def test_get_on_start_creates_nothing(liaison_client):
    response = liaison_client.get(START_URL)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("report-home"))
    assert not Report.objects.exists()


def test_get_on_start_continues_an_open_report(liaison_client, report):
    response = liaison_client.get(START_URL)
    assert response["Location"] == detail_url(report)


@pytest.mark.parametrize(
    "url",
    [
        "/plans/liucheng/reports/2019-08/mine/",
        "/plans/liucheng/reports/2030-07/mine/",
        "/plans/liucheng/reports/nonsense/mine/",
        "/plans/nowhere/reports/2019-07/mine/",
        "/plans/panjin/reports/2019-07/mine/",  # 县民政局 of 柳城县 has nothing in Panjin's plan
    ],
)
def test_start_answers_404_for_a_period_the_department_does_not_report(liaison_client, url):
    assert liaison_client.post(url).status_code == 404
    assert not Report.objects.exists()


@pytest.mark.parametrize("username", ["office", "leader"])
def test_only_liaisons_start_reports(client, django_user_model, username):
    client.force_login(django_user_model.objects.get(username=username))
    assert client.post(START_URL).status_code == 403
    assert not Report.objects.exists()


def test_a_closed_period_cannot_be_started(liaison_client, office_user):
    services.period_update(period=half_2019(), by=office_user, is_open=False)
    response = liaison_client.post(START_URL, follow=True)
    assert "报告期已关闭" in response.content.decode()
    assert not Report.objects.exists()


# -- Saving and submitting ------------------------------------------------------------------------


def test_save_draft_keeps_what_was_typed(liaison_client, report):
    data = page_data(liaison_client.get(detail_url(report)))
    item, value = report.items.first(), report.values.get(indicator__code="new-beds")
    data[f"item-{item.pk}-state"] = "in_progress"
    data[f"item-{item.pk}-progress"] = "已选址,完成可研。\r\n正在招标。"
    data[f"value-{value.pk}-value"] = "1,200"
    response = post(liaison_client, report, data)
    assert response.status_code == 302
    assert response["Location"] == detail_url(report)
    item.refresh_from_db()
    value.refresh_from_db()
    assert item.state == "in_progress"
    assert item.progress == "已选址,完成可研。\n正在招标。"
    assert value.value == Decimal("1200")
    report.refresh_from_db()
    assert (report.state, report.version) == (Report.State.DRAFT, 1)
    assert report.events.last().kind == ReportEvent.Kind.SAVED
    page = liaison_client.get(response["Location"])
    assert "草稿已保存。" in messages_of(page)
    assert page.context["form"].action["version"].value() == 1


def test_values_are_read_as_people_type_them(liaison_client, report):
    data = page_data(report)
    beds = report.values.get(indicator__code="new-beds")
    rate = report.values.get(indicator__code="nursing-bed-share")
    centre = report.values.get(indicator__code="smart-care-centre")
    data[f"value-{beds.pk}-value"] = " ６５０ "
    data[f"value-{rate.pk}-value"] = "35%"
    data[f"value-{centre.pk}-value"] = "1"
    assert post(liaison_client, report, data).status_code == 302
    values = dict(report.values.values_list("indicator__code", "value"))
    assert values["new-beds"] == Decimal("650")
    assert values["nursing-bed-share"] == Decimal("35")
    assert values["smart-care-centre"] == Decimal("1")


def test_submit_refuses_missing_reasons_keeps_the_draft_and_shows_each_problem(
    liaison_client, report
):
    data = filled(report, page_data(report, action="submit"))
    lead = report.items.filter(role="lead").first()
    data[f"item-{lead.pk}-state"] = "delayed"  # behind: needs a reason, measures and a date

    response = post(liaison_client, report, data)
    assert response.status_code == 200
    report.refresh_from_db()
    assert report.state == Report.State.DRAFT
    assert report.version == 1  # the draft was saved: nothing typed is lost
    lead.refresh_from_db()
    assert lead.state == "delayed"
    assert report.events.filter(kind=ReportEvent.Kind.SAVED).count() == 2
    assert not report.events.filter(kind=ReportEvent.Kind.SUBMITTED).exists()

    problems = services.check_for_submission(report)
    assert ("item", lead.pk) in problems
    shown = entry(response, "item", lead.pk)
    assert shown.problems == problems[("item", lead.pk)]
    assert "进度滞后:请说明滞后原因。" in shown.problems
    assert shown.needs_reason
    for (kind, pk), found in problems.items():
        assert entry(response, kind, pk).problems == found
    # The message stands inside the entry's own card.
    content = response.content.decode()
    card = content[content.index(f'id="item-{lead.pk}"') :]
    card = card[: card.index("</article>")]
    assert "进度滞后:请说明滞后原因。" in card
    assert 'aria-required="true"' in card
    assert any("需要补充" in m for m in messages_of(response))
    # The page goes on from the saved version.
    assert response.context["form"].action["version"].value() == 1


def test_submit_with_reasons_where_the_engine_says_behind(liaison_client, report):
    data = filled(report, page_data(report, action="submit"))
    lead = report.items.filter(role="lead").first()
    data[f"item-{lead.pk}-state"] = "delayed"
    post(liaison_client, report, data)
    report.refresh_from_db()
    problems = services.check_for_submission(report)
    assert problems, "the seed data has entries behind at mid-2019"

    data = with_delay_reasons(data, problems)
    response = post(liaison_client, report, data, version=str(report.version))
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED
    assert report.submitted_by.username == "liaison"
    assert report.first_submitted_at is not None
    lead.refresh_from_db()
    assert (lead.delay_reason, lead.new_expected_date) == (
        DELAY["delay_reason"],
        dt.date(2019, 12, 31),
    )
    page = liaison_client.get(detail_url(report))
    assert "报告已报送。" in messages_of(page)
    assert page.context["form"] is None
    assert edit_url(report) not in page.content.decode()


def test_the_page_asks_for_reasons_where_the_typed_state_is_behind(liaison_client, report):
    data = page_data(report)
    lead = report.items.filter(role="lead").first()
    data[f"item-{lead.pk}-state"] = "delayed"
    post(liaison_client, report, data)
    shown = entry(liaison_client.get(detail_url(report)), "item", lead.pk)
    assert shown.needs_reason and shown.show_delay
    other = (
        report.items.filter(role="lead")
        .exclude(pk=lead.pk)
        .exclude(task__deliverables__isnull=False)[0]
    )
    assert not entry(liaison_client.get(detail_url(report)), "item", other.pk).needs_reason


def test_cannot_submit_twice(liaison_client, report):
    submit_cleanly(liaison_client, report)
    before = snapshot(report)
    response = liaison_client.post(
        edit_url(report), {"version": str(report.version), "action": "submit"}, follow=True
    )
    assert "此报告已报送,不能重复报送。" in messages_of(response)
    assert snapshot(report) == before
    assert report.events.filter(kind=ReportEvent.Kind.SUBMITTED).count() == 1


def test_cannot_edit_after_submitting(liaison_client, report):
    submit_cleanly(liaison_client, report)
    before = snapshot(report)
    item = report.items.first()
    response = liaison_client.post(
        edit_url(report),
        {
            "version": str(report.version),
            "action": "save",
            f"item-{item.pk}-progress": "改过的内容",
            f"item-{item.pk}-state": "done",
        },
        follow=True,
    )
    assert any("不能修改" in m for m in messages_of(response))
    assert snapshot(report) == before
    assert response.context["form"] is None


def test_a_closed_period_refuses_submission(liaison_client, report, office_user):
    data = filled(report, page_data(report, action="save"))
    post(liaison_client, report, data)
    report.refresh_from_db()
    data = with_delay_reasons(data, services.check_for_submission(report))
    post(liaison_client, report, data, version=str(report.version))
    report.refresh_from_db()
    services.period_update(period=report.period, by=office_user, is_open=False)
    before = snapshot(report)

    response = post(
        liaison_client, report, data, version=str(report.version), action="submit", follow=True
    )
    assert any("报告期已关闭" in m for m in messages_of(response))
    assert snapshot(report) == before
    assert report.state == Report.State.DRAFT
    assert response.context["form"] is None  # read-only now


def test_a_stale_version_is_refused_with_who_saved_and_nothing_changes(liaison_client, report):
    data = page_data(report)
    item = report.items.first()
    # Another tab saves first.
    other = dict(data)
    other[f"item-{item.pk}-progress"] = "另一个窗口保存的内容"
    assert post(liaison_client, report, other).status_code == 302
    before = snapshot(report)

    data[f"item-{item.pk}-progress"] = "我在这个窗口填写的内容"
    response = post(liaison_client, report, data, action="submit")
    assert response.status_code == 200
    assert snapshot(report) == before
    assert report.state == Report.State.DRAFT
    content = response.content.decode()
    assert "民政局联络员" in response.context["stale"]  # who saved
    assert "第 1 版" in response.context["stale"]
    assert response.context["stale"] in content
    assert "我在这个窗口填写的内容" in content  # kept in the form, to copy
    # The form still carries the old version: saving it again is refused again.
    assert response.context["form"].action["version"].value() == "0"
    again = post(liaison_client, report, data)
    assert again.status_code == 200 and again.context["stale"]
    assert snapshot(report) == before


def test_a_date_before_the_period_end_is_refused(liaison_client, report):
    data = page_data(report)
    item = report.items.first()
    data[f"item-{item.pk}-new_expected_date"] = "2019-01-01"
    response = post(liaison_client, report, data)
    assert response.status_code == 200
    errors = response.context["form"].items[item.pk].errors["new_expected_date"]
    assert errors == ["预计完成日期不能早于报告期末(2019-06-30)。"]
    report.refresh_from_db()
    assert report.version == 0


# -- Who may do what ------------------------------------------------------------------------------


def test_another_departments_liaison_cannot_see_or_change_the_report(
    liaison_client, liaison2_client, report
):
    data = filled(report, page_data(report))
    before = snapshot(report)
    assert liaison2_client.get(detail_url(report)).status_code == 404
    assert liaison2_client.get(history_url(report)).status_code == 404
    assert liaison2_client.post(edit_url(report), data).status_code == 404
    assert liaison2_client.post(edit_url(report), {**data, "action": "submit"}).status_code == 404
    assert snapshot(report) == before


def test_office_and_leaders_read_the_report_but_cannot_edit_it(
    office_browser, leader_client, liaison_client, report
):
    data = filled(report, page_data(report))
    before = snapshot(report)
    for client in (office_browser, leader_client):
        response = client.get(detail_url(report))
        assert response.status_code == 200
        assert response.context["form"] is None
        assert response.context["show_review"]
        assert client.get(history_url(report)).status_code == 200
        assert client.post(edit_url(report), data).status_code == 403
    assert snapshot(report) == before
    assert liaison_client.get(detail_url(report)).context["show_review"] is False


def test_edit_takes_only_post(liaison_client, report):
    assert liaison_client.get(edit_url(report)).status_code == 405


def test_a_tampered_form_is_refused(liaison_client, report):
    before = snapshot(report)
    for data in [
        {"action": "save"},
        {"version": "x", "action": "save"},
        {"version": "0", "action": "x"},
    ]:
        assert liaison_client.post(edit_url(report), data).status_code == 400
    assert snapshot(report) == before


# -- Hostile input --------------------------------------------------------------------------------


def test_a_very_long_text_is_refused_and_nothing_saved(liaison_client, report):
    data = page_data(report)
    item = report.items.first()
    data[f"item-{item.pk}-progress"] = "长" * 100_000
    data[f"item-{item.pk}-state"] = "done"
    before = snapshot(report)
    response = post(liaison_client, report, data)
    assert response.status_code == 200
    assert response.context["form"].items[item.pk].errors["progress"] == [
        "最多5000字(现有100000字)。"
    ]
    assert snapshot(report) == before
    assert any("本次未保存" in m for m in messages_of(response))


def test_text_at_the_limit_with_browser_line_breaks_is_accepted(liaison_client, report):
    data = page_data(report)
    item = report.items.first()
    text = ("甲" * 99 + "\r\n") * 50  # 5,000 characters once line breaks are one character
    data[f"item-{item.pk}-progress"] = text
    assert post(liaison_client, report, data).status_code == 302
    item.refresh_from_db()
    assert len(item.progress) == 4999  # the last line break is stripped


def test_markup_is_shown_escaped(liaison_client, report):
    data = page_data(report)
    item = report.items.first()
    data[f"item-{item.pk}-progress"] = "<script>alert('x')</script><b>粗体</b>"
    assert post(liaison_client, report, data).status_code == 302
    item.refresh_from_db()
    assert item.progress == "<script>alert('x')</script><b>粗体</b>"
    for client_url in (detail_url(report), history_url(report)):
        content = liaison_client.get(client_url).content.decode()
        assert "<script>alert" not in content
        assert "<b>粗体" not in content
    assert (
        "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;"
        in liaison_client.get(detail_url(report)).content.decode()
    )


def test_chinese_numerals_get_a_chinese_message(liaison_client, report):
    data = page_data(report)
    beds = report.values.get(indicator__code="new-beds")
    data[f"value-{beds.pk}-value"] = "三百"
    before = snapshot(report)
    response = post(liaison_client, report, data)
    assert response.status_code == 200
    assert response.context["form"].values[beds.pk].errors["value"] == [
        "请输入阿拉伯数字,例如 300 或 1,200。"
    ]
    assert "请输入阿拉伯数字" in response.content.decode()
    assert "三百" in response.content.decode()  # kept in the input to correct
    assert snapshot(report) == before


@pytest.mark.parametrize(
    "text", ["'; DROP TABLE reports_report; --", "1 OR 1=1", '" OR ""="', "%s %(x)s {0}"]
)
def test_sql_looking_text_is_stored_literally(liaison_client, report, text):
    data = page_data(report)
    item = report.items.first()
    value = report.values.first()
    data[f"item-{item.pk}-problems"] = text
    data[f"value-{value.pk}-note"] = text
    assert post(liaison_client, report, data).status_code == 302
    item.refresh_from_db()
    value.refresh_from_db()
    assert item.problems == text.strip()
    assert value.note == text.strip()
    assert Report.objects.filter(pk=report.pk).exists()


def test_a_percentage_over_100_and_a_negative_value_are_refused(liaison_client, report):
    data = page_data(report)
    rate = report.values.get(indicator__code="nursing-bed-share")
    beds = report.values.get(indicator__code="new-beds")
    data[f"value-{rate.pk}-value"] = "120%"
    data[f"value-{beds.pk}-value"] = "-5"
    response = post(liaison_client, report, data)
    form = response.context["form"]
    assert form.values[rate.pk].errors["value"] == ["百分比应在0到100之间。"]
    assert form.values[beds.pk].errors["value"] == ["数值不能为负数。"]
    report.refresh_from_db()
    assert report.version == 0


# -- Returned and accepted reports -----------------------------------------------------------------


def test_after_a_single_item_return_only_that_item_is_editable(liaison_client, report, office_user):
    submit_cleanly(liaison_client, report)
    returned = report.items.order_by("pk")[1]
    services.report_return_item(
        report=report, by=office_user, comment="请补充开工时间。", item=returned
    )
    report.refresh_from_db()
    before = {i.pk: (i.state, i.progress) for i in report.items.all()}
    values_before = dict(report.values.values_list("pk", "value"))

    response = liaison_client.get(detail_url(report))
    form = response.context["form"]
    assert set(form.items) == {returned.pk}
    assert form.values == {}
    assert response.context["only_returned"]
    assert entry(response, "item", returned.pk).form is not None
    assert all(e.form is None for e in response.context["item_entries"] if e.obj != returned)
    content = response.content.decode()
    assert "请补充开工时间。" in content
    card = content[content.index(f'id="item-{returned.pk}"') :]
    assert "return-comment" in card[: card.index("</article>")]

    # A tampered post touching other entries changes only the returned one.
    data = page_data(response, action="submit")
    data[f"item-{returned.pk}-progress"] = "已于5月开工。"
    first = report.items.order_by("pk")[0]
    data[f"item-{first.pk}-progress"] = "不该被改的内容"
    data[f"item-{first.pk}-state"] = "done"
    value = report.values.first()
    data[f"value-{value.pk}-value"] = "999"
    response = post(liaison_client, report, data)
    assert response.status_code == 302, messages_of(response)
    report.refresh_from_db()
    assert report.state == Report.State.SUBMITTED
    for item in report.items.all():
        if item.pk == returned.pk:
            assert item.progress == "已于5月开工。"
        else:
            assert (item.state, item.progress) == before[item.pk]
    assert dict(report.values.values_list("pk", "value")) == values_before


def test_a_whole_return_makes_everything_editable_again(liaison_client, report, office_user):
    submit_cleanly(liaison_client, report)
    services.report_return(report=report, by=office_user, comment="整体内容过于简略。")
    response = liaison_client.get(detail_url(report))
    form = response.context["form"]
    assert set(form.items) == set(report.items.values_list("pk", flat=True))
    assert set(form.values) == set(report.values.values_list("pk", flat=True))
    assert [e.comment for e in response.context["return_notes"]] == ["整体内容过于简略。"]
    assert "整体内容过于简略。" in response.content.decode()


def test_an_accepted_report_is_locked(liaison_client, report, office_user):
    submit_cleanly(liaison_client, report)
    services.report_accept(report=report, by=office_user)
    report.refresh_from_db()
    before = snapshot(report)
    response = liaison_client.get(detail_url(report))
    assert response.context["form"] is None
    data = {"version": str(report.version), "action": "save"}
    response = liaison_client.post(edit_url(report), data, follow=True)
    assert any("不能修改" in m for m in messages_of(response))
    assert snapshot(report) == before


# -- Events and history ----------------------------------------------------------------------------


def test_the_page_lists_the_events(liaison_client, report, office_user):
    submit_cleanly(liaison_client, report)
    services.report_return(report=report, by=office_user, comment="请补充数据来源。")
    response = liaison_client.get(detail_url(report))
    kinds = [e.kind for e in response.context["events"]]
    # Opened, saved, then saved and submitted in one go, then returned.
    assert kinds == ["returned", "submitted", "saved", "saved", "saved"]
    content = response.content.decode()
    assert "民政局办公室" in content and "请补充数据来源。" in content


# -- Queries -----------------------------------------------------------------------------------


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as ctx:
        assert client.get(url).status_code == 200
    return len(ctx.captured_queries)


def _grow(report: Report, n: int, by) -> None:
    """Add n tasks and n indicators to the report's plan and department, with their entries,
    deliverables, milestones and values, and a few more saved versions."""
    plan, department = report.period.plan, report.department
    section = make_section(plan, position=10_000 + report.items.count())
    for i in range(n):
        task = make_task(plan, section, lead=[department], position=10_000 + i)
        Deliverable.objects.create(
            task=task, description="成果", due_text="2019年6月", due_date=dt.date(2019, 6, 30)
        )
        ReportItem.objects.create(report=report, task=task, role="lead", state="in_progress")
        indicator = make_indicator(plan, section, milestones={2018: "1", 2019: "2", 2020: "3"})
        IndicatorDepartment.objects.create(indicator=indicator, department=department)
        Measurement.objects.create(
            indicator=indicator, period_end=dt.date(2018, 12, 31), value=Decimal(1), entered_by=by
        )
        ReportValue.objects.create(report=report, indicator=indicator, value=Decimal(1))
    for _ in range(3):
        report.refresh_from_db()
        services.report_save_draft(
            report=report, by=by, version=report.version, items={}, values={}
        )


def test_report_pages_cost_the_same_queries_whatever_the_report_size(
    liaison_client, office_browser, liaison_user, report
):
    urls = [detail_url(report), history_url(report), reverse("report-home")]
    small = {
        (who, url): _queries(client, url)
        for who, client in (("liaison", liaison_client), ("office", office_browser))
        for url in urls
        if not (who == "office" and url == reverse("report-home"))
    }
    _grow(report, 15, liaison_user)
    large = {
        key: _queries(client, key[1])
        for key, client in [
            (k, liaison_client if k[0] == "liaison" else office_browser) for k in small
        ]
    }
    assert large == small
    assert len(liaison_client.get(detail_url(report)).context["item_entries"]) > 40


def test_report_pages_stay_within_a_query_budget(
    liaison_client, office_browser, report, django_assert_max_num_queries
):
    # Counts include the session, the user, and one query per role check of the user's groups;
    # the liaison's page also prefetches the items' evidence files.
    with django_assert_max_num_queries(15):
        liaison_client.get(detail_url(report))
    with django_assert_max_num_queries(15):  # the office's scope: one more
        office_browser.get(detail_url(report))
    with django_assert_max_num_queries(6):
        liaison_client.get(history_url(report))
    with django_assert_max_num_queries(18):
        liaison_client.get(reverse("report-home"))


def test_saving_costs_the_same_queries_whatever_the_report_size(
    liaison_client, liaison_user, report
):
    def save_queries() -> int:
        data = page_data(report)
        with CaptureQueriesContext(connection) as ctx:
            assert post(liaison_client, report, data).status_code == 302
        return len(ctx.captured_queries)

    small = save_queries()
    items, values = report.items.count(), report.values.count()
    _grow(report, 10, liaison_user)
    # Saving writes each entry once: the queries grow with the entries, never faster.
    assert save_queries() <= small + 2 * (
        (report.items.count() - items) + (report.values.count() - values)
    )


def test_the_office_reviews_on_the_same_page(liaison_client, office_browser, leader_client, report):
    submit_cleanly(liaison_client, report)
    response = office_browser.get(detail_url(report))
    assert response.context["review_partial"] and response.context["item_forms_inline"]
    content = response.content.decode()
    assert reverse("report-accept", args=[report.pk]) in content
    item = report.items.first()
    card = content[content.index(f'id="item-{item.pk}"') :]
    card = card[: card.index("</article>")]
    assert reverse("report-return-item", args=[report.pk]) in card
    assert f'name="item" value="{item.pk}"' in card

    response = leader_client.get(detail_url(report))
    assert response.context["review_partial"]
    assert not response.context["item_forms_inline"]
    assert reverse("report-comment", args=[report.pk]) in response.content.decode()


# -- The draft kept in the browser (static/js/report-draft.js) -----------------------------------


def _chromium():
    sync_api = pytest.importorskip("playwright.sync_api", reason="Playwright is not installed")
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        pytest.skip("Chromium is not installed")
    return sync_api, path


class _Site:
    """Serve pages rendered beforehand to Chromium: Playwright's event loop and Django's
    database access do not mix, so every page is rendered before the browser starts."""

    TYPES = {".css": "text/css", ".js": "application/javascript"}

    def __init__(self, page_html: str):
        self.html = page_html
        self.after_post = page_html

    def __call__(self, route):
        request = route.request
        if "/static/" in request.url:
            # The app's own CSS and scripts; plotly.js (from its package) is not needed here.
            path = settings.BASE_DIR / "static" / request.url.split("/static/", 1)[1]
            body = path.read_text() if path.is_file() else ""
            route.fulfill(body=body, content_type=self.TYPES.get(path.suffix, "text/plain"))
        elif request.method == "POST":
            self.html = self.after_post
            route.fulfill(body=self.html, content_type="text/html; charset=utf-8")
        else:
            route.fulfill(body=self.html, content_type="text/html; charset=utf-8")


@pytest.mark.browser
def test_typed_text_survives_a_reload_and_comes_back_only_on_request(liaison_client, report):
    sync_api, chromium = _chromium()
    item = report.items.first()
    url = "http://testserver" + detail_url(report)
    field = f"#id_item-{item.pk}-progress"
    version_0 = liaison_client.get(detail_url(report)).content.decode()
    post(liaison_client, report, page_data(report))
    version_1 = liaison_client.get(detail_url(report)).content.decode()
    site = _Site(version_0)
    site.after_post = version_1  # the page after a successful save has a new version

    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 390, "height": 844})
            page.route("**/*", site)
            page.goto(url)
            assert page.is_hidden("[data-draft-restore]")
            # Filled in on a phone: nothing wider than the screen.
            assert page.evaluate("document.documentElement.scrollWidth") <= 390
            page.fill(field, "登录超时前填写的进展")
            page.wait_for_timeout(700)  # the script stores after a pause in typing

            page.reload()  # as after logging in again: the server still has version 0
            assert page.input_value(field) == ""  # nothing is overwritten silently
            assert page.is_visible("[data-draft-restore]")
            assert page.is_visible("[data-draft-same]")
            page.click("[data-draft-apply]")
            assert page.input_value(field) == "登录超时前填写的进展"
            assert page.is_hidden("[data-draft-restore]")

            # Saving succeeds: the next page has version 1 and the stored draft is gone.
            page.click("button[value=save]")
            page.wait_for_load_state()
            keys = page.evaluate("Object.keys(window.localStorage)")
            assert f"report-draft:{report.pk}:0" not in keys
            assert page.is_hidden("[data-draft-restore]")

            # Typed on version 1, never sent, and someone saved meanwhile (version 2 here):
            # offered with a warning rather than dropped or applied.
            page.fill(field, "另一版本上的内容")
            page.wait_for_timeout(700)
            site.html = version_1.replace('data-version="1"', 'data-version="2"').replace(
                'name="version" value="1"', 'name="version" value="2"'
            )
            page.goto(url)
            assert page.is_visible("[data-draft-older]")
            assert page.is_hidden("[data-draft-same]")
            page.click("[data-draft-discard]")
            assert page.is_hidden("[data-draft-restore]")
            keys = page.evaluate("Object.keys(window.localStorage)")
            assert not any(k.startswith(f"report-draft:{report.pk}:1") for k in keys)
        finally:
            browser.close()
