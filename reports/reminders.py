"""Reminder e-mails to the liaisons of departments whose report is missing, a draft or returned.

`manage.py send_reminders` runs `send_due_reminders(today)` once or several times a day. A
reminder is due on the days `rules.reminder_occasion` names (7 and 1 days before a period's
deadline, 1 and 7 days after, by default) and goes out at most once: its Reminder row is
claimed before the e-mail is sent, and a second run finds the claim and skips it.
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from plans.models import Department, Liaison
from reports.models import Reminder, Report, ReportEvent, ReportingPeriod
from reports.rules import reminder_occasion
from reports.services import expected_departments

logger = logging.getLogger(__name__)

# A report in these states still needs the liaison's work; None: not begun.
NEEDS_WORK = (None, Report.State.DRAFT, Report.State.RETURNED)
RETURN_EVENTS = (
    ReportEvent.Kind.RETURNED,
    ReportEvent.Kind.ITEM_RETURNED,
    ReportEvent.Kind.REOPENED,
)


@dataclass
class DueReminder:
    """A reminder due today for one department and period, with whom it goes to."""

    period: ReportingPeriod
    department: Department
    occasion: str
    report: Report | None
    recipients: list[str] = field(default_factory=list)
    without_email: list[str] = field(default_factory=list)  # liaisons' usernames
    already_sent: bool = False

    @property
    def state(self) -> str | None:
        return self.report.state if self.report is not None else None


def due_reminders(today: dt.date) -> list[DueReminder]:
    """Reminders due on `today`, claimed or not; nothing is written."""
    due = []
    periods = ReportingPeriod.objects.open().select_related("plan").order_by("deadline", "pk")
    for period in periods:
        occasion = reminder_occasion(
            period.deadline, today, settings.REMINDER_DAYS_BEFORE, settings.REMINDER_DAYS_AFTER
        )
        if occasion is None:
            continue
        reports = {r.department_id: r for r in Report.objects.filter(period=period)}
        sent = set(
            Reminder.objects.filter(period=period, occasion=occasion).values_list(
                "department_id", flat=True
            )
        )
        departments = [
            d for d in expected_departments(period) if _state(reports.get(d.pk)) in NEEDS_WORK
        ]
        liaisons = (
            Liaison.objects.filter(department__in=departments, user__is_active=True)
            .select_related("user")
            .order_by("user__username")
        )
        by_department: dict[int, list[Liaison]] = {}
        for liaison in liaisons:
            by_department.setdefault(liaison.department_id, []).append(liaison)
        for department in departments:
            reminder = DueReminder(
                period,
                department,
                occasion,
                reports.get(department.pk),
                already_sent=department.pk in sent,
            )
            for liaison in by_department.get(department.pk, []):
                if liaison.user.email:
                    reminder.recipients.append(liaison.user.email)
                else:
                    reminder.without_email.append(liaison.user.get_username())
            due.append(reminder)
    return due


def send_due_reminders(today: dt.date) -> list[Reminder]:
    """Claim and send each reminder due on `today` that has recipients and was not sent yet."""
    sent = []
    for due in due_reminders(today):
        if due.already_sent or not due.recipients:
            continue  # nobody to write to: left unclaimed, so a later run can still send it
        reminder = _claim(due)
        if reminder is None:
            continue
        try:
            subject, body = render_reminder(due, today)
            send_mail(subject, body, None, due.recipients)
        except Exception:
            # Release the claim so that the next run tries again, and go on with the others.
            logger.exception("reminder %s not sent", reminder)
            reminder.delete()
            continue
        sent.append(reminder)
    return sent


def _state(report: Report | None) -> str | None:
    return report.state if report is not None else None


def _claim(due: DueReminder) -> Reminder | None:
    """The Reminder row for this occasion, created now; None when a run already claimed it."""
    try:
        with transaction.atomic():  # a savepoint: a duplicate leaves the outer transaction usable
            return Reminder.objects.create(
                period=due.period,
                department=due.department,
                occasion=due.occasion,
                recipients=", ".join(due.recipients),
            )
    except IntegrityError:
        return None


def report_url(due: DueReminder) -> str:
    if due.report is not None:
        path = due.report.get_absolute_url()
    else:
        path = reverse("report-start", args=[due.period.plan.code, due.period.slug])
    return settings.SITE_URL.rstrip("/") + path


def last_return(report: Report | None) -> ReportEvent | None:
    """The office's latest return (of the report or an item) or reopening, with its comment."""
    if report is None or report.state != Report.State.RETURNED:
        return None
    return report.events.filter(kind__in=RETURN_EVENTS).order_by("-at", "-pk").first()


def render_reminder(due: DueReminder, today: dt.date) -> tuple[str, str]:
    """The subject and body of the e-mail, in Chinese whatever language is active."""
    period = due.period
    days = (period.deadline - today).days
    with translation.override(settings.LANGUAGE_CODE):
        context = {
            "plan": period.plan,
            "period": period,
            "department": due.department,
            "deadline": period.deadline,
            "days_left": days if days >= 0 else None,
            "days_late": -days if days < 0 else None,
            "report": due.report,
            "state": _state_text(due.report),
            "returned": last_return(due.report),
            "url": report_url(due),
        }
        subject = f"【催报】{period.plan.title} {period.label}:{due.department.name}"
        body = render_to_string("reports/reminder_email.txt", context).strip() + "\n"
    return subject, body


def _state_text(report: Report | None) -> str:
    if report is None:
        return "尚未开始填报"
    if report.state == Report.State.DRAFT:
        return "草稿,尚未报送"
    return "已退回,请按意见修改后重新报送"
