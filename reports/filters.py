"""Filters of the submission board: by board state and by department name."""

from __future__ import annotations

from collections.abc import Iterable

from django import forms
from django.utils.translation import gettext_lazy as _

from reports.rules import BoardState


class BoardFilterForm(forms.Form):
    """The board's rows are plain objects, not a queryset: a validated form filters the list."""

    state = forms.ChoiceField(
        label=_("报送状态"), choices=[("", _("全部")), *BoardState.choices], required=False
    )
    q = forms.CharField(label=_("部门名称"), max_length=50, required=False, strip=True)

    def filter(self, rows: Iterable) -> list:
        """The rows matching the form; all of them while the form is unbound or invalid."""
        rows = list(rows)
        if not self.is_bound or not self.is_valid():
            return rows
        state, q = self.cleaned_data["state"], self.cleaned_data["q"]
        if state:
            rows = [r for r in rows if r.state == state]
        if q:
            rows = [r for r in rows if q in r.department.name]
        return rows

    @property
    def is_filtered(self) -> bool:
        return self.is_bound and self.is_valid() and any(self.cleaned_data.values())
