"""Forms for entering actual values: one indicator at a time, or a whole plan for one period."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from decimal import Decimal
from enum import Enum

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.formatting import format_amount
from indicators.models import Indicator, Measurement
from indicators.parsing import (
    format_for_input,
    has_control_characters,
    normalize_note,
    parse_amount,
)
from plans.periods import period_label

NOTE_MAX_LENGTH = 5000
DONE, NOT_DONE = "1", "0"


class Outcome(Enum):
    UNCHANGED = "unchanged"
    CREATED = "created"
    UPDATED = "updated"
    CLEARED = "cleared"


def refuse_control_characters(text: str) -> None:
    """PostgreSQL cannot store NUL and an Excel file holds no control character: say so."""
    if has_control_characters(text):
        raise ValidationError(
            _("含有不可见的控制字符(可能是从其他软件粘贴带入的),请删除后再保存。"),
            code="control_characters",
        )


def display_value(value: Decimal | None, indicator: Indicator) -> str:
    if value is not None and indicator.kind == Indicator.Kind.DELIVERABLE:
        return _("完成") if value >= 1 else _("未完成")
    return format_amount(value, indicator.unit)


def user_label(user) -> str:
    if user is None:
        return _("他人")
    return user.get_full_name() or user.get_username()


def _local(moment: dt.datetime) -> str:
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")


def period_choices(ends: Iterable[dt.date]) -> list[tuple[str, str]]:
    return [(end.isoformat(), period_label(end)) for end in ends]


class MeasurementEntryForm(forms.Form):
    """The value of one indicator at one period end, with what the form started from.

    `started_from` and `started_note` hold the stored value and note as the page showed them.
    A row is saved only when what was typed differs from them, and refused when the stored
    row has changed since (someone else saved in between): nothing is overwritten unseen.
    """

    value_required = False

    value = forms.CharField(
        label=gettext_lazy("实际值"),
        required=False,
        strip=False,
        widget=forms.TextInput(
            attrs={"inputmode": "decimal", "autocomplete": "off", "class": "amount"}
        ),
    )
    note = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        validators=[refuse_control_characters],
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    clear = forms.BooleanField(label=gettext_lazy("清除"), required=False)
    started_from = forms.CharField(required=False, widget=forms.HiddenInput)
    started_note = forms.CharField(
        required=False, strip=False, max_length=NOTE_MAX_LENGTH * 2, widget=forms.HiddenInput
    )

    def __init__(self, *args, indicator: Indicator, **kwargs):
        super().__init__(*args, **kwargs)
        self.indicator = indicator
        self.outcome = Outcome.UNCHANGED
        if indicator.kind == Indicator.Kind.DELIVERABLE:
            self.fields["value"] = forms.ChoiceField(
                label=self.fields["value"].label,
                required=False,
                choices=[("", "—"), (DONE, _("完成")), (NOT_DONE, _("未完成"))],
            )
        else:
            self.fields["value"].widget.attrs["maxlength"] = 40
            if indicator.unit:
                self.fields["value"].widget.attrs["aria-describedby"] = self.add_prefix("unit")

    @staticmethod
    def initial_for(current: Measurement | None) -> dict[str, str]:
        value = format_for_input(current.value if current else None)
        note = current.note if current else ""
        return {"value": value, "note": note, "started_from": value, "started_note": note}

    def clean_value(self) -> Decimal | None:
        text = self.cleaned_data["value"]
        if self.indicator.kind == Indicator.Kind.DELIVERABLE:
            return {DONE: Decimal(1), NOT_DONE: Decimal(0)}.get(text)
        if not text.strip():
            return None
        return parse_amount(text, unit=self.indicator.unit)

    def clean_note(self) -> str:
        return normalize_note(self.cleaned_data["note"])

    def clean_started_note(self) -> str:
        return normalize_note(self.cleaned_data["started_note"])

    def check_against(self, current: Measurement | None) -> None:
        """Decide what saving would do, and refuse it when the stored row moved meanwhile."""
        self.current = current
        data = self.cleaned_data
        if "value" not in data or "note" not in data:
            return
        value, note = data["value"], data["note"]
        started_value, started_note = data.get("started_from", ""), data.get("started_note", "")
        if data.get("clear"):
            wants = Outcome.CLEARED if (current is not None or started_value) else None
        elif value is None:
            if self.value_required:
                self.add_error("value", _("请填写数值。"))
            elif note != started_note:
                self.add_error("value", _("填写说明时请同时填写数值;如需删除该数值,请勾选“清除”。"))
            wants = None
        elif format_for_input(value) == started_value and note == started_note:
            wants = None
        else:
            wants = Outcome.UPDATED if current is not None else Outcome.CREATED
        if wants is None:
            return
        stored_value = format_for_input(current.value if current else None)
        stored_note = current.note if current else ""
        if (stored_value, normalize_note(stored_note)) != (started_value, started_note):
            self.add_error(None, self._conflict_message(current))
            self._restart_from(current)
            return
        self.outcome = wants

    def _conflict_message(self, current: Measurement | None) -> str:
        if current is not None:
            return _("该数值已被 %(user)s 于 %(when)s 修改为 %(value)s,请核对后再保存。") % {
                "user": user_label(current.entered_by),
                "when": _local(current.entered_at),
                "value": display_value(current.value, self.indicator),
            }
        removal = (
            Measurement.history.filter(
                indicator_id=self.indicator.pk, period_end=self.period_end, history_type="-"
            )
            .select_related("history_user")
            .order_by("-history_date")
            .first()
        )
        if removal is None:
            return _("该数值已被他人清除,请核对后再保存。")
        return _("该数值已被 %(user)s 于 %(when)s 清除,请核对后再保存。") % {
            "user": user_label(removal.history_user),
            "when": _local(removal.history_date),
        }

    def _restart_from(self, current: Measurement | None) -> None:
        """Show the page again as if it had been opened now, keeping what the user typed."""
        data = self.data.copy()
        data[self.add_prefix("started_from")] = format_for_input(current.value if current else None)
        data[self.add_prefix("started_note")] = current.note if current else ""
        self.data = data

    def save(self, *, by) -> Outcome:
        """Write the change decided by `check_against`; call inside the caller's transaction."""
        current, outcome = self.current, self.outcome
        if outcome is Outcome.CLEARED:
            if current is not None:
                current.delete()
            return outcome
        if outcome is Outcome.UNCHANGED:
            return outcome
        value, note = self.cleaned_data["value"], self.cleaned_data["note"]
        if outcome is Outcome.CREATED:
            Measurement.objects.create(
                indicator=self.indicator,
                period_end=self.period_end,
                value=value,
                note=note,
                entered_by=by,
                entered_at=timezone.now(),
            )
        else:
            current.value, current.note = value, note
            current.entered_by, current.entered_at = by, timezone.now()
            current.save(update_fields=["value", "note", "entered_by", "entered_at"])
        return outcome


