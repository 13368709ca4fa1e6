"""Read an uploaded task table (序号 / 工作任务 / 牵头单位 / 配合单位 / 时间进度) into plain rows.

Two layouts are read, found by their header row in the first rows of a sheet (a sheet named
任务进展 first, then the others in order):

- the 任务进展 sheet of the Excel export: one row per task, 序号 = the task's clause ("1",
  "1.1", "二、(一)3"); columns after 时间进度 (完成情况, 存在问题, ...) are ignored;
- Xianyang's published table: 工作任务 spans two columns (the numbered task's short title, then
  the row's text), and a numbered task with sub-items has its 序号 and title cells merged over
  the sub-item rows. Such a group becomes the task itself ("5", text = the title) and its
  sub-items ("5.1", "5.2", ...), as the plan fixtures hold them.

A merged cell's value applies to every row it spans. Chapter rows ("一、健全完善社会保障政策体系",
merged across the table) set the chapter of the rows below them.

Nothing here touches the database. The file is untrusted: its size, its archive (a zip bomb
unpacks to gigabytes; openpyxl has no guard), its XML (defusedxml refuses entity expansion; see
`xml_is_defused`) and its row count are checked before or while reading, and reading stops at
the row limit instead of loading a sheet of a million rows.
"""

from __future__ import annotations

import datetime as dt
import io
import re
import zipfile
from dataclasses import dataclass, field

import openpyxl
from django.conf import settings
from django.utils.translation import gettext as _
from openpyxl.reader.excel import ExcelReader
from openpyxl.styles.stylesheet import apply_stylesheet
from openpyxl.utils import get_column_letter, range_boundaries
from openpyxl.worksheet._reader import DATA_TAG, DIMENSION_TAG, FORMULA_TAG, WorkSheetParser
from openpyxl.xml.functions import iterparse

from tasks.table import TASK_TABLE_HEADERS, split_departments

ALLOWED_EXTENSIONS = (".xlsx",)
MAX_ROWS = 5_000  # a plan has tens of tasks, a province's table a few thousand rows
MAX_COLUMNS = 30  # cells further right are never read
HEADER_SEARCH_ROWS = 10
MAX_MEMBERS = 1_000
MAX_UNPACKED_BYTES = 50 * 1024 * 1024
# Spreadsheet XML compresses well (10-30x); a zip bomb's members compress thousands of times.
MAX_RATIO = 200
RATIO_CHECKED_ABOVE = 1024 * 1024
PREFERRED_SHEET = "任务进展"
# Old .xls files and password-protected .xlsx files are OLE compound documents, not zips.
OLE_SIGNATURE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
CHAPTER_ROW = re.compile(r"^[一二三四五六七八九十百]+、")
SUBITEM_NUMBER = re.compile(r"^[((](\d+)[))]")
CLAUSE_TAIL = re.compile(r"([((][一二三四五六七八九十]+[))])?\d*")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_WHITESPACE = re.compile(r"\s+")
# Other names people give the contract's columns.
HEADER_ALIASES = {
    "编号": "序号",
    "主要任务": "工作任务",
    "重点任务": "工作任务",
    "任务": "工作任务",
    "牵头部门": "牵头单位",
    "责任单位": "配合单位",
    "配合部门": "配合单位",
    "完成时限": "时间进度",
    "时间安排": "时间进度",
}
CHAPTER_HEADER = "章节"


class ImportFileError(Exception):
    """The upload cannot be read as a task table; the message says why, in the user's words."""


def max_upload_bytes() -> int:
    return settings.IMPORT_MAX_BYTES


def xml_is_defused() -> bool:
    """True when openpyxl parses with defusedxml, which refuses entity expansion."""
    return openpyxl.DEFUSEDXML is True


@dataclass(frozen=True)
class SheetRow:
    """One data row of the sheet with the contract's cells as text (merged values filled in)."""

    row: int
    number: str
    task: str
    item: str | None  # the second 工作任务 column of Xianyang's layout, else None
    lead: str
    support: str
    schedule: str
    chapter: str  # the 章节 cell, or the chapter row above it
    problems: tuple[str, ...] = ()
    group: int | None = None  # the first row of a merged 序号 cell spanning several rows
    shares_task: bool = False  # its 工作任务 cell is merged with the group's first row's


