"""The formatted Excel workbooks, built from plain rows and nothing else.

The builders here take dataclasses (`reports/export.py` gathers them) and return an openpyxl
workbook in write-only mode, so a province-size plan streams row by row instead of holding a
cell object per value. No database access, no request: the view and the command only save it.

The low-level helpers are shared by every sheet the office hands in (the circular too):

- `clean_text` strips the control characters Word pastes (\\x0b and friends) that openpyxl
  refuses with IllegalCharacterError;
- `write_text` / `Styles.text` write what a user typed as a string cell, always: openpyxl
  turns any string starting with "=" into a live formula, and Excel re-evaluates = + - @ on
  edit, so such cells are forced to type "s" and get Excel's quote prefix;
- `split_text` and `append_row` keep text over Excel's 32,767-character cell limit visible in
  continuation rows, marked at both ends, where openpyxl would cut it silently;
- `Styles` registers the shared cell styles once per workbook and stamps them onto cells as a
  shared style array (assigning Font/Fill objects per cell is what makes styled exports slow);
- `apply_print_setup` makes a sheet print like the bureau's tables: A4 landscape, fitted to the
  page width, header rows repeated and frozen, page numbers in the footer.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Iterable, Sequence
from copy import copy
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.utils import timezone
from django.utils.translation import gettext as _
from openpyxl import Workbook
from openpyxl.cell import Cell, WriteOnlyCell
from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
from openpyxl.utils import get_column_letter
from openpyxl.worksheet._write_only import WriteOnlyWorksheet

from tasks.table import TASK_TABLE_HEADERS, TaskTableRow

CELL_LIMIT = 32767
# Windows' Chinese default; LibreOffice and Excel on other systems substitute their CJK font.
FONT_NAME = "宋体"
FONT_CHARSET_GB2312 = 134
PAPER_A4 = 9

# What XML 1.0 cannot carry (openpyxl raises on the C0 ones, the XML writer on the rest), except
# \t \n \r. Vertical tab and form feed are Word's line and page breaks: they become line breaks.
_BREAKS = re.compile(r"[\x0b\x0c]")
_ILLEGAL = re.compile(r"[\x00-\x08\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_UNWRITABLE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
# Excel reads these first characters as the start of a formula when the cell is edited.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def clean_text(value: str) -> str:
    """The text without characters a workbook cannot hold; Word's \\x0b/\\x0c become line breaks."""
    if _UNWRITABLE.search(value) is None:  # nearly always: one scan, no copy
        return value
    return _ILLEGAL.sub("", _BREAKS.sub("\n", value))


def split_text(value: str, limit: int = CELL_LIMIT) -> list[str]:
    """The text in pieces that each fit one cell, marked so a reader sees where each continues.

    Short text is one piece, unchanged. Longer text ends each piece but the last with
    "(未完,接下行)" and starts each but the first with "(接上行)"; nothing is dropped.
    """
    if len(value) <= limit:
        return [value]
    more, cont = _("(未完,接下行)"), _("(接上行)")
    room = limit - len(more) - len(cont)
    pieces = [value[start : start + room] for start in range(0, len(value), room)]
    last = len(pieces) - 1
    return [
        (cont if i else "") + piece + (more if i < last else "") for i, piece in enumerate(pieces)
    ]


def fit_cell(value: str, limit: int = CELL_LIMIT) -> str:
    """The text if it fits one cell, else its start with a marker saying how much was left out.

    For a single cell that cannot grow rows; `append_row` keeps all of the text instead.
    """
    if len(value) <= limit:
        return value
    marker = _("……(超出单元格上限,共%(count)s字,此处仅显示开头)") % {"count": len(value)}
    return value[: limit - len(marker)] + marker


def write_text(cell, value: str) -> None:
    """Put user-typed text into a cell (normal or write-only) as a string, never a formula."""
    value = fit_cell(clean_text(value))
    cell.value = value
    cell.data_type = "s"
    if value.startswith(_FORMULA_START):
        cell.quotePrefix = True


