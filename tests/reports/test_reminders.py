"""Reminder e-mails (reports/reminders.py, `manage.py send_reminders`), time given by `today`.

Liucheng's 2019 half-year report is due on 31 July 2019; the defaults remind 7 and 1 days
before (24 and 30 July) and 1 and 7 days after (1 and 7 August).
"""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from plans.models import Department
from reports import reminders
from reports.models import Reminder, Report, ReportEvent, ReportingPeriod
from reports.reminders import due_reminders, send_due_reminders

pytestmark = pytest.mark.django_db

d = dt.date
MINZHENG = "minzheng@liucheng.example.gov.cn"
WEIJI = "weiji@liucheng.example.gov.cn"


@pytest.fixture(autouse=True)
def liaison_emails(liaison_user, django_user_model, settings):
    settings.SITE_URL = "https://tracker.example.gov.cn/"
    liaison_user.email = MINZHENG
    liaison_user.save(update_fields=["email"])
    liaison2 = django_user_model.objects.get(username="liaison2")
    liaison2.email = WEIJI
    liaison2.save(update_fields=["email"])
    return liaison_user, liaison2


@pytest.fixture
def period():
    return ReportingPeriod.objects.get(plan__code="liucheng", kind="half", year=2019)


@pytest.fixture
def minzheng(liaison_user):
    return liaison_user.liaison.department


def report_in(period, department, state, **kw) -> Report:
    submitted = {} if state == Report.State.DRAFT else {"first_submitted_at": timezone.now()}
    return Report.objects.create(
        period=period, department=department, state=state, **submitted, **kw
    )


def mails_to(mailoutbox, address):
    return [m for m in mailoutbox if address in m.to]


@pytest.mark.parametrize(
    ("today", "occasion"),
    [
        (d(2019, 7, 24), "before-7"),
        (d(2019, 7, 30), "before-1"),
        (d(2019, 8, 1), "after-1"),
        (d(2019, 8, 7), "after-7"),
    ],
)
def test_reminders_go_out_7_and_1_days_before_and_1_and_7_after(
    today, occasion, mailoutbox, period, minzheng
):
    sent = send_due_reminders(today)

    (mail,) = mails_to(mailoutbox, MINZHENG)
    assert mail.to == [MINZHENG]
    assert len(mailoutbox) == 2  # 县民政局 and 县卫生计生局, the only liaisons
    reminder = Reminder.objects.get(period=period, department=minzheng)
    assert reminder.occasion == occasion
    assert reminder.recipients == MINZHENG
    assert reminder in sent


@pytest.mark.parametrize(
    "today",
    [d(2019, 7, 23), d(2019, 7, 25), d(2019, 7, 31), d(2019, 8, 2), d(2019, 8, 8), d(2019, 6, 30)],
)
def test_no_reminder_on_other_days(today, mailoutbox):
    assert send_due_reminders(today) == []
    assert mailoutbox == []
    assert not Reminder.objects.exists()


def test_the_message_names_the_plan_period_deadline_state_and_link(mailoutbox, period):
    send_due_reminders(d(2019, 7, 24))

    (mail,) = mails_to(mailoutbox, MINZHENG)
    title = period.plan.title  # 柳城县养老服务业综合改革试验区实施方案(2018-2020年)
    assert mail.subject == f"【催报】{title} 2019年上半年:县民政局"
    assert f"《{title}》2019年上半年" in mail.body
    assert "截止日期为2019年7月31日" in mail.body
    assert "距截止还有7天" in mail.body
    assert "尚未开始填报" in mail.body
    assert "https://tracker.example.gov.cn/plans/liucheng/reports/2019-07/mine/" in mail.body
    assert "&" not in mail.body and "&#" not in mail.body  # plain text, not HTML-escaped


def test_a_late_reminder_says_how_late(mailoutbox):
    send_due_reminders(d(2019, 8, 7))
    (mail,) = mails_to(mailoutbox, MINZHENG)
    assert "已逾期7天" in mail.body


@pytest.mark.parametrize("state", [Report.State.SUBMITTED, Report.State.ACCEPTED])
def test_departments_that_submitted_are_not_reminded(state, mailoutbox, period, minzheng):
    report_in(period, minzheng, state)

    send_due_reminders(d(2019, 7, 30))

    assert mails_to(mailoutbox, MINZHENG) == []
    assert len(mails_to(mailoutbox, WEIJI)) == 1
    assert not Reminder.objects.filter(department=minzheng).exists()


def test_a_draft_is_reminded(mailoutbox, period, minzheng):
    report = report_in(period, minzheng, Report.State.DRAFT)

    send_due_reminders(d(2019, 7, 30))

    (mail,) = mails_to(mailoutbox, MINZHENG)
    assert "草稿,尚未报送" in mail.body
    assert f"https://tracker.example.gov.cn/reports/{report.pk}/" in mail.body


