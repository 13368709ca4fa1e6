"""The office's review steps and the leaders' remarks (reports/board.py), their forms and the
admin of the reporting models."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.contrib import admin
from django.contrib.messages import get_messages
from django.forms.models import model_to_dict
from django.template.loader import render_to_string
from django.test import Client, RequestFactory
from django.urls import reverse

from indicators.models import Measurement
from reports import services
from reports.models import (
    Reminder,
    Report,
    ReportEvent,
    ReportingPeriod,
    ReportItem,
    ReportValue,
)
from tasks.models import TaskUpdate
from tests.reports.test_board import filled_report, liucheng, period_of, submitted_report

pytestmark = pytest.mark.django_db

HALF_2019 = dt.date(2019, 6, 30)
ACTIONS = ["report-return", "report-return-item", "report-accept", "report-reopen"]
COMMENT = "report-comment"


@pytest.fixture
def report(liaison_user):
    """柳城县民政局's half-year 2019 report, submitted by its liaison, 777 new beds."""
    return submitted_report(
        period_of(), liucheng("县民政局"), liaison_user, values={"new-beds": "777"}
    )


@pytest.fixture
def other_report(office_user):
    """柳城县卫生计生局's report for the same period."""
    return submitted_report(period_of(), liucheng("县卫生计生局"), office_user)


def url(name: str, report: Report) -> str:
    return reverse(name, args=[report.pk])


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def fingerprint(report: Report) -> tuple:
    """Everything a review step could change: the report, its items and values, its events."""
    report = Report.objects.get(pk=report.pk)
    return (
        model_to_dict(report),
        [model_to_dict(i) for i in report.items.order_by("pk")],
        [model_to_dict(v) for v in report.values.order_by("pk")],
        report.events.count(),
        Measurement.objects.filter(period_end=HALF_2019).count(),
    )


def post_for(name: str, report: Report) -> dict:
    data = {"comment": "请补充"}
    if name == "report-return-item":
        data["item"] = report.items.first().pk
    return data


# -- Return ----------------------------------------------------------------------------------


def test_office_returns_the_whole_report_with_a_comment(office_client, report):
    response = office_client.post(url("report-return", report), {"comment": "请补充数据来源"})
    assert response.status_code == 302
    assert response["Location"] == reverse("report-detail", args=[report.pk])
    assert "已退回县民政局的报告" in messages_of(response)[0]
    report.refresh_from_db()
    assert report.state == Report.State.RETURNED
    event = report.events.latest("at", "pk")
    assert (event.kind, event.comment, event.by.username) == (
        "returned",
        "请补充数据来源",
        "office",
    )


@pytest.mark.parametrize("name", ["report-return", "report-reopen", "report-return-item"])
@pytest.mark.parametrize("comment", ["", "   \n "])
def test_returning_or_reopening_needs_a_comment(office_client, office_user, report, name, comment):
    if name == "report-reopen":
        services.report_accept(report=report, by=office_user)
    before = fingerprint(report)
    data = post_for(name, report) | {"comment": comment}
    response = office_client.post(url(name, report), data)
    assert response.status_code == 302
    assert messages_of(response) == ["请填写意见,说明退回或重新开放的原因。"]
    assert fingerprint(report) == before


@pytest.mark.parametrize("name", ["report-return", "report-return-item", "report-reopen", COMMENT])
def test_a_huge_comment_is_refused_with_a_message_and_nothing_changes(
    office_client, office_user, report, name
):
    if name == "report-reopen":
        services.report_accept(report=report, by=office_user)
    before = fingerprint(report)
    data = post_for(name, report) | {"comment": "长" * 100_000}
    response = office_client.post(url(name, report), data)
    assert response.status_code == 302
    assert "过长" in messages_of(response)[0]
    assert fingerprint(report) == before


def test_a_script_in_a_comment_is_kept_as_text_and_escaped(office_client, report):
    hostile = "<script>alert('x')</script>"
    office_client.post(
        url("report-return-item", report),
        post_for("report-return-item", report) | {"comment": hostile},
    )
    item = report.items.get(is_returned=True)
    assert item.return_comment == hostile
    assert report.events.latest("at", "pk").comment == hostile
    html = render_to_string(
        "reports/_return_item_form.html",
        {"report": Report.objects.get(pk=report.pk), "entry": item, "kind": "item"},
    )
    assert "<script>" not in html


# -- Return one item -------------------------------------------------------------------------


