"""The reporting rules as plain functions: board states, deadlines, reasons, reminders."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.db import models
from django.utils.translation import gettext_lazy as _

from indicators.progress import Status


class BoardState(models.TextChoices):
    """Where a department stands for a period, as the submission board shows it."""

    OVERDUE = "overdue", _("逾期未报")
    RETURNED = "returned", _("已退回")
    NOT_STARTED = "not_started", _("未开始")
    DRAFT = "draft", _("草稿")
    SUBMITTED_LATE = "submitted_late", _("逾期报送")
    SUBMITTED_ON_TIME = "submitted_on_time", _("按时报送")
    ACCEPTED = "accepted", _("已采纳")


def board_state(
    report_state: str | None,
    first_submitted_on: dt.date | None,
    deadline: dt.date,
    today: dt.date,
) -> BoardState:
    """The board state of a department's report (None: no report begun).

    On time or late is judged by the first submission: a report returned for a correction and
    sent again stays on time if it first came in by the deadline. A report never submitted is
    overdue the day after the deadline.
    """
    if report_state == "accepted":
        return BoardState.ACCEPTED
    if report_state == "returned":
        return BoardState.RETURNED
    if report_state == "submitted":
        if first_submitted_on is not None and first_submitted_on <= deadline:
            return BoardState.SUBMITTED_ON_TIME
        return BoardState.SUBMITTED_LATE
    if today > deadline:
        return BoardState.OVERDUE
    return BoardState.DRAFT if report_state == "draft" else BoardState.NOT_STARTED


def needs_delay_reason(status: Status) -> bool:
    """A late task or an indicator behind must come with a reason, measures and a new date."""
    return status in (Status.BEHIND, Status.OVERDUE)


def reminder_occasion(
    deadline: dt.date, today: dt.date, days_before: Iterable[int], days_after: Iterable[int]
) -> str | None:
    """The reminder due today for a missing or returned report ("before-7", "after-1"), if any."""
    for days in days_before:
        if today == deadline - dt.timedelta(days=days):
            return f"before-{days}"
    for days in days_after:
        if today == deadline + dt.timedelta(days=days):
            return f"after-{days}"
    return None