def test_a_returned_report_is_reminded_with_the_last_return_comment(
    mailoutbox, period, minzheng, office_user
):
    report = report_in(period, minzheng, Report.State.RETURNED, version=3)
    ReportEvent.objects.create(
        report=report, kind="returned", version=2, by=office_user, comment="第一次意见"
    )
    ReportEvent.objects.create(
        report=report,
        kind="item_returned",
        version=3,
        by=office_user,
        comment="请补充新增床位的来源 <民办> & 公办",
        target="二、(一)1",
    )

    send_due_reminders(d(2019, 8, 1))

    (mail,) = mails_to(mailoutbox, MINZHENG)
    assert "已退回" in mail.body
    assert "退回意见(二、(一)1):请补充新增床位的来源 <民办> & 公办" in mail.body
    assert "第一次意见" not in mail.body


def test_running_twice_sends_one_mail(mailoutbox):
    first = send_due_reminders(d(2019, 7, 24))
    again = send_due_reminders(d(2019, 7, 24))

    assert len(first) == 2
    assert again == []
    assert len(mails_to(mailoutbox, MINZHENG)) == 1
    assert Reminder.objects.count() == 2


def test_each_occasion_is_sent_once(mailoutbox):
    for today in [d(2019, 7, 24), d(2019, 7, 24), d(2019, 7, 30), d(2019, 7, 30)]:
        send_due_reminders(today)
    assert len(mails_to(mailoutbox, MINZHENG)) == 2
    assert sorted(Reminder.objects.values_list("occasion", flat=True).distinct()) == [
        "before-1",
        "before-7",
    ]


def test_a_reminder_claimed_by_a_concurrent_run_is_not_sent_again(
    mailoutbox, monkeypatch, period, minzheng
):
    due = due_reminders(d(2019, 7, 24))
    # Another run claims it between this run's look-up and its claim.
    Reminder.objects.create(period=period, department=minzheng, occasion="before-7")
    monkeypatch.setattr(reminders, "due_reminders", lambda today: due)

    sent = send_due_reminders(d(2019, 7, 24))

    assert mails_to(mailoutbox, MINZHENG) == []
    assert [r.department.name for r in sent] == ["县卫生计生局"]  # the savepoint kept us going
    assert Reminder.objects.filter(department=minzheng).count() == 1


def test_a_failed_send_releases_the_claim_so_the_next_run_retries(
    mailoutbox, monkeypatch, minzheng
):
    def broken(*args, **kwargs):
        raise ConnectionRefusedError("mail server down")

    monkeypatch.setattr(reminders, "send_mail", broken)
    assert send_due_reminders(d(2019, 7, 24)) == []
    assert not Reminder.objects.exists()

    monkeypatch.undo()
    send_due_reminders(d(2019, 7, 24))
    assert len(mails_to(mailoutbox, MINZHENG)) == 1


def test_a_liaison_without_email_is_skipped_and_the_command_says_so(
    mailoutbox, liaison_emails, minzheng
):
    _liaison, liaison2 = liaison_emails
    liaison2.email = ""
    liaison2.save(update_fields=["email"])
    out, err = StringIO(), StringIO()

    call_command("send_reminders", "--today", "2019-07-24", stdout=out, stderr=err)

    assert [m.to for m in mailoutbox] == [[MINZHENG]]
    assert "liaison liaison2 has no e-mail address, skipped" in err.getvalue()
    assert "县卫生计生局" in err.getvalue()
    assert "1 reminder(s) sent" in out.getvalue()
    weiji = Department.objects.get(jurisdiction__name="柳城县", name="县卫生计生局")
    assert not Reminder.objects.filter(department=weiji).exists()  # can still go out later


def test_dry_run_lists_without_sending_or_claiming(mailoutbox):
    out = StringIO()

    call_command("send_reminders", "--today", "2019-07-30", "--dry-run", stdout=out)

    assert mailoutbox == []
    assert not Reminder.objects.exists()
    assert f"县民政局 (before-1) [未开始] → {MINZHENG}" in out.getvalue()
    assert "2 reminder(s) to send (dry run" in out.getvalue()


def test_the_command_sends_and_reports(mailoutbox):
    out = StringIO()
    call_command("send_reminders", "--today", "2019-08-01", stdout=out, stderr=StringIO())
    assert len(mailoutbox) == 2
    assert "2 reminder(s) sent" in out.getvalue()


def test_a_closed_period_sends_no_reminders(mailoutbox, period):
    period.is_open = False
    period.save(update_fields=["is_open"])
    send_due_reminders(d(2019, 7, 24))
    assert mails_to(mailoutbox, MINZHENG) == []


def test_the_days_are_settings(mailoutbox, settings):
    settings.REMINDER_DAYS_BEFORE = [3]
    settings.REMINDER_DAYS_AFTER = []
    assert send_due_reminders(d(2019, 7, 24)) == []
    send_due_reminders(d(2019, 7, 28))
    assert len(mails_to(mailoutbox, MINZHENG)) == 1
    assert Reminder.objects.filter(occasion="before-3").count() == 2


def test_an_inactive_liaison_gets_nothing(mailoutbox, liaison_user):
    liaison_user.is_active = False
    liaison_user.save(update_fields=["is_active"])
    send_due_reminders(d(2019, 7, 24))
    assert mails_to(mailoutbox, MINZHENG) == []