def test_returning_one_item_leaves_the_others_untouched(office_client, report):
    items = list(report.items.order_by("pk"))
    returned, others = items[0], items[1:]
    before = [model_to_dict(i) for i in others]
    values_before = [model_to_dict(v) for v in report.values.order_by("pk")]
    response = office_client.post(
        url("report-return-item", report), {"item": returned.pk, "comment": "进展写得太笼统"}
    )
    assert response.status_code == 302
    assert returned.task.clause in messages_of(response)[0]
    returned.refresh_from_db()
    assert returned.is_returned and returned.return_comment == "进展写得太笼统"
    assert [model_to_dict(i) for i in report.items.exclude(pk=returned.pk).order_by("pk")] == before
    assert [model_to_dict(v) for v in report.values.order_by("pk")] == values_before
    report.refresh_from_db()
    assert report.state == Report.State.RETURNED
    event = report.events.latest("at", "pk")
    assert (event.kind, event.target) == ("item_returned", returned.task.clause)


def test_returning_one_value(office_client, report):
    value = report.values.get(indicator__code="new-beds")
    response = office_client.post(
        url("report-return-item", report), {"value": value.pk, "comment": "床位数与台账不符"}
    )
    assert value.indicator.name in messages_of(response)[0]
    value.refresh_from_db()
    assert value.is_returned and value.return_comment == "床位数与台账不符"
    assert not report.items.filter(is_returned=True).exists()


def test_a_second_item_can_be_returned_after_the_first(office_client, report):
    first, second = report.items.order_by("pk")[:2]
    office_client.post(url("report-return-item", report), {"item": first.pk, "comment": "一"})
    office_client.post(url("report-return-item", report), {"item": second.pk, "comment": "二"})
    assert set(report.items.filter(is_returned=True).values_list("pk", flat=True)) == {
        first.pk,
        second.pk,
    }


@pytest.mark.parametrize("kind", ["item", "value"])
def test_an_entry_of_another_report_is_404_and_nothing_changes(
    office_client, report, other_report, kind
):
    entry = (other_report.items if kind == "item" else other_report.values).first()
    before, other_before = fingerprint(report), fingerprint(other_report)
    response = office_client.post(
        url("report-return-item", report), {kind: entry.pk, "comment": "退回"}
    )
    assert response.status_code == 404
    assert fingerprint(report) == before and fingerprint(other_report) == other_before


@pytest.mark.parametrize("bad", ["abc", "-1", "1.5", "99999999", "1e3", "9" * 40])
def test_a_bad_entry_id_is_404(office_client, report, bad):
    before = fingerprint(report)
    response = office_client.post(url("report-return-item", report), {"item": bad, "comment": "x"})
    assert response.status_code == 404
    assert fingerprint(report) == before


@pytest.mark.parametrize("both", [True, False])
def test_exactly_one_entry_must_be_named(office_client, report, both):
    data = {"comment": "退回"}
    if both:
        data |= {"item": report.items.first().pk, "value": report.values.first().pk}
    before = fingerprint(report)
    response = office_client.post(url("report-return-item", report), data)
    assert response.status_code == 302
    assert messages_of(response) == ["请指定要退回的一个事项。"]
    assert fingerprint(report) == before


# -- Accept and reopen -----------------------------------------------------------------------


def test_accepting_writes_measurements_and_task_updates(office_client, leader_user, report):
    dashboard = reverse("plan-detail", args=["liucheng"]) + "?period=2019-06-30"
    client = Client()
    client.force_login(leader_user)
    assert "777" not in client.get(dashboard).content.decode()

    response = office_client.post(url("report-accept", report))
    assert response.status_code == 302
    assert "已采纳县民政局的报告" in messages_of(response)[0]
    report.refresh_from_db()
    assert report.state == Report.State.ACCEPTED
    assert report.accepted_by.username == "office"

    for value in report.values.select_related("indicator", "measurement"):
        measurement = Measurement.objects.get(indicator=value.indicator, period_end=HALF_2019)
        assert measurement.value == value.value
        assert value.measurement == measurement
    assert Measurement.objects.get(
        indicator__code="new-beds", indicator__plan__code="liucheng", period_end=HALF_2019
    ).value == Decimal("777")
    for item in report.items.filter(role="lead"):
        update = TaskUpdate.objects.get(task=item.task, as_of=HALF_2019)
        assert (update.state, update.note) == (item.state, item.progress)
    assert (
        not TaskUpdate.objects.filter(
            task__in=[i.task for i in report.items.filter(role="support")], as_of=HALF_2019
        )
        .exclude(task__in=[i.task for i in report.items.filter(role="lead")])
        .exists()
    )

    assert "777" in client.get(dashboard).content.decode()