@dataclass(frozen=True)
class TableEntry:
    """One task as the file states it, keyed by its clause."""

    row: int
    clause: str
    number: str
    parent_clause: str | None
    title: str | None
    text: str
    lead: tuple[str, ...]
    support: tuple[str, ...]
    schedule: str
    chapter: str
    problems: tuple[str, ...] = ()


@dataclass
class ParsedTable:
    sheet: str
    header_row: int
    two_text_columns: bool
    rows: list[SheetRow] = field(default_factory=list)
    ignored: list[tuple[int, str]] = field(default_factory=list)


# -- the file ------------------------------------------------------------------------------------


def check_upload(name: str, data: bytes, *, max_bytes: int | None = None) -> None:
    """Refuse an upload that is empty, too big, not .xlsx, or not a sane Excel archive."""
    limit = max_bytes if max_bytes is not None else max_upload_bytes()
    if not (name or "").lower().endswith(ALLOWED_EXTENSIONS):
        raise ImportFileError(_("只能导入 Excel 工作簿(.xlsx 文件)。"))
    if not data:
        raise ImportFileError(_("文件是空的。"))
    if len(data) > limit:
        raise ImportFileError(
            _("文件过大(%(size)s),上限为 %(limit)s。")
            % {"size": _megabytes(len(data)), "limit": _megabytes(limit)}
        )
    check_archive(data)


def check_archive(data: bytes) -> None:
    """Check the zip's declared sizes before anything unpacks it (openpyxl has no such guard)."""
    if data.startswith(OLE_SIGNATURE):
        raise ImportFileError(
            _("这是旧版 .xls 或设置了密码的工作簿,请在 Excel 中另存为不加密的 .xlsx 后再导入。")
        )
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, OSError, ValueError):
        raise ImportFileError(_("文件不是 Excel 工作簿(.xlsx)。")) from None
    with archive:
        members = archive.infolist()
        names = {m.filename for m in members}
        if "xl/workbook.xml" not in names:
            if "word/document.xml" in names:
                raise ImportFileError(
                    _("这是 Word 文档,不是 Excel 工作簿,请另存为 .xlsx 后再导入。")
                )
            raise ImportFileError(_("文件不是 Excel 工作簿(.xlsx)。"))
        if len(members) > MAX_MEMBERS:
            raise ImportFileError(_("工作簿结构异常(包含的部件过多),已拒绝。"))
        total = 0
        for member in members:
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > RATIO_CHECKED_ABOVE and ratio > MAX_RATIO:
                raise ImportFileError(_("工作簿解压后异常膨胀(疑似压缩炸弹),已拒绝。"))
        if total > MAX_UNPACKED_BYTES:
            raise ImportFileError(
                _("工作簿解压后过大(%(size)s),上限为 %(limit)s。")
                % {"size": _megabytes(total), "limit": _megabytes(MAX_UNPACKED_BYTES)}
            )


def _megabytes(size: int) -> str:
    return f"{size / 1024 / 1024:.1f} MB"


# -- cells -----------------------------------------------------------------------------------


def cell_text(value: object) -> str:
    """A cell's value as the text it shows: numbers without a trailing .0, dates as ISO dates.

    Control characters (Word's vertical tab \\x0b) are dropped and line ends made \\n.
    """
    if value is None:
        return ""
    if isinstance(value, bool):
        return _("是") if value else _("否")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    text = str(value).replace("\r\n", "\n").replace("\r", "\n")
    return _CONTROL.sub("", text).strip()


def header_name(value: object) -> str:
    name = _WHITESPACE.sub("", cell_text(value))
    return HEADER_ALIASES.get(name, name)


class _CellParser(WorkSheetParser):
    """openpyxl's own streaming sheet parser, reading cached values and flagging formula cells.

    `load_workbook(data_only=True)` gives a formula's cached value but hides that it was a
    formula; this keeps both in one pass, so a formula without a cached value is told apart
    from an empty cell.
    """

    def parse_cell(self, element):
        cell = super().parse_cell(element)
        cell["formula"] = element.find(FORMULA_TAG) is not None
        return cell


@dataclass(frozen=True)
class _Cell:
    value: object
    formula: bool = False
    error: bool = False


@dataclass(frozen=True)
class _Sheet:
    name: str
    path: str  # the sheet's part inside the archive


