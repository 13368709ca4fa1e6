"""The workbook builder and its cell helpers (reports/excel.py), without the database."""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from decimal import Decimal

import openpyxl
import pytest
from openpyxl import Workbook

from reports.excel import (
    CELL_LIMIT,
    HEADER_ROWS,
    INDICATOR_SHEET,
    SUBMISSION_SHEET,
    TASK_SHEET,
    IndicatorLine,
    ReportData,
    SubmissionLine,
    TaskLine,
    build_report,
    clean_text,
    column_width,
    display_width,
    excel_number,
    fit_cell,
    new_workbook,
    split_text,
    write_text,
)
from tasks.table import TASK_TABLE_HEADERS, TaskTableRow

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
HOSTILE = ["=1+1", "+1", "-1", "@SUM(A1)", "\t=x", '=HYPERLINK("http://evil","点我")']


def indicator(**kw) -> IndicatorLine:
    fields = {
        "section": "(一)机构养老方面",
        "name": "新增养老床位",
        "unit": "张",
        "year_milestone": Decimal("700.00"),
        "final_target": Decimal("1200.00"),
        "actual": Decimal("650.00"),
        "actual_on": dt.date(2019, 6, 30),
        "share_of_milestone": Decimal("650") / Decimal("700"),
        "share_of_final": Decimal("650") / Decimal("1200"),
        "status": "behind",
        "status_label": "进度滞后",
        "projection": "按当前进度,预计2021年完成",
        "clause": "一、(一)",
        "conflict": "",
    }
    return IndicatorLine(**(fields | kw))


def task(number: str = "1", **kw) -> TaskLine:
    fields = {
        "table": TaskTableRow(
            number, f"任务原文{number}", "县民政局", "县财政局、县卫生计生局", ""
        ),
        "progress": "【县民政局】已完成选址",
        "problems": "",
        "next_steps": "",
        "status": "on_track",
        "status_label": "正常推进",
    }
    return TaskLine(**(fields | kw))


def submission(**kw) -> SubmissionLine:
    at = dt.datetime(2019, 7, 31, 10, 0, tzinfo=SHANGHAI)
    fields = {
        "department": "县民政局",
        "liaisons": "张三",
        "phones": "0772-1234567",
        "state": "submitted_on_time",
        "state_label": "按时报送",
        "first_submitted_at": at,
        "submitted_at": at,
        "timeliness": "on_time",
        "timeliness_label": "按时",
    }
    return SubmissionLine(**(fields | kw))


def report_data(**kw) -> ReportData:
    fields = {
        "title": "柳城县养老服务业综合改革试验区实施方案(2018-2020年)2019年上半年工作情况",
        "made_on": dt.date(2019, 8, 5),
        "indicators": [indicator()],
        "tasks": [task("1"), task("2")],
        "submissions": [submission()],
    }
    return ReportData(**(fields | kw))


def saved(workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def reopened(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content))


def sheet_xml(content: bytes) -> str:
    with zipfile.ZipFile(io.BytesIO(content)) as archive:
        names = [n for n in archive.namelist() if n.startswith("xl/worksheets/sheet")]
        return "".join(archive.read(n).decode() for n in names)


def rows(ws) -> list[list]:
    return [list(row) for row in ws.iter_rows(values_only=True)]


# -- Cell helpers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "kept"),
    [
        ("第一行\x0b第二行", "第一行\n第二行"),  # Word's manual line break
        ("分页\x0c之后", "分页\n之后"),
        ("a\x00b\x01c\x08d", "abcd"),
        ("e\x0ef\x1fg", "efg"),
        ("制表\t换行\n回车\r保留", "制表\t换行\n回车\r保留"),
        ("坏的代理\ud800字符", "坏的代理字符"),
        ("养老床位 1200 张", "养老床位 1200 张"),
    ],
)
def test_clean_text_drops_what_a_workbook_cannot_hold_and_keeps_the_rest(typed, kept):
    assert clean_text(typed) == kept


def test_short_text_is_one_piece_unchanged():
    assert split_text("养老" * 100) == ["养老" * 100]


