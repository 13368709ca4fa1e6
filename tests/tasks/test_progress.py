"""Task status from its recorded state and deliverables, without the database."""

from __future__ import annotations

import datetime as dt

import pytest

from indicators.progress import Status
from tasks.progress import DeliverableDue, TaskState, assess_task

d = dt.date
# Xianyang 2.2: "2019年6月,建成老龄工作管理信息平台"
PLATFORM = DeliverableDue(due=d(2019, 6, 30))


@pytest.mark.parametrize(
    ("state", "deliverables", "on", "deadline", "status"),
    [
        (None, [], d(2019, 3, 1), None, Status.NO_DATA),
        (TaskState.DONE, [PLATFORM], d(2020, 1, 1), None, Status.ACHIEVED),
        (TaskState.IN_PROGRESS, [PLATFORM], d(2019, 7, 1), None, Status.OVERDUE),
        (None, [PLATFORM], d(2019, 7, 1), None, Status.OVERDUE),
        (
            TaskState.IN_PROGRESS,
            [DeliverableDue(d(2019, 6, 30), completed_on=d(2019, 6, 20))],
            d(2019, 7, 1),
            None,
            Status.ON_TRACK,
        ),
        (
            TaskState.IN_PROGRESS,
            [DeliverableDue(d(2019, 6, 30), completed_on=d(2019, 8, 1))],
            d(2019, 7, 15),
            None,
            Status.OVERDUE,
        ),
        (TaskState.DELAYED, [], d(2019, 3, 1), None, Status.BEHIND),
        (TaskState.NOT_STARTED, [PLATFORM], d(2019, 6, 1), None, Status.AT_RISK),
        (TaskState.NOT_STARTED, [PLATFORM], d(2019, 1, 1), None, Status.ON_TRACK),
        (TaskState.ONGOING, [], d(2030, 1, 1), None, Status.ON_TRACK),
        (TaskState.IN_PROGRESS, [], d(2021, 1, 1), d(2020, 12, 31), Status.OVERDUE),
        (TaskState.NOT_STARTED, [], d(2020, 12, 1), d(2020, 12, 31), Status.AT_RISK),
    ],
)
def test_task_status(state, deliverables, on, deadline, status):
    assert assess_task(state, deliverables, on, deadline=deadline) == status


def test_a_delivered_deliverable_is_not_missed_before_it_was_due():
    assert not DeliverableDue(d(2019, 6, 30)).missed(d(2019, 6, 30))
    assert DeliverableDue(d(2019, 6, 30)).missed(d(2019, 7, 1))
