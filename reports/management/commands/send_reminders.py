"""E-mail the liaisons of departments whose report is due soon or late (run daily from cron)."""

from __future__ import annotations

import argparse
import datetime as dt

from django.core.management.base import BaseCommand
from django.utils import timezone

from reports.reminders import due_reminders, send_due_reminders

STATES = {None: "未开始", "draft": "草稿", "returned": "已退回"}


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a date YYYY-MM-DD") from error


class Command(BaseCommand):
    help = (
        "Remind departments whose report is missing, a draft or returned, on the days before "
        "and after the deadline set by REMINDER_DAYS_BEFORE / REMINDER_DAYS_AFTER. Each "
        "reminder is sent once, however often this runs."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today", type=_date, help="act as on this date (YYYY-MM-DD), e.g. to catch up"
        )
        parser.add_argument(
            "--dry-run", action="store_true", help="list the reminders due, send nothing"
        )

    def handle(self, *args, today: dt.date | None = None, dry_run: bool = False, **options):
        today = today or timezone.localdate()
        due = due_reminders(today)
        for reminder in due:
            where = f"{reminder.period} {reminder.department.name} ({reminder.occasion})"
            for username in reminder.without_email:
                self.stderr.write(f"{where}: liaison {username} has no e-mail address, skipped")
            if not reminder.recipients and options["verbosity"] > 1:
                self.stdout.write(f"{where}: no liaison with an e-mail address, nothing to send")
            if dry_run and reminder.recipients:
                state = STATES.get(reminder.state, reminder.state)
                sent = " (already sent)" if reminder.already_sent else ""
                self.stdout.write(f"{where} [{state}] → {', '.join(reminder.recipients)}{sent}")
        unreachable = sum(1 for r in due if not r.recipients)
        if dry_run:
            pending = sum(1 for r in due if r.recipients and not r.already_sent)
            self.stdout.write(
                f"{today}: {pending} reminder(s) to send (dry run, nothing sent); "
                f"{unreachable} department(s) without a liaison e-mail"
            )
            return
        sent = send_due_reminders(today)
        for reminder in sent:
            self.stdout.write(
                f"sent: {reminder.period} {reminder.department.name} ({reminder.occasion}) "
                f"→ {reminder.recipients}"
            )
        self.stdout.write(
            f"{today}: {len(sent)} reminder(s) sent; "
            f"{unreachable} department(s) without a liaison e-mail"
        )
