"""The liaison's report as one HTML form: one prefixed form per item and value, saved together."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.forms import DONE, NOT_DONE, normalize_note, refuse_control_characters
from indicators.models import Indicator
from indicators.parsing import MAX_LENGTH, format_for_input, parse_amount
from reports.models import Report, ReportItem, ReportValue
from reports.services import ITEM_FIELDS, MAX_TEXT, VALUE_FIELDS
from tasks.progress import TaskState

SAVE, SUBMIT = "save", "submit"


class ReportTextField(forms.CharField):
    """Free text, line breaks as LF, at most MAX_TEXT characters counted after that.

    Browsers send a line break as two characters; counting after normalising keeps a text
    the textarea's maxlength accepted within the limit here.
    """

    def __init__(self, *, label, rows: int = 3):
        super().__init__(
            label=label,
            required=False,
            strip=False,
            validators=[
                MaxLengthValidator(
                    MAX_TEXT,
                    message=gettext_lazy("最多%(limit_value)d字(现有%(show_value)d字)。"),
                ),
                refuse_control_characters,
            ],
            widget=forms.Textarea(attrs={"rows": rows, "maxlength": MAX_TEXT}),
        )

    def to_python(self, value) -> str:
        return normalize_note(super().to_python(value))


class ExpectedDateField(forms.DateField):
    """The new expected completion date: not before the end of the period reported on."""

    def __init__(self, *, label, period_end: dt.date):
        super().__init__(
            label=label,
            required=False,
            widget=forms.DateInput(
                format="%Y-%m-%d", attrs={"type": "date", "min": period_end.isoformat()}
            ),
        )
        self.period_end = period_end

    def validate(self, value) -> None:
        super().validate(value)
        if value is not None and value < self.period_end:
            raise forms.ValidationError(
                _("预计完成日期不能早于报告期末(%(day)s)。") % {"day": self.period_end.isoformat()},
                code="before_period_end",
            )


def _label(model, name: str) -> str:
    return model._meta.get_field(name).verbose_name


class ReportActionForm(forms.Form):
    """What the page was opened at, and which button was pressed."""

    version = forms.IntegerField(min_value=0, widget=forms.HiddenInput)
    action = forms.ChoiceField(choices=[(SAVE, SAVE), (SUBMIT, SUBMIT)])


class ReportItemForm(forms.Form):
    """The department's report on one task."""

    state = forms.ChoiceField(
        label=gettext_lazy("任务进度"), required=False, choices=[("", "—"), *TaskState.choices]
    )

    def __init__(self, *args, item: ReportItem, period_end: dt.date, **kwargs):
        initial = {name: getattr(item, name) for name in ITEM_FIELDS}
        super().__init__(*args, prefix=f"item-{item.pk}", initial=initial, **kwargs)
        self.entry = item
        for name, rows in (("progress", 4), ("problems", 3), ("next_steps", 3)):
            self.fields[name] = ReportTextField(label=_label(ReportItem, name), rows=rows)
        _add_delay_fields(self, ReportItem, period_end)

    def delay_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DELAY_FIELDS]

    def main_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in ("state", "progress", "problems", "next_steps")]


class ReportValueForm(forms.Form):
    """The department's value for one indicator, typed as people type numbers."""

    def __init__(self, *args, value: ReportValue, period_end: dt.date, **kwargs):
        indicator = value.indicator
        initial: dict[str, Any] = {name: getattr(value, name) for name in VALUE_FIELDS}
        initial["value"] = _value_for_input(value.value, indicator)
        super().__init__(*args, prefix=f"value-{value.pk}", initial=initial, **kwargs)
        self.entry = value
        self.indicator = indicator
        if indicator.kind == Indicator.Kind.DELIVERABLE:
            self.fields["value"] = forms.ChoiceField(
                label=_label(ReportValue, "value"),
                required=False,
                choices=[("", "—"), (DONE, _("完成")), (NOT_DONE, _("未完成"))],
            )
        else:
            attrs = {
                "inputmode": "decimal",
                "autocomplete": "off",
                "class": "amount",
                "maxlength": MAX_LENGTH,
            }
            self.fields["value"] = forms.CharField(
                label=_label(ReportValue, "value"),
                required=False,
                strip=False,
                widget=forms.TextInput(attrs=attrs),
            )
        self.fields["note"] = ReportTextField(label=_label(ReportValue, "note"), rows=2)
        _add_delay_fields(self, ReportValue, period_end)

    def clean_value(self) -> Decimal | None:
        text = self.cleaned_data["value"]
        if self.indicator.kind == Indicator.Kind.DELIVERABLE:
            return {DONE: Decimal(1), NOT_DONE: Decimal(0)}.get(text)
        if not text.strip():
            return None
        return parse_amount(text, unit=self.indicator.unit)

    def delay_fields(self) -> list[forms.BoundField]:
        return [self[name] for name in DELAY_FIELDS]

    def main_fields(self) -> list[forms.BoundField]:
        return [self["value"], self["note"]]


DELAY_FIELDS = ("delay_reason", "measures", "new_expected_date")


def _add_delay_fields(form: forms.Form, model, period_end: dt.date) -> None:
    form.fields["delay_reason"] = ReportTextField(label=_label(model, "delay_reason"))
    form.fields["measures"] = ReportTextField(label=_label(model, "measures"))
    form.fields["new_expected_date"] = ExpectedDateField(
        label=_label(model, "new_expected_date"), period_end=period_end
    )


def _value_for_input(value: Decimal | None, indicator: Indicator) -> str:
    if indicator.kind == Indicator.Kind.DELIVERABLE:
        return "" if value is None else (DONE if value >= 1 else NOT_DONE)
    return format_for_input(value)


class ReportForm:
    """The whole report as the liaison edits it: the version it was opened at, and one form
    per entry the liaison may change (all of them, or only those the office returned)."""

    def __init__(
        self,
        data=None,
        *,
        report: Report,
        items: list[ReportItem],
        values: list[ReportValue],
    ):
        period_end = report.period.period_end
        self.action = ReportActionForm(data, initial={"version": report.version})
        self.items = {i.pk: ReportItemForm(data, item=i, period_end=period_end) for i in items}
        self.values = {v.pk: ReportValueForm(data, value=v, period_end=period_end) for v in values}

    def entry_forms(self) -> list[forms.Form]:
        return [*self.items.values(), *self.values.values()]

    def is_valid(self) -> bool:
        results = [form.is_valid() for form in [self.action, *self.entry_forms()]]
        return all(results)

    def invalid_entries(self) -> list[forms.Form]:
        return [form for form in self.entry_forms() if form.errors]

    def items_data(self) -> dict[int, dict[str, Any]]:
        return {pk: {n: f.cleaned_data[n] for n in ITEM_FIELDS} for pk, f in self.items.items()}

    def values_data(self) -> dict[int, dict[str, Any]]:
        return {pk: {n: f.cleaned_data[n] for n in VALUE_FIELDS} for pk, f in self.values.items()}