def test_accepting_a_draft_is_refused_with_a_message(office_client, office_user):
    draft = filled_report(period_of(), liucheng("县财政局"), office_user)
    before = fingerprint(draft)
    response = office_client.post(url("report-accept", draft))
    assert messages_of(response) == ["只能采纳已报送的报告。"]
    assert fingerprint(draft) == before


def test_reopening_is_recorded_with_its_comment(office_client, report):
    office_client.post(url("report-accept", report))
    response = office_client.post(url("report-reopen", report), {"comment": "数据口径调整,请重报"})
    assert "已重新开放" in messages_of(response)[-1]
    report.refresh_from_db()
    assert report.state == Report.State.RETURNED
    event = report.events.latest("at", "pk")
    assert (event.kind, event.comment, event.by.username) == (
        "reopened",
        "数据口径调整,请重报",
        "office",
    )


def test_reopening_a_report_not_accepted_is_refused(office_client, report):
    before = fingerprint(report)
    response = office_client.post(url("report-reopen", report), {"comment": "重开"})
    assert messages_of(response) == ["只能重新开放已采纳的报告。"]
    assert fingerprint(report) == before


# -- Comments --------------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["leader", "office"])
def test_leaders_and_the_office_comment(client, django_user_model, report, username):
    client.force_login(django_user_model.objects.get(username=username))
    state = Report.objects.get(pk=report.pk).state
    response = client.post(url(COMMENT, report), {"comment": "请加快进度"})
    assert response.status_code == 302
    assert messages_of(response) == ["批示已记录。"]
    event = report.events.latest("at", "pk")
    assert (event.kind, event.comment, event.by.username) == ("commented", "请加快进度", username)
    assert Report.objects.get(pk=report.pk).state == state


def test_an_empty_remark_is_refused(office_client, report):
    before = fingerprint(report)
    response = office_client.post(url(COMMENT, report), {"comment": " "})
    assert messages_of(response) == ["请填写批示内容。"]
    assert fingerprint(report) == before


# -- Who may do what -------------------------------------------------------------------------


@pytest.mark.parametrize("name", ACTIONS)
def test_a_leader_may_not_review(client, leader_user, report, name):
    client.force_login(leader_user)
    before = fingerprint(report)
    assert client.post(url(name, report), post_for(name, report)).status_code == 403
    assert fingerprint(report) == before


@pytest.mark.parametrize("name", [*ACTIONS, COMMENT])
def test_the_report_s_own_liaison_gets_403(client, liaison_user, report, name):
    client.force_login(liaison_user)
    before = fingerprint(report)
    assert client.post(url(name, report), post_for(name, report)).status_code == 403
    assert fingerprint(report) == before


@pytest.mark.parametrize("name", [*ACTIONS, COMMENT])
def test_another_liaison_or_a_user_without_a_role_gets_404(
    client, django_user_model, outsider_user, report, name
):
    before = fingerprint(report)
    for user in (django_user_model.objects.get(username="liaison2"), outsider_user):
        client.force_login(user)
        assert client.post(url(name, report), post_for(name, report)).status_code == 404
    assert fingerprint(report) == before


@pytest.mark.parametrize("name", [*ACTIONS, COMMENT])
def test_review_steps_need_a_login_and_a_post(client, office_user, report, name):
    before = fingerprint(report)
    response = client.post(url(name, report), post_for(name, report))
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    client.force_login(office_user)
    assert client.get(url(name, report)).status_code == 405
    assert fingerprint(report) == before


def test_an_unknown_report_is_404(office_client):
    assert office_client.post(reverse("report-accept", args=[999_999])).status_code == 404


# -- The partials ----------------------------------------------------------------------------


def _render(template: str, user, report: Report, **extra) -> str:
    request = RequestFactory().get("/")
    request.user = user
    items = list(report.items.select_related("task"))
    values = list(report.values.select_related("indicator"))
    context = {"report": report, "items": items, "values": values, "user": user, **extra}
    return render_to_string(template, context, request=request)


