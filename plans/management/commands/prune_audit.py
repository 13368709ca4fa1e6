"""Delete audit records older than the retention period (run monthly from cron, if at all)."""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from plans.audit import prune, retention_refusal


class Command(BaseCommand):
    help = (
        "Delete login records (and with --include-history, change history) older than N days. "
        "N may not be below AUDIT_RETENTION_DAYS (at least 183: six months)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--older-than-days", type=int, required=True, metavar="N")
        parser.add_argument(
            "--include-history",
            action="store_true",
            help="also change history (each object's latest record is kept)",
        )
        parser.add_argument("--dry-run", action="store_true", help="count, delete nothing")

    def handle(self, *args, older_than_days: int, include_history: bool, dry_run: bool, **opts):
        refusal = retention_refusal(older_than_days, settings.AUDIT_RETENTION_DAYS)
        if refusal:
            raise CommandError(refusal)
        before = timezone.now() - dt.timedelta(days=older_than_days)
        counts = prune(before=before, history=include_history, dry_run=dry_run)
        verb = "would delete" if dry_run else "deleted"
        for label, count in counts.items():
            self.stdout.write(f"{label}: {verb} {count} record(s) before {before:%Y-%m-%d}")
