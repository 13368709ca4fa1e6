"""Reporting rules without the database."""

from __future__ import annotations

import datetime as dt

import pytest

from indicators.progress import Status
from reports.models import ReportingPeriod
from reports.rules import BoardState, board_state, needs_delay_reason, reminder_occasion

d = dt.date
DEADLINE = d(2019, 7, 31)


@pytest.mark.parametrize(
    ("state", "first", "today", "expected"),
    [
        (None, None, d(2019, 7, 1), BoardState.NOT_STARTED),
        (None, None, d(2019, 8, 1), BoardState.OVERDUE),
        ("draft", None, d(2019, 7, 31), BoardState.DRAFT),
        ("draft", None, d(2019, 8, 1), BoardState.OVERDUE),
        ("submitted", d(2019, 7, 31), d(2019, 9, 1), BoardState.SUBMITTED_ON_TIME),
        ("submitted", d(2019, 8, 1), d(2019, 9, 1), BoardState.SUBMITTED_LATE),
        ("returned", d(2019, 7, 20), d(2019, 9, 1), BoardState.RETURNED),
        ("accepted", d(2019, 7, 20), d(2019, 9, 1), BoardState.ACCEPTED),
    ],
)
def test_board_state(state, first, today, expected):
    assert board_state(state, first, DEADLINE, today) == expected


@pytest.mark.parametrize(
    ("status", "needed"),
    [
        (Status.BEHIND, True),
        (Status.OVERDUE, True),
        (Status.AT_RISK, False),
        (Status.ON_TRACK, False),
        (Status.ACHIEVED, False),
        (Status.NO_DATA, False),
    ],
)
def test_delay_reason_is_needed_when_behind_or_overdue(status, needed):
    assert needs_delay_reason(status) is needed


@pytest.mark.parametrize(
    ("today", "occasion"),
    [
        (d(2019, 7, 24), "before-7"),
        (d(2019, 7, 30), "before-1"),
        (d(2019, 7, 31), None),
        (d(2019, 8, 1), "after-1"),
        (d(2019, 8, 7), "after-7"),
        (d(2019, 8, 8), None),
    ],
)
def test_reminder_occasions(today, occasion):
    assert reminder_occasion(DEADLINE, today, [7, 1], [1, 7]) == occasion


@pytest.mark.parametrize(
    ("slug", "named"),
    [
        ("2019-07", (ReportingPeriod.Kind.HALF_YEAR, 2019)),
        ("2019-12", (ReportingPeriod.Kind.FULL_YEAR, 2019)),
        ("2019-06", None),
        ("2019-7", None),
        ("２０１９-07", None),
        ("2019-07 ", None),
        ("", None),
    ],
)
def test_a_period_is_named_in_urls_by_its_year_and_report_month_only(slug, named):
    assert ReportingPeriod.kind_and_year(slug) == named