def test_review_actions_for_the_office_follow_the_report_state(office_user, office_client, report):
    html = _render("reports/_review_actions.html", office_user, report)
    for name in ("report-accept", "report-return", "report-return-item", "report-comment"):
        assert url(name, report) in html
    assert url("report-reopen", report) not in html
    assert html.count("csrfmiddlewaretoken") == html.count("<form")
    assert html.count("退回此项") >= report.items.count() + report.values.count()

    html = _render("reports/_review_actions.html", office_user, report, item_forms_inline=True)
    assert url("report-return-item", report) not in html

    office_client.post(url("report-accept", report))
    report.refresh_from_db()
    html = _render("reports/_review_actions.html", office_user, report)
    assert url("report-reopen", report) in html
    assert url("report-accept", report) not in html
    assert url("report-return-item", report) not in html


def test_review_actions_for_a_leader_are_only_the_remark(leader_user, report):
    html = _render("reports/_review_actions.html", leader_user, report)
    assert url("report-comment", report) in html
    for name in ACTIONS:
        assert url(name, report) not in html
    assert html.count("csrfmiddlewaretoken") == html.count("<form") == 1


def test_return_item_form_names_its_entry(office_user, report):
    item, value = report.items.first(), report.values.first()
    html = _render("reports/_return_item_form.html", office_user, report, entry=item, kind="item")
    assert f'name="item" value="{item.pk}"' in html and "csrfmiddlewaretoken" in html
    html = _render("reports/_return_item_form.html", office_user, report, entry=value, kind="value")
    assert f'name="value" value="{value.pk}"' in html
    value.is_returned = True
    html = _render("reports/_return_item_form.html", office_user, report, entry=value, kind="value")
    assert "<form" not in html and "此项已退回" in html


def test_the_whole_form_posts_back_through_the_view(office_client, office_user, report):
    """What the partial's return-item form sends is what the view expects."""
    item = report.items.first()
    response = office_client.post(
        url("report-return-item", report), {"item": str(item.pk), "comment": "改"}
    )
    assert response.status_code == 302
    assert ReportItem.objects.get(pk=item.pk).is_returned


# -- Admin -----------------------------------------------------------------------------------


REPORT_MODELS = [ReportingPeriod, Report, ReportEvent, Reminder]


@pytest.mark.parametrize("model", REPORT_MODELS, ids=lambda m: m.__name__)
def test_admin_lists_searches_and_opens_report_models(admin_client, report, model):
    Reminder.objects.create(period=report.period, department=report.department, occasion="after-1")
    assert model in admin.site._registry
    opts = model._meta
    changelist = reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")
    response = admin_client.get(changelist, {"q": "民政"})
    assert response.status_code == 200
    assert str(opts.verbose_name_plural) in response.content.decode()
    assert admin_client.get(changelist, {"o": "1"}).status_code == 200
    first = model.objects.first()
    change = reverse(f"admin:{opts.app_label}_{opts.model_name}_change", args=[first.pk])
    assert admin_client.get(change).status_code == 200


def test_admin_report_page_shows_items_values_and_events(admin_client, report):
    html = admin_client.get(
        reverse("admin:reports_report_change", args=[report.pk])
    ).content.decode()
    assert "报告事项" in html and "报告数值" in html and "报告记录" in html
    assert "已按方案推进" in html


@pytest.mark.parametrize("model", [ReportEvent, Reminder], ids=lambda m: m.__name__)
def test_events_and_reminders_are_read_only_in_the_admin(rf, django_user_model, model):
    model_admin = admin.site._registry[model]
    request = rf.get("/")
    request.user = django_user_model.objects.get(username="admin")
    assert not model_admin.has_add_permission(request)
    assert not model_admin.has_change_permission(request)
    assert not model_admin.has_delete_permission(request)


def test_the_reporting_period_admin_keeps_history(admin_client):
    period = period_of()
    response = admin_client.get(reverse("admin:reports_reportingperiod_history", args=[period.pk]))
    assert response.status_code == 200


def test_report_values_inline_in_the_admin_are_not_added_or_deleted(rf, django_user_model, report):
    from reports.admin import ReportItemInline, ReportValueInline

    request = rf.get("/")
    request.user = django_user_model.objects.get(username="admin")
    for inline in (ReportItemInline, ReportValueInline):
        instance = inline(Report, admin.site)
        assert not instance.has_add_permission(request, report)
        assert not instance.has_delete_permission(request, report)
    assert ReportValue.objects.filter(report=report).exists()
