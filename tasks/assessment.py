"""Bridge between stored tasks and the pure task-status rule."""

from __future__ import annotations

import datetime as dt

from django.conf import settings

from indicators.progress import Status
from tasks.models import Task
from tasks.progress import DeliverableDue, TaskState, assess_task


def deadline_for(task: Task) -> dt.date | None:
    """A task that is not ongoing is due by the end of its plan, unless its deliverables say."""
    if task.is_ongoing or getattr(task, "state", None) == TaskState.ONGOING:
        return None
    return dt.date(task.plan.end_year, 12, 31)


def assess_task_row(task: Task, on: dt.date) -> Status:
    """Status of a task fetched with `with_state(on)` and prefetched deliverables."""
    deliverables = [DeliverableDue(d.due_date, d.completed_on) for d in task.deliverables.all()]
    return assess_task(
        getattr(task, "state", None),
        deliverables,
        on,
        deadline=deadline_for(task),
        due_soon_days=settings.TASK_DUE_SOON_DAYS,
    )