class _Workbook:
    """The parts of a workbook the import needs, read by openpyxl's own reader step by step.

    `load_workbook(read_only=True)` would scan every sheet of the file to its end whenever a
    sheet has no <dimension> (openpyxl looks for it until </sheetData>), which is a full read
    of a hostile million-row sheet before a single check; this reads the workbook part, the
    shared strings and the styles (for dates) and leaves the sheets to `_read_grid`.
    """

    def __init__(self, data: bytes):
        self.reader = ExcelReader(io.BytesIO(data), read_only=True, data_only=True)
        self.reader.read_manifest()
        self.reader.read_strings()
        self.reader.read_workbook()
        apply_stylesheet(self.reader.archive, self.reader.wb)
        self.book = self.reader.wb
        self.sheets = [
            _Sheet(sheet.name, rel.target)
            for sheet, rel in self.reader.parser.find_sheets()
            if "chartsheet" not in rel.Type and rel.target in self.reader.valid_files
        ]

    def open(self, sheet: _Sheet):
        return self.reader.archive.open(sheet.path)

    def close(self) -> None:
        self.reader.archive.close()


def _declared_rows(source) -> int | None:
    """The last row the sheet's <dimension> declares, read without reaching the rows."""
    for _event, element in iterparse(source, events=("start",)):
        if element.tag == DIMENSION_TAG:
            try:
                return range_boundaries(element.get("ref", ""))[3]
            except (TypeError, ValueError):
                return None
        if element.tag == DATA_TAG:
            return None
    return None


def _read_grid(
    workbook: _Workbook, sheet: _Sheet, max_rows: int
) -> tuple[dict[tuple[int, int], _Cell], int]:
    """The sheet's cells up to `max_rows`, with merged values copied to every cell they span."""
    with workbook.open(sheet) as source:
        declared = _declared_rows(source)
    if declared is not None and declared > max_rows:
        raise _too_many_rows(max_rows)
    grid: dict[tuple[int, int], _Cell] = {}
    last_row = 0
    with workbook.open(sheet) as source:
        parser = _CellParser(
            source,
            workbook.reader.shared_strings,
            data_only=True,
            epoch=workbook.book.epoch,
            date_formats=workbook.book._date_formats,
            timedelta_formats=workbook.book._timedelta_formats,
        )
        for index, cells in parser.parse():
            if index > max_rows:  # the dimension was missing or lied: stop here
                raise _too_many_rows(max_rows)
            for cell in cells:
                if cell["column"] > MAX_COLUMNS:
                    continue
                if cell["value"] is None and not cell["formula"]:
                    continue
                last_row = max(last_row, index)
                grid[(index, cell["column"])] = _Cell(
                    cell["value"], cell["formula"], cell["data_type"] == "e"
                )
        merged = parser.merged_cells
    for ref in [m.ref for m in merged.mergeCell] if merged is not None else []:
        min_col, min_row, max_col, max_row = range_boundaries(str(ref))
        source_cell = grid.get((min_row, min_col))
        if source_cell is None:
            continue
        for r in range(min_row, min(max_row, last_row) + 1):
            for c in range(min_col, min(max_col, MAX_COLUMNS) + 1):
                grid[(r, c)] = source_cell
    return grid, last_row


def _too_many_rows(limit: int) -> ImportFileError:
    return ImportFileError(
        _("表格超过 %(limit)s 行,无法导入;请只保留任务表本身。") % {"limit": f"{limit:,}"}
    )


@dataclass(frozen=True)
class _Columns:
    number: int
    task: int
    item: int | None
    lead: int
    support: int
    schedule: int
    chapter: int | None


def _find_header(grid, last_row: int) -> tuple[int, _Columns] | None:
    for r in range(1, min(last_row, HEADER_SEARCH_ROWS) + 1):
        names: dict[str, list[int]] = {}
        for c in range(1, MAX_COLUMNS + 1):
            cell = grid.get((r, c))
            if cell is not None:
                names.setdefault(header_name(cell.value), []).append(c)
        if not all(h in names for h in TASK_TABLE_HEADERS):
            continue
        task = names["工作任务"][0]
        lead = names["牵头单位"][0]
        item = None
        if len(names["工作任务"]) > 1 and names["工作任务"][1] < lead:
            item = names["工作任务"][1]
        elif task + 1 < lead and grid.get((r, task + 1)) is None:
            item = task + 1  # an unlabelled column between 工作任务 and 牵头单位
        columns = _Columns(
            number=names["序号"][0],
            task=task,
            item=item,
            lead=lead,
            support=names["配合单位"][0],
            schedule=names["时间进度"][0],
            chapter=names.get(CHAPTER_HEADER, [None])[0],
        )
        return r, columns
    return None


