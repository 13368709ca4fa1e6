"""Reading an uploaded task table: the layouts, merged cells, odd values, and hostile files."""

from __future__ import annotations

import datetime as dt
import io
import re
import time
import zipfile

import openpyxl
import pytest

from tasks import importing
from tasks.importing import (
    ImportFileError,
    cell_text,
    check_upload,
    read_task_table,
    table_entries,
    xml_is_defused,
)
from tasks.table import TASK_TABLE_HEADERS

HEADER = list(TASK_TABLE_HEADERS)


def workbook(*sheets: tuple[str, list[list[object]]], merges: dict[str, list[str]] | None = None):
    """An .xlsx file as bytes: sheets by name with their rows, and merged ranges per sheet."""
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name, rows in sheets:
        sheet = book.create_sheet(name)
        for row in rows:
            sheet.append(row)
        for ref in (merges or {}).get(name, []):
            sheet.merge_cells(ref)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def replace_member(data: bytes, name: str, content: bytes | str) -> bytes:
    """The same zip with one member's content replaced."""
    source = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as target:
        for info in source.infolist():
            body = source.read(info.filename)
            if info.filename == name:
                body = content.encode() if isinstance(content, str) else content
            target.writestr(info.filename, body)
    return out.getvalue()


def sheet_xml(data: bytes) -> str:
    return zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml").decode()


def read(data: bytes, **kw):
    check_upload("任务表.xlsx", data)
    return read_task_table(data, **kw)


def entries_of(data: bytes):
    return table_entries(read(data))


# -- the export's layout ----------------------------------------------------------------------


def test_the_export_layout_is_read_after_its_title_rows_and_extra_columns_are_ignored():
    data = workbook(
        (
            "任务进展",
            [
                ["柳城县养老服务改革试验区方案 2019年上半年工作情况"],
                ["制表日期:2019-07-10"],
                [*HEADER, "完成情况", "存在问题", "下步打算", "状态"],
                [
                    "二、(一)1",
                    "新建成1所示范性养护机构",
                    "县民政局",
                    "县财政局、县发展改革局",
                    "",
                    "已开工",
                    "无",
                    "继续",
                    "正常推进",
                ],
            ],
        )
    )
    table = read(data)
    assert (table.sheet, table.header_row, table.two_text_columns) == ("任务进展", 3, False)
    [entry] = table_entries(table)
    assert entry.clause == "二、(一)1"
    assert entry.text == "新建成1所示范性养护机构"
    assert entry.lead == ("县民政局",)
    assert entry.support == ("县财政局", "县发展改革局")
    assert entry.parent_clause is None
    assert entry.row == 4


def test_the_task_progress_sheet_is_preferred_over_other_sheets_with_the_same_header():
    data = workbook(
        ("指标完成情况", [HEADER, ["9", "别的表", "", "", ""]]),
        ("任务进展", [HEADER, ["1", "任务进展表里的任务", "", "", ""]]),
    )
    [entry] = entries_of(data)
    assert entry.text == "任务进展表里的任务"


def test_the_header_is_found_on_any_sheet_and_under_other_usual_column_names():
    data = workbook(
        ("说明", [["本文件为任务分工表"]]),
        (
            "Sheet2",
            [
                ["序 号", "主要任务", "牵头部门", "责任单位", "完成时限"],
                ["1", "任务", "县民政局", "", "2019年"],
            ],
        ),
    )
    table = read(data)
    assert table.sheet == "Sheet2"
    [entry] = table_entries(table)
    assert (entry.lead, entry.schedule) == (("县民政局",), "2019年")


def test_a_sub_item_number_under_a_numbered_task_becomes_its_sub_clause():
    data = workbook(
        (
            "任务",
            [
                HEADER,
                ["5", "放宽准入条件", "", "", ""],
                ["(1)", "降低准入门槛", "市民政局", "", ""],
                ["(2)", "支持多元投入", "", "", ""],
            ],
        )
    )
    entries = entries_of(data)
    assert [(e.clause, e.number, e.parent_clause) for e in entries] == [
        ("5", "5", None),
        ("5.1", "(1)", "5"),
        ("5.2", "(2)", "5"),
    ]


def test_a_dotted_clause_names_its_parent():
    [parent, child] = entries_of(
        workbook(("任务", [HEADER, ["3", "甲", "", "", ""], ["3.2", "乙", "", "", ""]]))
    )
    assert (child.parent_clause, child.number) == ("3", "(2)")
    assert parent.parent_clause is None


# -- Xianyang's published layout: merged cells ---------------------------------------------------


