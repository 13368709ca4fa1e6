"""Write a plan's July or December workbook (or one department's copy) to a file."""

from __future__ import annotations

import io
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from plans.models import Department, Plan
from reports.excel import build_report
from reports.export import (
    department_report,
    department_workbook,
    export_filename,
    find_period,
    plan_workbook,
)


def _department(plan: Plan, name: str) -> Department:
    """The department of the plan's jurisdiction with this name, or the one name containing it."""
    departments = Department.objects.filter(jurisdiction=plan.jurisdiction_id)
    exact = departments.filter(name=name.strip()).first()
    if exact is not None:
        return exact
    close = list(departments.filter(name__contains=name.strip()).order_by("name")[:10])
    if len(close) == 1:
        return close[0]
    hint = f"; did you mean: {', '.join(d.name for d in close)}" if close else ""
    raise CommandError(f"Unknown department {name!r} in {plan.jurisdiction}{hint}")


class Command(BaseCommand):
    help = (
        "Export a plan's half-year (YYYY-07) or full-year (YYYY-12) report as an Excel "
        "workbook: indicators, task progress and who reported. "
        "Example: export_report liucheng 2019-07 -o report.xlsx"
    )

    def add_arguments(self, parser):
        parser.add_argument("plan", help="plan code: liucheng, panjin, liuzhou, xianyang")
        parser.add_argument("period", help="2019-07 for the half year, 2019-12 for the full year")
        parser.add_argument(
            "-o", "--output", help="file to write (default: the plan and period's name, .xlsx)"
        )
        parser.add_argument(
            "--department", help="only this department's own report (its name, e.g. 县民政局)"
        )

    def handle(self, *args, plan: str, period: str, output=None, department=None, **options):
        found = Plan.objects.select_related("jurisdiction").filter(code=plan).first()
        if found is None:
            codes = ", ".join(Plan.objects.order_by("code").values_list("code", flat=True))
            raise CommandError(f"Unknown plan {plan!r}; the plans are: {codes}")
        reporting_period = find_period(found, period)
        if reporting_period is None:
            slugs = ", ".join(p.slug for p in found.periods.order_by("period_end"))
            raise CommandError(
                f"Unknown period {period!r} for {plan}: use YYYY-07 (half year) or YYYY-12 "
                f"(full year), one of: {slugs}"
            )
        if department:
            chosen = _department(found, department)
            report = department_report(reporting_period, chosen)
            if report is None:
                raise CommandError(
                    f"{chosen.name} has no report for {plan} {period} yet: nothing to export"
                )
            data = department_workbook(report)
            name = export_filename(found, reporting_period, chosen.name)
        else:
            data = plan_workbook(reporting_period)
            name = export_filename(found, reporting_period)
        path = Path(output or name)
        buffer = io.BytesIO()
        build_report(data).save(buffer)  # built in memory first: a bad path leaves no stub
        try:
            path.write_bytes(buffer.getvalue())
        except OSError as error:
            raise CommandError(f"Cannot write {path}: {error.strerror or error}") from error
        self.stdout.write(
            f"Wrote {path}: {len(data.indicators)} indicators, {len(data.tasks)} tasks, "
            f"{len(data.submissions)} departments"
        )
