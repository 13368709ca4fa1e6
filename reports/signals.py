"""Every plan gets its reporting periods: a half year and a full year for each of its years."""

from __future__ import annotations

import datetime as dt

from django.db.models.signals import post_save

from plans.models import Plan
from reports.models import ReportingPeriod, default_deadline


def ensure_periods(plan: Plan) -> None:
    """Create the plan's missing periods (existing deadlines and open/closed states are kept)."""
    existing = set(plan.periods.values_list("kind", "year"))
    new = []
    for year in plan.years:
        for kind, end in (("half", dt.date(year, 6, 30)), ("full", dt.date(year, 12, 31))):
            if (kind, year) not in existing:
                new.append(
                    ReportingPeriod(
                        plan=plan,
                        kind=kind,
                        year=year,
                        period_end=end,
                        deadline=default_deadline(kind, year),
                    )
                )
    ReportingPeriod.objects.bulk_create(new)


def _plan_saved(sender, instance: Plan, **kwargs) -> None:
    ensure_periods(instance)


def connect() -> None:
    post_save.connect(_plan_saved, sender=Plan, dispatch_uid="reports-ensure-periods")
