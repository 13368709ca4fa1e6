"""Downloads of the July and December workbooks: the plan's, and one department's copy."""

from __future__ import annotations

import io

from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest
from django.utils.cache import patch_cache_control

from reports.board import _check_plan, _plan_periods, _reviewer_roles
from reports.excel import build_report
from reports.export import department_workbook, export_filename, plan_workbook
from reports.views import _get_report_for_user

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def xlsx_download(workbook, filename: str) -> FileResponse:
    """A workbook as an attachment, kept out of caches: the circular's sheet uses it too."""
    buffer = io.BytesIO()
    workbook.save(buffer)
    buffer.seek(0)
    # FileResponse writes the Chinese name as RFC 5987 filename*=utf-8''… with an ASCII fallback.
    response = FileResponse(buffer, as_attachment=True, filename=filename, content_type=XLSX)
    # Names and phone numbers of liaisons: no copy in a shared proxy or the browser cache.
    patch_cache_control(response, private=True, no_store=True)
    return response


@login_required
def report_export(request: HttpRequest, code: str, period: str) -> FileResponse:
    """The plan's workbook for a period, for the office and leaders (who may see the board)."""
    roles = _reviewer_roles(request)
    plan, reporting_period, _periods = _plan_periods(code, period)
    _check_plan(request, roles, plan)
    workbook = build_report(plan_workbook(reporting_period))
    return xlsx_download(workbook, export_filename(plan, reporting_period))


@login_required
def report_export_department(request: HttpRequest, pk: int) -> FileResponse:
    """One department's own report as a workbook: for its liaison, the office and leaders."""
    report = _get_report_for_user(request, pk)
    period = report.period
    workbook = build_report(department_workbook(report))
    return xlsx_download(workbook, export_filename(period.plan, period, report.department.name))