class MeasurementForm(MeasurementEntryForm):
    """One indicator: choose the period, type the value, save."""

    value_required = True

    period = forms.TypedChoiceField(label=gettext_lazy("报告期"), coerce=dt.date.fromisoformat)
    started_period = forms.CharField(required=False, widget=forms.HiddenInput)

    field_order = ["period", "value", "note", "clear"]

    def __init__(self, *args, indicator: Indicator, period_ends: list[dt.date], **kwargs):
        super().__init__(*args, indicator=indicator, **kwargs)
        self.fields["period"].choices = period_choices(period_ends)
        self.fields["clear"].label = _("清除该报告期的数值")

    def clean(self):
        data = super().clean()
        period = data.get("period")
        if period is None:
            return data
        self.period_end = period
        if data.get("started_period") != period.isoformat():
            # The period was switched in the form: the user has not seen that period's value.
            data["started_from"], data["started_note"] = "", ""
        current = (
            Measurement.objects.select_for_update(of=("self",))
            .select_related("entered_by")
            .filter(indicator=self.indicator, period_end=period)
            .first()
        )
        self.check_against(current)
        return data

    def _restart_from(self, current: Measurement | None) -> None:
        super()._restart_from(current)
        self.data[self.add_prefix("started_period")] = self.period_end.isoformat()


class GridRowForm(MeasurementEntryForm):
    """One indicator's row of the grid; an empty value leaves the stored one alone."""

    def __init__(self, *args, current: Measurement | None, period_end: dt.date, **kwargs):
        super().__init__(*args, **kwargs)
        self.current, self.period_end = current, period_end
        if not self.is_bound:
            self.initial = self.initial_for(current)

    def clean(self):
        data = super().clean()
        self.check_against(self.current)
        return data


class MeasurementGrid:
    """Every indicator of a plan for one period: valid and saved together, or not at all."""

    def __init__(
        self,
        data=None,
        *,
        indicators: Iterable[Indicator],
        period_end: dt.date,
        current: dict[int, Measurement],
    ):
        self.period_end = period_end
        self.rows = [
            GridRowForm(
                data,
                prefix=f"m{indicator.pk}",
                indicator=indicator,
                current=current.get(indicator.pk),
                period_end=period_end,
            )
            for indicator in indicators
        ]

    def __iter__(self):
        return iter(self.rows)

    def is_valid(self) -> bool:
        # Validate every row, not up to the first bad one: each shows its own message.
        return all([row.is_valid() for row in self.rows])

    @property
    def invalid_rows(self) -> list[GridRowForm]:
        return [row for row in self.rows if row.errors]

    def save(self, *, by) -> Counter[Outcome]:
        """Write every changed row; call inside one transaction after `is_valid()`."""
        return Counter(row.save(by=by) for row in self.rows)


def measurements_at(indicator_ids: Iterable[int], period_end: dt.date, *, lock: bool = False):
    """The stored values of these indicators at one period end, by indicator id: one query."""
    rows = Measurement.objects.filter(indicator_id__in=list(indicator_ids), period_end=period_end)
    if lock:
        rows = rows.select_for_update(of=("self",))
    return {m.indicator_id: m for m in rows.select_related("entered_by")}