def test_text_over_the_cell_limit_is_split_into_marked_pieces_that_lose_nothing():
    text = "".join(str(i % 10) for i in range(CELL_LIMIT * 2 + 500))
    pieces = split_text(text)
    assert len(pieces) == 3
    assert all(len(piece) <= CELL_LIMIT for piece in pieces)
    assert pieces[0].endswith("(未完,接下行)")
    assert pieces[1].startswith("(接上行)") and pieces[1].endswith("(未完,接下行)")
    assert pieces[2].startswith("(接上行)")
    joined = "".join(p.removeprefix("(接上行)").removesuffix("(未完,接下行)") for p in pieces)
    assert joined == text


def test_fit_cell_marks_what_it_leaves_out():
    text = "床" * (CELL_LIMIT + 10)
    fitted = fit_cell(text)
    assert len(fitted) == CELL_LIMIT
    assert f"共{CELL_LIMIT + 10}字" in fitted
    assert fit_cell("短文本") == "短文本"


@pytest.mark.parametrize("typed", HOSTILE)
def test_write_text_never_makes_a_formula_in_a_normal_sheet(typed):
    workbook = Workbook()
    write_text(workbook.active["A1"], typed)
    content = saved(workbook)
    assert "<f>" not in sheet_xml(content)
    assert reopened(content).active["A1"].value == typed


def test_write_text_cleans_control_characters_instead_of_raising():
    workbook = Workbook()
    write_text(workbook.active["A1"], "a\x0bb\x00")
    assert reopened(saved(workbook)).active["A1"].value == "a\nb"


@pytest.mark.parametrize(
    ("text", "width"), [("养老", 4), ("ab", 2), ("养老ab", 6), ("（一）", 6), ("", 0)]
)
def test_display_width_counts_chinese_characters_twice(text, width):
    assert display_width(text) == width


def test_column_width_fits_the_longest_line_within_bounds():
    assert column_width(["县民政局", "县财政局、县卫生计生局"]) == 22 + 2
    assert column_width(["短"], minimum=8) == 8
    assert column_width(["很长" * 100], maximum=40) == 40
    assert column_width(["第一行\n第二行更长一些"]) == 14 + 2


@pytest.mark.parametrize(
    ("value", "number"),
    [
        (Decimal("300.00"), 300),
        (Decimal("3.07"), 3.07),
        (Decimal("0.5"), 0.5),
        (None, None),
        (Decimal("NaN"), None),
        (7, 7),
    ],
)
def test_excel_number_turns_decimals_into_summable_numbers(value, number):
    result = excel_number(value)
    assert result == number
    assert type(result) is type(number)


# -- The report workbook ---------------------------------------------------------------------


def test_report_has_the_three_sheets_in_order():
    workbook = reopened(saved(build_report(report_data())))
    assert workbook.sheetnames == [INDICATOR_SHEET, TASK_SHEET, SUBMISSION_SHEET]


def test_every_sheet_opens_with_the_title_the_date_made_and_the_headers():
    data = report_data()
    workbook = reopened(saved(build_report(data)))
    for ws in workbook.worksheets:
        assert ws["A1"].value == data.title
        assert ws["A2"].value == "制表日期:2019年8月5日"
        assert ws["A1"].font.b and ws["A1"].font.sz == 14
        merged = {str(r) for r in ws.merged_cells.ranges}
        assert f"A1:{ws.cell(HEADER_ROWS, ws.max_column).column_letter}1" in merged
    assert rows(workbook[TASK_SHEET])[2][:5] == list(TASK_TABLE_HEADERS)
    assert rows(workbook[TASK_SHEET])[2][5:] == ["完成情况", "存在问题", "下步打算", "状态"]


def test_indicator_sheet_writes_numbers_percentages_and_dates_as_such():
    ws = reopened(saved(build_report(report_data())))[INDICATOR_SHEET]
    row = ws[HEADER_ROWS + 1]
    milestone, final, actual, on, share_year, share_final = (c for c in row[3:9])
    assert (milestone.value, final.value, actual.value) == (700, 1200, 650)
    assert all(c.data_type == "n" for c in (milestone, final, actual))
    assert milestone.number_format == "#,##0"
    assert on.value == dt.datetime(2019, 6, 30) and on.is_date
    assert on.number_format == "yyyy-mm-dd"
    assert share_year.value == pytest.approx(650 / 700)
    assert share_year.number_format == "0.0%" and share_final.number_format == "0.0%"


