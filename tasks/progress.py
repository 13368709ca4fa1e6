"""How a task stands on a date, from its recorded state and its dated deliverables. Pure."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from django.db import models
from django.utils.translation import gettext_lazy as _

from indicators.progress import Status


class TaskState(models.TextChoices):
    """What the office (or a liaison's accepted report) recorded about a task."""

    NOT_STARTED = "not_started", _("未开始")
    IN_PROGRESS = "in_progress", _("推进中")
    DONE = "done", _("已完成")
    ONGOING = "ongoing", _("持续实施")
    DELAYED = "delayed", _("延期")


@dataclass(frozen=True)
class DeliverableDue:
    due: dt.date
    completed_on: dt.date | None = None

    def missed(self, on: dt.date) -> bool:
        """Due before `on` and not completed by `on`."""
        return self.due < on and (self.completed_on is None or self.completed_on > on)


def assess_task(
    state: str | None,
    deliverables: Sequence[DeliverableDue],
    on: dt.date,
    *,
    deadline: dt.date | None = None,
    due_soon_days: int = 60,
) -> Status:
    """The status of a task on a date.

    Done is achieved. A dated deliverable not completed by its date, or a deadline passed
    (the plan's end, for a task that is not ongoing), makes it overdue. A task recorded as
    delayed is behind. Not started with a date coming within `due_soon_days` is at risk.
    Nothing recorded yet is "no data"; otherwise the task is on track.
    """
    if state == TaskState.DONE:
        return Status.ACHIEVED
    if any(d.missed(on) for d in deliverables) or (deadline is not None and on > deadline):
        return Status.OVERDUE
    if state is None:
        return Status.NO_DATA
    if state == TaskState.DELAYED:
        return Status.BEHIND
    if state == TaskState.NOT_STARTED:
        soon = on + dt.timedelta(days=due_soon_days)
        dates = [d.due for d in deliverables if d.completed_on is None]
        if deadline is not None:
            dates.append(deadline)
        if any(on <= due <= soon for due in dates):
            return Status.AT_RISK
    return Status.ON_TRACK