XIANYANG_ROWS = [
    ["咸阳市加快推进养老服务体系建设重点任务分工"],
    ["序号", "工作任务", None, "牵头单位", "配合单位", "时间进度"],
    ["一、健全完善社会保障政策体系"],
    [
        "1",
        "完善社会救助制度。",
        "建立和完善社会救助制度。",
        "市民政局",
        "市财政局、市残联,各县市区人民政府",
        "2019年6月,完成摸底。(持续实施)",
    ],
    [None, None, "完善临时救助制度。", "市民政局", "市财政局", "(持续实施)"],
    [None, None, "坚持精准扶贫。", "市民政局", "", ""],
    ["二、全面放开养老服务市场"],
    [
        "9",
        "加强农村 养老服务",
        "建立农村互助幸福院运行保障机制。",
        "市民政局\n",
        "市卫生健康 委员会",
        "持续实施",
    ],
]
XIANYANG_MERGES = {"分工": ["A1:F1", "B2:C2", "A3:F3", "A4:A6", "B4:B6", "A7:F7"]}


def test_xianyang_merged_cells_give_the_task_and_one_sub_item_per_row():
    table = read(workbook(("分工", XIANYANG_ROWS), merges=XIANYANG_MERGES))
    assert table.two_text_columns
    entries = table_entries(table)
    assert [(e.clause, e.number, e.parent_clause) for e in entries] == [
        ("1", "1", None),
        ("1.1", "(1)", "1"),
        ("1.2", "(2)", "1"),
        ("1.3", "(3)", "1"),
        ("9", "9", None),
    ]
    parent, first, second, _, single = entries
    assert (parent.text, parent.title, parent.lead, parent.schedule) == (
        "完善社会救助制度。",
        "完善社会救助制度。",
        (),
        "",
    )
    assert first.text == "建立和完善社会救助制度。"
    assert first.support == ("市财政局", "市残联", "各县市区人民政府")
    assert second.schedule == "(持续实施)"
    assert (single.title, single.text) == ("加强农村 养老服务", "建立农村互助幸福院运行保障机制。")
    assert single.lead == ("市民政局",)


def test_chapter_rows_set_the_chapter_of_the_rows_below_them():
    entries = entries_of(workbook(("分工", XIANYANG_ROWS), merges=XIANYANG_MERGES))
    assert [e.chapter for e in entries] == ["一、健全完善社会保障政策体系"] * 4 + [
        "二、全面放开养老服务市场"
    ]


def test_a_blank_number_cell_continues_the_numbered_task_above_when_nothing_is_merged():
    rows = [row[:] for row in XIANYANG_ROWS]
    rows[1][2] = ""  # an unlabelled second 工作任务 column, not merged
    entries = entries_of(workbook(("分工", rows), merges={"分工": ["A3:F3", "A7:F7"]}))
    assert [e.clause for e in entries] == ["1", "1.1", "1.2", "1.3", "9"]


def test_merged_number_and_task_cells_in_the_one_column_layout_apply_to_every_row():
    rows = [
        HEADER,
        ["7", "夯实居家养老服务基础", "市民政局", "", "2019年"],
        [None, None, "市财政局", "", "2020年"],
    ]
    entries = entries_of(workbook(("任务", rows), merges={"任务": ["A2:A3", "B2:B3"]}))
    assert [(e.clause, e.text, e.lead, e.schedule) for e in entries] == [
        ("7", "夯实居家养老服务基础", (), ""),
        ("7.1", "夯实居家养老服务基础", ("市民政局",), "2019年"),
        ("7.2", "夯实居家养老服务基础", ("市财政局",), "2020年"),
    ]


def test_a_merged_number_over_rows_with_their_own_text_states_only_the_sub_items():
    rows = [HEADER, ["7", "甲", "", "", ""], [None, "乙", "", "", ""]]
    entries = entries_of(workbook(("任务", rows), merges={"任务": ["A2:A3"]}))
    assert [(e.clause, e.text, e.parent_clause) for e in entries] == [
        ("7.1", "甲", "7"),
        ("7.2", "乙", "7"),
    ]


def test_a_merge_over_the_whole_sheet_is_clipped_to_the_rows_present():
    rows = [HEADER, ["1", "甲", "", "", ""]]
    data = workbook(("任务", rows))
    # written by hand: openpyxl itself would create twenty million cells for this merge
    xml = sheet_xml(data).replace(
        "</sheetData>",
        '</sheetData><mergeCells count="1"><mergeCell ref="G1:Z1048576"/></mergeCells>',
    )
    data = replace_member(data, "xl/worksheets/sheet1.xml", xml)
    started = time.perf_counter()
    [entry] = entries_of(data)
    assert entry.text == "甲"
    assert time.perf_counter() - started < 2


def test_a_lone_clause_without_its_text_is_a_row_to_reject_not_a_chapter():
    rows = [HEADER, ["三、居家养老"], ["三、(二)"], ["三、(二)1", "甲", "", "", ""]]
    entries = entries_of(workbook(("任务", rows)))
    assert [(e.clause, e.text, e.chapter) for e in entries] == [
        ("三、(二)", "", "三、居家养老"),
        ("三、(二)1", "甲", "三、居家养老"),
    ]


