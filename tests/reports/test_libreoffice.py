"""LibreOffice opens the downloaded workbook and reads back the values (one conversion).

Skipped with a reason where LibreOffice is absent; under REQUIRE_LIBREOFFICE=1 (CI) a skip
fails instead (tests/conftest.py).
"""

from __future__ import annotations

import csv
import io
import shutil
import subprocess
from decimal import Decimal

import pytest
from django.urls import reverse

from indicators.models import Indicator, Measurement
from reports import services
from reports.excel import HEADER_ROWS, INDICATOR_SHEET, SUBMISSION_SHEET, TASK_SHEET
from reports.models import ReportItem
from tests.reports.test_board import filled_report, liucheng, period_of

pytestmark = [pytest.mark.django_db, pytest.mark.libreoffice]

SOFFICE = shutil.which("libreoffice") or shutil.which("soffice")
# CSV export options: comma, double quote, UTF-8 (76), from row 1, cells as shown (so number
# formats count), every sheet (-1) to its own file "<name>-<sheet>.csv" (LibreOffice >= 7.2).
CSV_FILTER = "csv:Text - txt - csv (StarCalc):44,34,76,1,,0,false,true,true,false,false,-1"


def convert(workbook: bytes, tmp_path) -> dict[str, list[list[str]]]:
    """Each sheet as LibreOffice reads it, converted to CSV in a private profile."""
    source = tmp_path / "report.xlsx"
    source.write_bytes(workbook)
    out = tmp_path / "out"
    profile = (tmp_path / "profile").as_uri()
    result = subprocess.run(  # noqa: S603 - a fixed program on files this test wrote
        [
            SOFFICE,
            f"-env:UserInstallation={profile}",
            "--headless",
            "--norestore",
            "--convert-to",
            CSV_FILTER,
            "--outdir",
            str(out),
            str(source),
        ],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    sheets = {}
    for path in sorted(out.glob("report-*.csv")):
        name = path.stem.removeprefix("report-")
        sheets[name] = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8"))))
    return sheets


@pytest.mark.skipif(SOFFICE is None, reason="LibreOffice (libreoffice/soffice) is not installed")
def test_libreoffice_opens_the_liucheng_july_workbook_and_reads_its_values(
    office_client, liaison_user, tmp_path
):
    beds = Indicator.objects.get(plan__code="liucheng", code="new-beds")
    Measurement.objects.create(indicator=beds, period_end="2019-06-30", value=Decimal("480"))
    liaison_user.first_name, liaison_user.last_name = "=2+3", ""
    liaison_user.save(update_fields=["first_name", "last_name"])
    report = filled_report(period_of(), liucheng("县民政局"), liaison_user)
    first, second = report.items.order_by("task__position")[:2]
    ReportItem.objects.filter(pk=first.pk).update(progress="=1+1", problems="粘贴\x0b自Word")
    ReportItem.objects.filter(pk=second.pk).update(progress="进展" * 20000)
    services.report_submit(report=report, by=liaison_user, version=report.version)

    response = office_client.get(reverse("report-export", args=["liucheng", "2019-07"]))
    assert response.status_code == 200
    sheets = convert(response.getvalue(), tmp_path)

    assert set(sheets) == {INDICATOR_SHEET, TASK_SHEET, SUBMISSION_SHEET}
    indicators = sheets[INDICATOR_SHEET]
    assert indicators[0][0].endswith("2019年上半年工作情况")
    assert indicators[HEADER_ROWS - 1][:3] == ["章节", "指标", "单位"]
    row = next(r for r in indicators if r[1] == "新增养老床位")
    # Numbers as numbers (formatted by their number format), the date as a date.
    assert row[3:9] == ["700", "1,200", "480", "2019-06-30", "68.6%", "40.0%"]

    tasks = sheets[TASK_SHEET]
    by_clause = {r[0]: i for i, r in enumerate(tasks) if r[0]}
    typed = tasks[by_clause[first.task.clause]]
    assert typed[5] == "【县民政局】=1+1"  # text, not 2
    assert typed[6].startswith("【县民政局】粘贴\n自Word")
    long = by_clause[second.task.clause]
    assert tasks[long][5].endswith("(未完,接下行)")
    assert tasks[long + 1][5].startswith("(接上行)")

    submissions = {r[0]: r for r in sheets[SUBMISSION_SHEET][HEADER_ROWS:]}
    assert submissions["县民政局"][1] == "=2+3"  # a typed name, unlabelled, still not 5
    assert submissions["县民政局"][3] == "逾期报送"  # submitted today, long after July 2019
    assert submissions["县民政局"][6] == "逾期"
    assert submissions["县财政局"][6] == "逾期未报"
