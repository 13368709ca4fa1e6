"""What changed between two versions of a report: plain dicts (ReportEvent snapshots) in, a
list of changes out. Pure: tested without the database."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from reports.models import Report
from tasks.progress import TaskState

# How an entry is identified in a snapshot, and the keys that describe it rather than hold
# what the liaison (or the office) wrote.
_KEYS = {"items": "task", "values": "indicator"}
_DESCRIPTIVE = {
    "items": ("task", "title", "role"),
    "values": ("indicator", "name", "unit"),
}
_TITLE = {"items": "title", "values": "name"}

FIELD_LABELS = {
    "state": _("进度"),
    "progress": _("工作进展"),
    "problems": _("存在问题"),
    "next_steps": _("下步打算"),
    "value": _("实际值"),
    "note": _("说明"),
    "delay_reason": _("滞后原因"),
    "measures": _("采取措施"),
    "new_expected_date": _("预计完成日期"),
    "is_returned": _("退回修改"),
    "return_comment": _("退回意见"),
}
# The order fields are listed in: the form's order, the office's marks last.
_ORDER = list(FIELD_LABELS)


@dataclass(frozen=True)
class Change:
    """One field of one entry (or of the report itself) changed from `old` to `new`.

    `kind` is "item", "value" or "report"; `key` the task's clause or the indicator's code
    ("" for the report); `title` the task's title or the indicator's name.
    """

    kind: str
    key: str
    title: str
    field: str
    old: Any
    new: Any

    @property
    def field_label(self) -> str:
        if self.kind == "report" and self.field == "state":
            return str(_("报告状态"))
        return str(FIELD_LABELS.get(self.field, self.field))

    @property
    def old_text(self) -> str:
        return self._text(self.old)

    @property
    def new_text(self) -> str:
        return self._text(self.new)

    def _text(self, value: Any) -> str:
        if value is None or value == "":
            return "—"
        if isinstance(value, bool):
            return str(_("是") if value else _("否"))
        if self.field == "state":
            choices = Report.State if self.kind == "report" else TaskState
            try:
                return str(choices(value).label)
            except ValueError:
                return str(value)
        return str(value)


def _order(field: str) -> int:
    return _ORDER.index(field) if field in _ORDER else len(_ORDER)


def _entries(snapshot: dict, group: str) -> dict[str, dict]:
    key = _KEYS[group]
    return {str(entry.get(key, "")): entry for entry in snapshot.get(group) or []}


def changes(old: dict, new: dict) -> list[Change]:
    """Every field that differs from `old` to `new`, entry by entry in the new version's order.

    Entries are matched by task clause and indicator code. An entry only in `new` is compared
    with an empty one (its filled fields are listed); one only in `old`, with an empty one too.
    The report's own state is listed first when it changed.
    """
    found: list[Change] = []
    if old and old.get("state") != new.get("state"):
        found.append(Change("report", "", "", "state", old.get("state"), new.get("state")))
    for group, kind in (("items", "item"), ("values", "value")):
        before, after = _entries(old, group), _entries(new, group)
        keys = list(after) + [k for k in before if k not in after]
        for key in keys:
            was, now = before.get(key, {}), after.get(key, {})
            title = str(now.get(_TITLE[group]) or was.get(_TITLE[group]) or "")
            fields = (set(was) | set(now)) - set(_DESCRIPTIVE[group])
            for name in sorted(fields, key=lambda f: (_order(f), f)):
                a, b = was.get(name), now.get(name)
                if _blank(a) and _blank(b):
                    continue
                if a != b:
                    found.append(Change(kind, key, title, name, a, b))
    return found


def _blank(value: Any) -> bool:
    return value is None or value == "" or value is False