def test_a_note_merged_across_the_table_is_listed_as_ignored_not_imported():
    rows = [HEADER, ["1", "甲", "", "", ""], ["注:以上任务由各单位负责"]]
    table = read(workbook(("任务", rows), merges={"任务": ["A3:E3"]}))
    assert [e.clause for e in table_entries(table)] == ["1"]
    assert table.ignored == [(3, "注:以上任务由各单位负责")]


# -- values in cells ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (None, ""),
        (1, "1"),
        (1.0, "1"),
        (1.1, "1.1"),
        (dt.datetime(2019, 6, 30), "2019-06-30"),
        (dt.datetime(2019, 6, 30, 8, 30), "2019-06-30 08:30:00"),
        (dt.date(2019, 6, 30), "2019-06-30"),
        (True, "是"),
        ("  县民政局 \r\n", "县民政局"),
        ("第一行\r\n第二行", "第一行\n第二行"),
        ("含\x0b垂直制表符\x00", "含垂直制表符"),
    ],
)
def test_cell_text_shows_a_value_as_the_cell_shows_it(value, text):
    assert cell_text(value) == text


def test_numbers_and_dates_typed_into_cells_are_read_as_text():
    rows = [HEADER, [1, "甲", "", "", dt.datetime(2019, 6, 30)], [2.5, 3, "", "", 2020]]
    first, second = entries_of(workbook(("任务", rows)))
    assert (first.clause, first.schedule) == ("1", "2019-06-30")
    assert (second.clause, second.text, second.schedule) == ("2.5", "3", "2020")


def test_a_huge_value_is_read_whole_for_the_preview_to_reject():
    long = "长" * 32_000
    [entry] = entries_of(workbook(("任务", [HEADER, ["1", long, "", "", ""]])))
    assert len(entry.text) == 32_000


def test_an_error_value_makes_a_problem_of_the_row():
    [entry] = entries_of(workbook(("任务", [HEADER, ["1", "#N/A", "", "", ""]])))
    assert entry.problems == ("B2 是错误值 #N/A",)


def test_a_formula_with_a_cached_value_reads_the_value():
    data = workbook(("任务", [HEADER, ["1", "=A1", "", "", ""]]))
    xml = sheet_xml(data).replace("<f>A1</f><v />", "<f>A1</f><v>按公式算出的任务</v>")
    xml = xml.replace('<c r="B2">', '<c r="B2" t="str">')
    [entry] = entries_of(replace_member(data, "xl/worksheets/sheet1.xml", xml))
    assert (entry.text, entry.problems) == ("按公式算出的任务", ())


def test_a_formula_without_a_cached_value_makes_a_problem_of_the_row():
    data = workbook(("任务", [HEADER, ["1", "甲", "=SUM(1,2)", "", ""]]))
    [entry] = entries_of(data)
    assert entry.problems == ("C2 是公式,且没有保存计算结果",)


# -- hostile files -------------------------------------------------------------------------------


def refused(name: str, data: bytes, **kw) -> str:
    with pytest.raises(ImportFileError) as error:
        check_upload(name, data, **kw)
        read_task_table(data)
    return str(error.value)


def test_an_empty_file_is_refused():
    assert refused("任务表.xlsx", b"") == "文件是空的。"


@pytest.mark.parametrize(
    "name", ["任务表.xls", "任务表.csv", "任务表.docx", "任务表", "任务表.xlsx.exe"]
)
def test_a_file_without_the_xlsx_extension_is_refused(name):
    assert "只能导入 Excel 工作簿" in refused(name, workbook(("任务", [HEADER])))


def test_a_file_over_the_size_limit_is_refused(settings):
    settings.IMPORT_MAX_BYTES = 1000
    message = refused("任务表.xlsx", workbook(("任务", [HEADER])))
    assert "文件过大" in message
    assert "上限为 0.0 MB" in message


def test_the_size_limit_is_a_setting_of_five_megabytes_by_default():
    from django.conf import settings

    assert settings.IMPORT_MAX_BYTES == 5 * 1024 * 1024


@pytest.mark.parametrize(
    "data", [b"not a workbook at all", b"PK\x03\x04 broken zip", "序号,工作任务\n1,甲".encode()]
)
def test_something_that_is_not_a_workbook_is_refused(data):
    assert "不是 Excel 工作簿" in refused("任务表.xlsx", data)