def _is_heading_row(cells: list[str]) -> bool:
    """A chapter or note row: one cell merged across the table, or a lone chapter number."""
    filled = [c for c in cells if c]
    if not filled or not cells[0] or len(set(filled)) != 1:
        return False
    if len(filled) > 1:
        return True
    # a lone "一、总体目标" is a chapter; a lone "二、(五)" is a task's clause without its text
    match = CHAPTER_ROW.match(cells[0])
    return bool(match) and not CLAUSE_TAIL.fullmatch(cells[0][match.end() :])


def read_task_table(data: bytes, *, max_rows: int = MAX_ROWS) -> ParsedTable:
    """Read the task table of an .xlsx file already passed through `check_upload`."""
    if not xml_is_defused():  # never parse untrusted XML without defusedxml
        raise ImportFileError(_("服务器缺少安全解析组件(defusedxml),暂不能导入。"))
    try:
        workbook = _Workbook(data)
    except Exception:  # openpyxl raises anything from KeyError to XML errors on a bad file
        raise ImportFileError(_("无法读取该工作簿,文件可能已损坏或不是 Excel 格式。")) from None
    try:
        sheets = sorted(workbook.sheets, key=lambda sheet: sheet.name != PREFERRED_SHEET)
        any_content = False
        for sheet in sheets:
            try:
                grid, last_row = _read_grid(workbook, sheet, max_rows)
            except ImportFileError:
                raise
            except Exception:
                raise ImportFileError(
                    _("无法读取工作表“%(sheet)s”,文件可能已损坏。") % {"sheet": sheet.name}
                ) from None
            any_content = any_content or bool(grid)
            found = _find_header(grid, last_row)
            if found is not None:
                return _table_rows(sheet.name, grid, last_row, *found)
    finally:
        workbook.close()
    if not any_content:
        raise ImportFileError(_("工作簿是空的,没有任何内容。"))
    raise ImportFileError(
        _("没有找到任务表的表头:前 %(rows)s 行中应有“%(headers)s”各列。")
        % {"rows": HEADER_SEARCH_ROWS, "headers": "、".join(TASK_TABLE_HEADERS)}
    )


def _table_rows(name: str, grid, last_row: int, header_row: int, cols: _Columns) -> ParsedTable:
    table = ParsedTable(sheet=name, header_row=header_row, two_text_columns=cols.item is not None)
    used = [
        c
        for c in (cols.number, cols.task, cols.item, cols.lead, cols.support, cols.schedule)
        if c is not None
    ]
    number_spans: dict[int, int] = {}  # row → first row of the merged 序号 cell it lies in
    chapter = ""
    for r in range(header_row + 1, last_row + 1):
        cells = [grid.get((r, c)) for c in used]
        texts = [cell_text(cell.value) if cell else "" for cell in cells]
        if not any(texts) and not any(cell and cell.formula for cell in cells):
            continue
        if _is_heading_row(texts):
            if CHAPTER_ROW.match(texts[0]):
                chapter = texts[0]
            else:
                table.ignored.append((r, texts[0]))
            continue
        problems = []
        for c in used + ([cols.chapter] if cols.chapter else []):
            cell = grid.get((r, c))
            where = f"{get_column_letter(c)}{r}"
            if cell is not None and cell.formula and cell.value is None:
                problems.append(_("%(cell)s 是公式,且没有保存计算结果") % {"cell": where})
            elif cell is not None and cell.error:
                problems.append(
                    _("%(cell)s 是错误值 %(value)s") % {"cell": where, "value": cell.value}
                )
        number_cell = grid.get((r, cols.number))
        group = None
        # A merged cell is one object copied to every row it spans (see _read_grid).
        previous = grid.get((r - 1, cols.number))
        if number_cell is not None and previous is number_cell and r - 1 > header_row:
            group = number_spans.get(r - 1, r - 1)
        elif (
            cols.item is not None
            and number_cell is None
            and table.rows
            and table.rows[-1].row == r - 1
        ):
            group = number_spans.get(r - 1, r - 1)  # a blank 序号 continues the task above
        shares_task = False
        if group is not None:
            number_spans[r] = group
            task_cell = grid.get((r, cols.task))
            shares_task = task_cell is not None and task_cell is grid.get((group, cols.task))
        row_chapter = chapter
        if cols.chapter is not None:
            chapter_cell = grid.get((r, cols.chapter))
            row_chapter = cell_text(chapter_cell.value) if chapter_cell else ""
        table.rows.append(
            SheetRow(
                row=r,
                number=_WHITESPACE.sub("", texts[0]),
                task=texts[1],
                item=texts[2] if cols.item is not None else None,
                lead=texts[-3],
                support=texts[-2],
                schedule=texts[-1],
                chapter=row_chapter,
                problems=tuple(problems),
                group=group,
                shares_task=shares_task,
            )
        )
    return table