def test_fractional_values_keep_two_decimals_and_text_targets_stay_text():
    data = report_data(
        indicators=[
            indicator(actual=Decimal("3.07"), final_target=Decimal("4.5")),
            indicator(name="建成智慧养老服务管理中心", final_target="完成", actual="已完成"),
        ]
    )
    ws = reopened(saved(build_report(data)))[INDICATOR_SHEET]
    assert ws.cell(HEADER_ROWS + 1, 6).value == 3.07
    assert ws.cell(HEADER_ROWS + 1, 6).number_format == "#,##0.00"
    assert ws.cell(HEADER_ROWS + 2, 5).value == "完成"
    assert ws.cell(HEADER_ROWS + 2, 6).value == "已完成"


def test_status_cells_are_filled_by_status():
    data = report_data(
        indicators=[indicator(status="behind"), indicator(status="achieved", status_label="已达标")]
    )
    ws = reopened(saved(build_report(data)))[INDICATOR_SHEET]
    behind, achieved = ws.cell(HEADER_ROWS + 1, 10), ws.cell(HEADER_ROWS + 2, 10)
    assert behind.value == "进度滞后"
    assert behind.fill.fgColor.rgb.endswith("FCE4D6")
    assert achieved.fill.fgColor.rgb.endswith("C6EFCE")
    assert ws.cell(HEADER_ROWS + 1, 2).fill.fill_type is None


def test_submission_sheet_writes_local_times_as_dates_and_fills_lateness():
    late = submission(timeliness="late", timeliness_label="逾期")
    ws = reopened(saved(build_report(report_data(submissions=[late]))))[SUBMISSION_SHEET]
    first = ws.cell(HEADER_ROWS + 1, 5)
    assert first.value == dt.datetime(2019, 7, 31, 10, 0)  # Beijing time, no zone
    assert first.number_format == "yyyy-mm-dd hh:mm"
    assert ws.cell(HEADER_ROWS + 1, 7).value == "逾期"
    assert ws.cell(HEADER_ROWS + 1, 7).fill.fgColor.rgb.endswith("FFEB9C")


def test_empty_values_are_empty_cells_not_zero_or_none_text():
    data = report_data(indicators=[indicator(actual=None, actual_on=None, share_of_milestone=None)])
    ws = reopened(saved(build_report(data)))[INDICATOR_SHEET]
    assert [ws.cell(HEADER_ROWS + 1, c).value for c in (6, 7, 8)] == [None, None, None]


@pytest.mark.parametrize("typed", HOSTILE)
def test_what_users_typed_is_never_a_formula(typed):
    data = report_data(
        indicators=[indicator(name=typed, conflict=typed)],
        tasks=[task(typed, progress=typed, problems=typed, next_steps=typed)],
        submissions=[submission(department=typed, liaisons=typed, phones=typed)],
    )
    content = saved(build_report(data))
    assert "<f>" not in sheet_xml(content)
    workbook = reopened(content)
    assert workbook[INDICATOR_SHEET].cell(HEADER_ROWS + 1, 2).value == typed
    assert workbook[TASK_SHEET].cell(HEADER_ROWS + 1, 1).value == typed
    assert workbook[TASK_SHEET].cell(HEADER_ROWS + 1, 6).value == typed
    assert workbook[SUBMISSION_SHEET].cell(HEADER_ROWS + 1, 1).value == typed
    # Excel's quote prefix keeps it text when someone edits the cell and presses Enter.
    assert workbook[TASK_SHEET].cell(HEADER_ROWS + 1, 6).quotePrefix


def test_ordinary_text_gets_no_quote_prefix():
    ws = reopened(saved(build_report(report_data())))[TASK_SHEET]
    assert not ws.cell(HEADER_ROWS + 1, 6).quotePrefix


def test_control_characters_pasted_from_word_are_cleaned_not_an_error():
    data = report_data(tasks=[task(progress="一、完成选址\x0b二、开工建设\x07", problems="\x00")])
    ws = reopened(saved(build_report(data)))[TASK_SHEET]
    assert ws.cell(HEADER_ROWS + 1, 6).value == "一、完成选址\n二、开工建设"
    assert ws.cell(HEADER_ROWS + 1, 7).value is None


