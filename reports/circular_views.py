"""The circular (通报) for a plan and period: a printable page and its sheet.

Who may look is decided exactly as on the submission board: office staff for the plans they
manage, leaders for every plan, anyone else 403.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from reports.board import _check_plan, _plan_periods, _reviewer_roles
from reports.circular import Circular, circular_for, circular_workbook
from reports.export_views import xlsx_download


def _circular(request: HttpRequest, code: str, period: str) -> Circular:
    roles = _reviewer_roles(request)
    plan, period, _periods = _plan_periods(code, period)
    _check_plan(request, roles, plan)
    return circular_for(plan, period)


@login_required
def report_circular(request: HttpRequest, code: str, period: str) -> HttpResponse:
    circular = _circular(request, code, period)
    return render(request, "reports/circular.html", {"circular": circular})


@login_required
def report_circular_export(request: HttpRequest, code: str, period: str) -> HttpResponse:
    circular = _circular(request, code, period)
    # An ASCII name: the Chinese title is inside the file, on its title row.
    filename = f"circular-{circular.plan_code}-{circular.period_slug}.xlsx"
    return xlsx_download(circular_workbook(circular), filename)