# -- rows into tasks -------------------------------------------------------------------------


def table_entries(table: ParsedTable) -> list[TableEntry]:
    """The tasks the rows state, in file order.

    Each row is one task, its 序号 its clause; a 序号 like "(2)" under task "5" is that task's
    sub-item "5.2". Rows sharing a merged 序号 "5" are sub-items "5.1", "5.2", ... of task "5",
    whose text is the title cell in Xianyang's layout, or the 工作任务 cell when that is merged
    over the same rows too (each sub-item then carries that text as well). Without either,
    task "5" is not stated by the file and only its sub-items are.
    """
    groups: dict[int, list[SheetRow]] = {}
    order: list[list[SheetRow]] = []
    for row in table.rows:
        if row.group is not None and row.group in groups:
            groups[row.group].append(row)
        else:
            groups[row.row] = [row]
            order.append(groups[row.row])
    entries: list[TableEntry] = []
    last_top: str | None = None
    for rows in order:
        first = rows[0]
        if len(rows) > 1:
            number = first.number
            two = table.two_text_columns
            if two or all(row.shares_task for row in rows[1:]):
                entries.append(
                    TableEntry(
                        row=first.row,
                        clause=number,
                        number=number,
                        parent_clause=None,
                        title=first.task if two else None,
                        text=first.task,
                        lead=(),
                        support=(),
                        schedule="",
                        chapter=first.chapter,
                    )
                )
            for i, row in enumerate(rows, start=1):
                text = (row.item or "") if two else row.task
                entries.append(
                    _entry(row, f"{number}.{i}" if number else "", f"({i})", number, text)
                )
            last_top = number
            continue
        row = first
        text = (row.item or row.task) if table.two_text_columns else row.task
        title = row.task if table.two_text_columns and row.item else None
        sub = SUBITEM_NUMBER.match(row.number)
        if sub and last_top:
            entries.append(
                _entry(row, f"{last_top}.{sub[1]}", f"({sub[1]})", last_top, text, title)
            )
            continue
        parent = _parent_clause(row.number)
        number = f"({parent[1]})" if parent else _own_number(row.number)
        entries.append(_entry(row, row.number, number, parent[0] if parent else None, text, title))
        if parent is None:
            last_top = row.number
    return entries


def _entry(
    row: SheetRow, clause: str, number: str, parent: str | None, text: str, title=None
) -> TableEntry:
    return TableEntry(
        row=row.row,
        clause=clause,
        number=number,
        parent_clause=parent,
        title=title,
        text=text,
        lead=tuple(split_departments(row.lead)),
        support=tuple(split_departments(row.support)),
        schedule=row.schedule,
        chapter=row.chapter,
        problems=row.problems,
    )


def _parent_clause(clause: str) -> tuple[str, str] | None:
    """ "5.2" is sub-item 2 of task "5"; other clauses ("二、(一)3") have no parent."""
    match = re.fullmatch(r"(.+)\.(\d+)", clause)
    return (match[1], match[2]) if match else None


def _own_number(clause: str) -> str:
    """The number a task has within its section: "二、(一)3" → "3"."""
    match = re.search(r"(\d+)$", clause)
    return match[1] if match else clause[:20]