def display_width(text: str) -> int:
    """Width in Excel column units: a Chinese character takes two, a Latin one one."""
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def column_width(texts: Iterable[str], *, minimum: float = 6, maximum: float = 60) -> float:
    """A column width that fits the longest line of the texts, between the bounds."""
    widest = 0
    for text in texts:
        for line in str(text).splitlines() or [""]:
            widest = max(widest, display_width(line))
    return max(minimum, min(maximum, widest + 2))


def excel_number(value: Decimal | int | float | None) -> int | float | None:
    """A Decimal as an int when whole, else a float: cells Excel can sum."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        if not value.is_finite():
            return None
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _font(**kwargs: Any) -> Font:
    return Font(name=FONT_NAME, charset=FONT_CHARSET_GB2312, **kwargs)


_THIN = Side(style="thin", color="808080")
_GRID = Border(left=_THIN, right=_THIN, top=_THIN, bottom=_THIN)
_WRAP = Alignment(wrap_text=True, vertical="top")
_CENTRE = Alignment(horizontal="center", vertical="center", wrap_text=True)

# Fills by status value (indicators.progress.Status and the board's states); pale enough to print.
STATUS_FILLS = {
    "achieved": "C6EFCE",
    "on_track": "E2F0D9",
    "at_risk": "FFEB9C",
    "behind": "FCE4D6",
    "overdue": "FFC7CE",
    "no_data": "EDEDED",
    "on_time": "E2F0D9",
    "late": "FFEB9C",
    "missing": "FFC7CE",
}

_STYLE_SPECS: dict[str, dict[str, Any]] = {
    "title": {"font": _font(size=14, bold=True), "alignment": _CENTRE},
    "subtitle": {"font": _font(size=10), "alignment": Alignment(horizontal="right")},
    "header": {
        "font": _font(size=10, bold=True),
        "alignment": _CENTRE,
        "fill": PatternFill("solid", fgColor="D9E1F2"),
        "border": _GRID,
    },
    "text": {"font": _font(size=10), "alignment": _WRAP, "border": _GRID},
    "centre": {"font": _font(size=10), "alignment": _CENTRE, "border": _GRID},
    "integer": {"font": _font(size=10), "border": _GRID, "number_format": "#,##0"},
    "decimal": {"font": _font(size=10), "border": _GRID, "number_format": "#,##0.00"},
    "percent": {"font": _font(size=10), "border": _GRID, "number_format": "0.0%"},
    "date": {"font": _font(size=10), "border": _GRID, "number_format": "yyyy-mm-dd"},
    "datetime": {"font": _font(size=10), "border": _GRID, "number_format": "yyyy-mm-dd hh:mm"},
} | {
    f"status_{key}": {
        "font": _font(size=10),
        "alignment": _CENTRE,
        "border": _GRID,
        "fill": PatternFill("solid", fgColor=colour),
    }
    for key, colour in STATUS_FILLS.items()
}


class Styles:
    """The shared cell styles of one workbook, stamped onto new write-only cells.

    Cells made here share one style array per style (a copy per cell costs a tenth of the
    export's time); restyling such a cell afterwards would restyle all its siblings.
    """

    def __init__(self, workbook: Workbook):
        self._arrays = {}
        probe = workbook.create_sheet("_styles")
        for name, spec in _STYLE_SPECS.items():
            cell = WriteOnlyCell(probe)
            for attribute, value in spec.items():
                setattr(cell, attribute, value)
            self._arrays[name] = cell._style
        quoted = {}
        for name, array in self._arrays.items():
            cell = WriteOnlyCell(probe)
            cell._style = copy(array)
            cell.quotePrefix = True
            quoted[name] = cell._style
        self._quoted = quoted
        # The probe only registered the styles; a write-only sheet cannot be hidden, so it goes.
        workbook.remove(probe)

    def cell(self, ws, value: Any, style: str | None = None) -> WriteOnlyCell:
        """A cell holding a number, date or text in the given style (guessed from the value).

        The style "number" picks "integer" or "decimal" by the value, so 300 shows as "300"
        and 3.07 as "3.07".
        """
        if value is None or value == "":
            return self.blank(ws, "text" if style in (None, "number") else style)
        if isinstance(value, str):
            return self.text(ws, value, "text" if style in (None, "number") else style)
        if isinstance(value, bool):
            value = _("是") if value else _("否")
            return self.text(ws, value, "centre" if style in (None, "number") else style)
        if isinstance(value, Decimal):
            value = excel_number(value)
        if isinstance(value, dt.datetime):
            # Excel has no time zones: the local wall-clock time is what the office expects.
            if value.tzinfo is not None:
                value = timezone.localtime(value).replace(tzinfo=None)
            style = style or "datetime"
        elif isinstance(value, dt.date):
            style = style or "date"
        elif isinstance(value, int) and style in (None, "number"):
            style = "integer"
        elif isinstance(value, float) and style in (None, "number"):
            style = "integer" if value.is_integer() else "decimal"
        cell = WriteOnlyCell(ws, value)
        cell._style = self._arrays[style or "text"]
        return cell

    def text(self, ws, value: str, style: str = "text") -> WriteOnlyCell:
        """A string cell for text a user typed: never a formula, whatever it starts with.

        Text over the cell limit is cut with a visible marker; `append_row` splits it instead.
        """
        value = fit_cell(clean_text(value))
        if not value:
            return self.blank(ws, style)
        cell = WriteOnlyCell(ws)
        # Set directly, not through `cell.value`: that would make a formula of "=…", and the
        # checks it runs (illegal characters, length) are done above already.
        cell._value = value
        cell.data_type = "s"
        arrays = self._quoted if value.startswith(_FORMULA_START) else self._arrays
        cell._style = arrays[style]
        return cell

    def blank(self, ws, style: str = "text") -> WriteOnlyCell:
        """An empty cell that keeps its column's border and fill."""
        cell = WriteOnlyCell(ws)
        cell._style = self._arrays[style]
        return cell

    def status(self, ws, key: str, label: str) -> WriteOnlyCell:
        """A status label on its status colour."""
        return self.text(ws, label, f"status_{key}" if key in STATUS_FILLS else "centre")


def append_row(ws, styles: Styles, values: Sequence[Any], style_names: Sequence[str | None]):
    """Append one data row; text over the cell limit continues in marked rows below it.

    `style_names` gives each column's style (None: guessed from the value). Returns the number
    of rows written, so a caller counting rows stays right.
    """
    # Split before cleaning: cleaning only shortens text, so each piece still fits, and each
    # piece is cleaned once, as its cell is made.
    pieces = [split_text(value) if isinstance(value, str) else [value] for value in values]
    height = max(len(piece) for piece in pieces) if pieces else 1
    for line in range(height):
        row = []
        for column, piece in enumerate(pieces):
            style = style_names[column] if column < len(style_names) else None
            if line < len(piece):
                row.append(styles.cell(ws, piece[line], style))
            else:
                # An empty bordered cell keeps the grid continuous on the continuation rows.
                row.append(styles.blank(ws))
        ws.append(row)
    return height


def append_title(ws, styles: Styles, *, title: str, made_on: dt.date, columns: int) -> int:
    """The title row across the sheet and the "制表日期" row under it; returns rows written."""
    last = get_column_letter(max(columns, 1))
    ws.merged_cells.add(f"A1:{last}1")
    ws.merged_cells.add(f"A2:{last}2")
    ws.append([styles.text(ws, title, "title")])
    made = _("制表日期:%(date)s") % {"date": f"{made_on.year}年{made_on.month}月{made_on.day}日"}
    ws.append([styles.text(ws, made, "subtitle")])
    return 2


def append_header(ws, styles: Styles, headers: Sequence[str]) -> None:
    ws.append([styles.text(ws, header, "header") for header in headers])


def apply_print_setup(ws, *, widths: Sequence[float], header_rows: int) -> None:
    """Column widths, frozen header and A4 landscape printing with repeated headers.

    `header_rows` counts the rows at the top (title, date, column headers) that stay frozen on
    screen and print on every page. In write-only mode this must run before the first row.
    """
    for index, width in enumerate(widths, start=1):
        ws.column_dimensions[get_column_letter(index)].width = width
    ws.freeze_panes = f"A{header_rows + 1}"
    ws.print_title_rows = f"1:{header_rows}"
    ws.page_setup.orientation = "landscape"
    ws.page_setup.paperSize = PAPER_A4
    ws.page_setup.fitToWidth = 1
    ws.page_setup.fitToHeight = 0
    ws.sheet_properties.pageSetUpPr.fitToPage = True
    ws.print_options.horizontalCentered = True
    ws.page_margins.left = ws.page_margins.right = 0.4
    ws.page_margins.top = ws.page_margins.bottom = 0.6
    ws.oddFooter.center.text = "第 &P 页 共 &N 页"
    ws.oddFooter.center.font = FONT_NAME
    ws.oddFooter.center.size = 9


class _StreamedSheet(WriteOnlyWorksheet):
    """A write-only sheet for rows of ready-made cells, as every helper here appends.

    openpyxl's own append first tries each value as a plain value and takes a cell only from
    the ValueError that raises, then makes a spare cell after each styled one; for a sheet of
    styled cells that costs as much as writing them. This takes the cells as they come (a
    plain value is bound as openpyxl would: "=…" becomes a formula, so typed text goes through
    `Styles.text`).
    """

    def _values_to_row(self, values, row_idx):
        for col_idx, cell in enumerate(values, 1):
            if cell is None:
                continue
            if not isinstance(cell, Cell):
                cell = WriteOnlyCell(self, cell)
            cell.column, cell.row = col_idx, row_idx
            if cell.hyperlink is not None:
                cell.hyperlink.ref = cell.coordinate
            yield cell


class _StreamedWorkbook(Workbook):
    def __init__(self):
        super().__init__(write_only=True)

    def create_sheet(self, title=None, index=None):
        sheet = _StreamedSheet(parent=self, title=title)
        self._add_sheet(sheet=sheet, index=index)
        return sheet


def new_workbook() -> tuple[Workbook, Styles]:
    """An empty write-only workbook with the shared styles registered."""
    workbook = _StreamedWorkbook()
    return workbook, Styles(workbook)


# -- The July and December report -------------------------------------------------------------


@dataclass(frozen=True)
class IndicatorLine:
    """One indicator as 指标完成情况 lists it; numbers stay numbers, None is an empty cell."""

    section: str
    name: str
    unit: str
    year_milestone: Decimal | None
    final_target: Decimal | str | None  # text for a deliverable ("完成") or an ongoing item
    actual: Decimal | str | None  # text for a deliverable ("已完成" / "未完成")
    actual_on: dt.date | None
    share_of_milestone: Decimal | None  # a fraction: 0.93 shows as 93.0%
    share_of_final: Decimal | None
    status: str  # an indicators.progress.Status value, for the fill
    status_label: str
    projection: str
    clause: str
    conflict: str


@dataclass(frozen=True)
class TaskLine:
    """One task or sub-item as 任务进展 lists it, in document order."""

    table: TaskTableRow  # the five columns the task import reads back
    progress: str
    problems: str
    next_steps: str
    status: str  # "" for a parent task: its sub-items carry the status
    status_label: str


@dataclass(frozen=True)
class SubmissionLine:
    department: str
    liaisons: str
    phones: str
    state: str
    state_label: str
    first_submitted_at: dt.datetime | None
    submitted_at: dt.datetime | None
    timeliness: str  # on_time, late, missing or pending
    timeliness_label: str


@dataclass
class ReportData:
    """Everything one workbook shows, for a plan and period (or one department of it)."""

    title: str
    made_on: dt.date
    indicators: list[IndicatorLine] = field(default_factory=list)
    tasks: list[TaskLine] = field(default_factory=list)
    submissions: list[SubmissionLine] = field(default_factory=list)


@dataclass(frozen=True)
class Column:
    header: str
    width: float
    style: str | None = "text"  # None: guessed from each value


HEADER_ROWS = 3  # title, date made, column headers

INDICATOR_SHEET = "指标完成情况"
TASK_SHEET = "任务进展"
SUBMISSION_SHEET = "报送情况"


def _indicator_columns() -> list[Column]:
    return [
        Column(_("章节"), 18),
        Column(_("指标"), 30),
        Column(_("单位"), 8, "centre"),
        Column(_("本年度目标"), 11, "number"),
        Column(_("最终目标"), 11, "number"),
        Column(_("实际值"), 11, "number"),
        Column(_("数据截至"), 11, "date"),
        Column(_("完成本年度目标"), 11, "percent"),
        Column(_("完成最终目标"), 11, "percent"),
        Column(_("状态"), 11, "centre"),
        Column(_("预计完成"), 18),
        Column(_("出处条款"), 12),
        Column(_("口径冲突说明"), 30),
    ]


def _task_columns(tasks: Sequence[TaskLine]) -> list[Column]:
    # The short columns fit their longest entry; the long texts get a readable fixed width.
    numbers = column_width((t.table.number for t in tasks), minimum=6, maximum=14)
    lead = column_width((t.table.lead for t in tasks), minimum=10, maximum=20)
    support = column_width((t.table.support for t in tasks), minimum=10, maximum=24)
    headers = list(TASK_TABLE_HEADERS)
    return [
        Column(headers[0], numbers, "centre"),
        Column(headers[1], 46),
        Column(headers[2], lead),
        Column(headers[3], support),
        Column(headers[4], 16),
        Column(_("完成情况"), 46),
        Column(_("存在问题"), 26),
        Column(_("下步打算"), 26),
        Column(_("状态"), 11, "centre"),
    ]


def _submission_columns() -> list[Column]:
    return [
        Column(_("部门"), 24),
        Column(_("联络员"), 14),
        Column(_("联系电话"), 16),
        Column(_("报送状态"), 12, "centre"),
        Column(_("首次报送时间"), 17, "datetime"),
        Column(_("最近报送时间"), 17, "datetime"),
        Column(_("是否按时"), 12, "centre"),
    ]


def _start_sheet(workbook: Workbook, styles: Styles, name: str, title: str, made_on, columns):
    ws = workbook.create_sheet(name)
    apply_print_setup(ws, widths=[c.width for c in columns], header_rows=HEADER_ROWS)
    append_title(ws, styles, title=title, made_on=made_on, columns=len(columns))
    append_header(ws, styles, [c.header for c in columns])
    return ws


def build_report(data: ReportData) -> Workbook:
    """The workbook the office hands in: 指标完成情况, 任务进展 and 报送情况 for one period."""
    workbook, styles = new_workbook()
    columns = _indicator_columns()
    ws = _start_sheet(workbook, styles, INDICATOR_SHEET, data.title, data.made_on, columns)
    for line in data.indicators:
        values = [
            line.section,
            line.name,
            line.unit,
            line.year_milestone,
            line.final_target,
            line.actual,
            line.actual_on,
            line.share_of_milestone,
            line.share_of_final,
            line.status_label,
            line.projection,
            line.clause,
            line.conflict,
        ]
        append_row(ws, styles, values, _styles_with_status(columns, 9, line.status))

    columns = _task_columns(data.tasks)
    ws = _start_sheet(workbook, styles, TASK_SHEET, data.title, data.made_on, columns)
    for task in data.tasks:
        values = [
            *task.table,
            task.progress,
            task.problems,
            task.next_steps,
            task.status_label,
        ]
        append_row(ws, styles, values, _styles_with_status(columns, 8, task.status))

    columns = _submission_columns()
    ws = _start_sheet(workbook, styles, SUBMISSION_SHEET, data.title, data.made_on, columns)
    for entry in data.submissions:
        values = [
            entry.department,
            entry.liaisons,
            entry.phones,
            entry.state_label,
            entry.first_submitted_at,
            entry.submitted_at,
            entry.timeliness_label,
        ]
        append_row(ws, styles, values, _styles_with_status(columns, 6, entry.timeliness))
    return workbook


def _styles_with_status(columns: Sequence[Column], index: int, status: str) -> list[str | None]:
    """The columns' styles with the status column on its status fill."""
    names = [c.style for c in columns]
    if status in STATUS_FILLS:
        names[index] = f"status_{status}"
    return names