def test_text_over_the_cell_limit_continues_in_marked_rows_below():
    long = "进展" * CELL_LIMIT  # twice the limit
    data = report_data(tasks=[task("1", progress=long), task("2")])
    ws = reopened(saved(build_report(data)))[TASK_SHEET]
    first, second, third = (ws.cell(HEADER_ROWS + i, 6).value for i in (1, 2, 3))
    assert first.endswith("(未完,接下行)") and second.startswith("(接上行)")
    assert third.startswith("(接上行)")
    assert ws.cell(HEADER_ROWS + 4, 1).value == "2"  # the next task follows the continuation
    assert ws.cell(HEADER_ROWS + 2, 1).value is None
    text = "".join(
        p.removeprefix("(接上行)").removesuffix("(未完,接下行)") for p in (first, second, third)
    )
    assert text == long


def test_sheets_print_on_a4_landscape_with_repeated_headers_and_page_numbers():
    workbook = reopened(saved(build_report(report_data())))
    for ws in workbook.worksheets:
        assert ws.page_setup.orientation == "landscape"
        assert int(ws.page_setup.paperSize) == 9
        assert int(ws.page_setup.fitToWidth) == 1 and int(ws.page_setup.fitToHeight) == 0
        assert ws.sheet_properties.pageSetUpPr.fitToPage
        assert ws.print_title_rows.replace("$", "") == f"1:{HEADER_ROWS}"
        assert ws.freeze_panes == f"A{HEADER_ROWS + 1}"
        assert "&P" in ws.oddFooter.center.text and "&N" in ws.oddFooter.center.text


def test_cells_declare_a_chinese_font_and_wrap_long_text():
    ws = reopened(saved(build_report(report_data())))[TASK_SHEET]
    cell = ws.cell(HEADER_ROWS + 1, 2)
    assert cell.font.name == "宋体"
    assert cell.alignment.wrap_text


def test_columns_are_wide_enough_for_their_chinese_headers():
    workbook = reopened(saved(build_report(report_data())))
    for ws in workbook.worksheets:
        for cell in ws[HEADER_ROWS]:
            width = ws.column_dimensions[cell.column_letter].width
            # Headers wrap, so two lines of the header must fit.
            assert width * 2 >= display_width(cell.value), (ws.title, cell.value)


def test_the_task_table_columns_read_back_exactly():
    lines = [
        task(
            "二、(一)1", table=TaskTableRow("二、(一)1", "原文\n第二行", "县民政局", "", "2019年底")
        ),
        task(
            "1.1", table=TaskTableRow("1.1", "子项", "市民政局、市财政局", "各县市区", "持续实施")
        ),
    ]
    ws = reopened(saved(build_report(report_data(tasks=lines))))[TASK_SHEET]
    read = [
        tuple(v or "" for v in row[:5])
        for row in ws.iter_rows(min_row=HEADER_ROWS + 1, values_only=True)
    ]
    assert read == [tuple(line.table) for line in lines]


def test_an_empty_report_still_has_titles_and_headers():
    data = report_data(indicators=[], tasks=[], submissions=[])
    workbook = reopened(saved(build_report(data)))
    assert [ws.max_row for ws in workbook.worksheets] == [HEADER_ROWS] * 3


def test_sheet_xml_carries_inline_strings_only():
    # Inline strings need no shared-string table, which a streamed workbook cannot build.
    xml = sheet_xml(saved(build_report(report_data())))
    assert 't="s"' not in xml and re.search(r't="inlineStr"', xml)


def test_a_report_sheet_takes_plain_values_beside_ready_made_cells():
    workbook, styles = new_workbook()
    ws = workbook.create_sheet("通报")
    ws.append([1, "文字", None, styles.text(ws, "=1+1"), dt.date(2019, 7, 31)])
    read = reopened(saved(workbook))["通报"]
    assert [c.value for c in read[1]] == [1, "文字", None, "=1+1", dt.datetime(2019, 7, 31)]
    assert read.max_row == 1