def test_an_old_or_password_protected_workbook_is_refused_with_what_to_do():
    message = refused("任务表.xlsx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 512)
    assert "另存为不加密的 .xlsx" in message


def test_a_renamed_word_document_is_refused_by_name():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as docx:
        docx.writestr("[Content_Types].xml", "<Types/>")
        docx.writestr("word/document.xml", "<w:document/>")
    assert "这是 Word 文档" in refused("任务表.xlsx", out.getvalue())


def test_a_zip_without_a_workbook_part_is_refused():
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("readme.txt", "hello")
    assert "不是 Excel 工作簿" in refused("任务表.xlsx", out.getvalue())


def test_a_workbook_with_a_broken_part_is_refused_with_a_message():
    data = replace_member(workbook(("任务", [HEADER])), "xl/workbook.xml", "<workbook")
    assert "无法读取该工作簿" in refused("任务表.xlsx", data)


def test_a_zip_bomb_is_refused_before_anything_unpacks_it(monkeypatch):
    monkeypatch.setattr(importing.openpyxl, "load_workbook", pytest.fail)
    data = replace_member(
        workbook(("任务", [HEADER])), "xl/worksheets/sheet1.xml", b"\0" * (60 * 1024 * 1024)
    )
    assert len(data) < 1024 * 1024
    assert "疑似压缩炸弹" in refused("任务表.xlsx", data)


def test_a_workbook_unpacking_beyond_the_limit_is_refused(monkeypatch):
    monkeypatch.setattr(importing, "MAX_UNPACKED_BYTES", 10_000)
    assert "解压后过大" in refused("任务表.xlsx", workbook(("任务", [HEADER, ["1", "甲" * 5000]])))


def test_openpyxl_parses_with_defusedxml():
    assert openpyxl.DEFUSEDXML is True
    assert xml_is_defused()


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
"""


def test_a_billion_laughs_sheet_is_refused_without_expanding_it():
    data = workbook(("任务", [HEADER]))
    xml = sheet_xml(data).replace(
        "<sheetData>",
        '<sheetData><row r="9"><c r="A9" t="inlineStr"><is><t>&lol9;</t></is></c></row>',
        1,
    )
    bomb = replace_member(data, "xl/worksheets/sheet1.xml", BILLION_LAUGHS + xml)
    started = time.perf_counter()
    assert "无法读取" in refused("任务表.xlsx", bomb)
    assert time.perf_counter() - started < 5


def test_a_billion_laughs_in_the_workbook_part_is_refused():
    data = workbook(("任务", [HEADER]))
    part = zipfile.ZipFile(io.BytesIO(data)).read("xl/workbook.xml").decode()
    part = re.sub(r"^<\?xml[^>]*\?>", "", part).replace('name="任务"', 'name="&lol9;"')
    bomb = replace_member(data, "xl/workbook.xml", BILLION_LAUGHS + part)
    assert "无法读取" in refused("任务表.xlsx", bomb)


def test_an_empty_sheet_is_refused():
    assert "工作簿是空的" in refused("任务表.xlsx", workbook(("任务", [])))


def test_a_sheet_without_the_header_is_refused_naming_the_columns():
    message = refused("任务表.xlsx", workbook(("任务", [["名称", "数量"], ["甲", 1]])))
    assert "没有找到任务表的表头" in message
    assert "序号、工作任务、牵头单位、配合单位、时间进度" in message


def hundred_thousand_rows(*, dimension: bool) -> bytes:
    data = workbook(("任务", [HEADER]))
    rows = "".join(
        f'<row r="{r}"><c r="A{r}" t="inlineStr"><is><t>{r}</t></is></c></row>'
        for r in range(2, 100_002)
    )
    xml = sheet_xml(data)
    xml = re.sub(r"<sheetData>.*</sheetData>", f"<sheetData>{rows}</sheetData>", xml)
    xml = re.sub(r"<dimension [^>]*/>", '<dimension ref="A1:E100001" />' if dimension else "", xml)
    return replace_member(data, "xl/worksheets/sheet1.xml", xml)


def test_a_sheet_declaring_a_hundred_thousand_rows_is_refused_before_reading_them():
    started = time.perf_counter()
    assert "表格超过 5,000 行" in refused("任务表.xlsx", hundred_thousand_rows(dimension=True))
    assert time.perf_counter() - started < 3


def test_a_sheet_hiding_a_hundred_thousand_rows_stops_reading_at_the_limit(monkeypatch):
    parsed = []
    original = importing._CellParser.parse_row

    def counting(self, row):
        parsed.append(1)
        return original(self, row)

    monkeypatch.setattr(importing._CellParser, "parse_row", counting)
    assert "表格超过 5,000 行" in refused("任务表.xlsx", hundred_thousand_rows(dimension=False))
    assert len(parsed) <= importing.MAX_ROWS + 1  # not the 100,000 in the file


def test_cells_far_to_the_right_are_not_read():
    data = workbook(("任务", [HEADER + [""] * 40 + ["远处"], ["1", "甲", "", "", ""]]))
    [entry] = entries_of(data)
    assert entry.text == "甲"
