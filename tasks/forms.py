"""The office's form for a task's progress: its state, a note, and deliverables' completion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django import forms
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from indicators.forms import (
    NOTE_MAX_LENGTH,
    normalize_note,
    period_choices,
    refuse_control_characters,
)
from tasks.models import Deliverable, Task, TaskUpdate
from tasks.progress import TaskState


class TaskUpdateForm(forms.Form):
    """Record a new state of a task (a new TaskUpdate, never an edit) and completion dates."""

    state = forms.ChoiceField(label=gettext_lazy("状态"), choices=TaskState.choices)
    as_of = forms.TypedChoiceField(label=gettext_lazy("截至报告期"), coerce=dt.date.fromisoformat)
    note = forms.CharField(
        label=gettext_lazy("进展情况"),
        required=False,
        max_length=NOTE_MAX_LENGTH,
        validators=[refuse_control_characters],
        widget=forms.Textarea(attrs={"rows": 6}),
    )

    def __init__(
        self,
        *args,
        task: Task,
        deliverables: list[Deliverable],
        period_ends: list[dt.date],
        today: dt.date,
        **kwargs,
    ):
        super().__init__(*args, **kwargs)
        self.task, self.deliverables, self.today = task, deliverables, today
        self.earliest = dt.date(task.plan.start_year, 1, 1)
        self.fields["as_of"].choices = period_choices(period_ends)
        for deliverable in deliverables:
            self.fields[self._name(deliverable)] = forms.DateField(
                label=_("完成日期"),
                required=False,
                initial=deliverable.completed_on,
                widget=forms.DateInput(
                    format="%Y-%m-%d",
                    attrs={
                        "type": "date",
                        "min": self.earliest.isoformat(),
                        "max": today.isoformat(),
                    },
                ),
            )

    @staticmethod
    def _name(deliverable: Deliverable) -> str:
        return f"completed_{deliverable.pk}"

    def deliverable_fields(self) -> Iterator[tuple[Deliverable, forms.BoundField]]:
        for deliverable in self.deliverables:
            yield deliverable, self[self._name(deliverable)]

    def clean_note(self) -> str:
        return normalize_note(self.cleaned_data["note"])

    def clean(self):
        data = super().clean()
        for deliverable in self.deliverables:
            name = self._name(deliverable)
            day = data.get(name)
            if day is None:
                continue
            if day > self.today:
                self.add_error(
                    name,
                    _("完成日期不能晚于今天(%(today)s)。") % {"today": self.today.isoformat()},
                )
            elif day < self.earliest:
                self.add_error(
                    name,
                    _("完成日期不能早于方案起始年份(%(year)s年)。")
                    % {"year": self.task.plan.start_year},
                )
        return data

    def save(self, *, by) -> TaskUpdate:
        """Append the update and write changed completion dates; call inside a transaction."""
        update = TaskUpdate.objects.create(
            task=self.task,
            state=self.cleaned_data["state"],
            as_of=self.cleaned_data["as_of"],
            note=self.cleaned_data["note"],
            created_by=by,
            created_at=timezone.now(),
        )
        for deliverable, field in self.deliverable_fields():
            completed_on = self.cleaned_data[field.name]
            if completed_on != deliverable.completed_on:
                deliverable.completed_on = completed_on
                deliverable.save(update_fields=["completed_on"])
        return update
