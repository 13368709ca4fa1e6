"""The progress engine: where an indicator should be on a date, and how it stands.

Pure functions over plain values; nothing here touches the database or the reporting workflow.
The rule, in the words the README gives leaders:

1. Expected value on a date. A *flow* (new beds 300 / 400 / 500) adds up: each year's amount is
   spread evenly over that year, so on 30 June 2019 Liucheng expects 300 + 200 = 500 beds. A
   *level* (a rate reached by a year) moves in a straight line from the baseline (or the previous
   milestone) to the next milestone; before the first milestone, with no baseline, nothing is
   expected yet. A *deliverable* is expected done on its due date. An upper bound ("不超过50%")
   reads the other way: staying under the line is good.
2. Status of the latest reported value, judged against what was expected on the date it
   describes:
   - 已达标 achieved: it meets that year's milestone, or the final target;
   - 正常推进 on track: it is within the tolerance (15 % by default) of the expected value;
   - 存在风险 at risk: it missed the checkpoint, but at the pace so far the final target is still
     reached by the deadline (or there is not yet enough data to see a pace);
   - 进度滞后 behind: it missed the checkpoint and at the pace so far the final target comes late;
   - 逾期未完成 overdue: the deadline has passed and the final target is not met;
   - 暂无数据 no data: nothing reported yet.
3. Projection: at the pace so far (from the plan's start for a flow, from the baseline or the first
   report for a level), the date the final target is reached.
"""

from __future__ import annotations

import datetime as dt
import itertools
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction

from django.db import models
from django.utils.translation import gettext_lazy as _

FLOW, LEVEL, DELIVERABLE = "flow", "level", "deliverable"
AT_LEAST, AT_MOST = "at_least", "at_most"
DONE = Decimal(1)
# A projection further out than this is "never" for any plan a bureau runs.
HORIZON = dt.date(2100, 12, 31)


class Status(models.TextChoices):
    ACHIEVED = "achieved", _("已达标")
    ON_TRACK = "on_track", _("正常推进")
    AT_RISK = "at_risk", _("存在风险")
    BEHIND = "behind", _("进度滞后")
    OVERDUE = "overdue", _("逾期未完成")
    NO_DATA = "no_data", _("暂无数据")


# Worst first: the order of counts, legends and "furthest behind" lists.
SEVERITY = [
    Status.OVERDUE,
    Status.BEHIND,
    Status.AT_RISK,
    Status.ON_TRACK,
    Status.ACHIEVED,
    Status.NO_DATA,
]


@dataclass(frozen=True)
class Point:
    on: dt.date
    value: Decimal


@dataclass(frozen=True)
class Target:
    """What a plan asks of one indicator, as plain values."""

    kind: str
    direction: str
    start: dt.date  # the plan's first day
    milestones: tuple[Point, ...]  # as stated: a flow's yearly amount, a level's value
    final_target: Decimal | None = None
    deadline: dt.date | None = None  # when the final target is due
    baseline: Point | None = None

    @property
    def final(self) -> Decimal | None:
        """The final target; for a flow without one, the sum of its yearly amounts."""
        if self.final_target is not None:
            return self.final_target
        if not self.milestones:
            return None
        if self.kind == FLOW:
            return sum((m.value for m in self.milestones), Decimal(0))
        return self.milestones[-1].value

    @property
    def due(self) -> dt.date | None:
        """The deadline, or the last milestone's date when the document gives no other."""
        if self.deadline is not None:
            return self.deadline
        return self.milestones[-1].on if self.milestones else None


@dataclass(frozen=True)
class Assessment:
    status: Status
    expected: Decimal | None  # on the date of the latest value (or the date asked, without one)
    actual: Decimal | None
    actual_on: dt.date | None
    year_milestone: Decimal | None  # this year's milestone (a flow's running total)
    final: Decimal | None
    projected: dt.date | None  # when the final target is reached at the pace so far

    @property
    def projected_year(self) -> int | None:
        return self.projected.year if self.projected else None

    @property
    def share_of_milestone(self) -> Decimal | None:
        return share(self.actual, self.year_milestone)

    @property
    def share_of_final(self) -> Decimal | None:
        return share(self.actual, self.final)


def share(actual: Decimal | None, target: Decimal | None) -> Decimal | None:
    """Actual as a fraction of a target (0.93 for 650 of 700); None when either is missing."""
    if actual is None or target is None or target == 0:
        return None
    return actual / target


def year_end(year: int) -> dt.date:
    return dt.date(year, 12, 31)


def milestone_path(target: Target) -> list[Point]:
    """The checkpoints a value should pass, in date order, values as running totals for flows."""
    if target.kind == FLOW:
        if not target.milestones:
            if target.final_target is None or target.deadline is None:
                return []
            return [Point(target.start, Decimal(0)), Point(target.deadline, target.final_target)]
        path, total = [Point(target.start, Decimal(0))], Decimal(0)
        for m in sorted(target.milestones, key=lambda m: m.on):
            # A year's amount is spread over that year only: flat until it begins.
            year_start = max(target.start, dt.date(m.on.year, 1, 1) - dt.timedelta(days=1))
            if year_start > path[-1].on:
                path.append(Point(year_start, total))
            total += m.value
            path.append(Point(m.on, total))
        return path
    points = sorted(target.milestones, key=lambda m: m.on)
    if target.baseline is not None:
        points = [target.baseline, *[p for p in points if p.on > target.baseline.on]]
    if not points and target.final_target is not None and target.deadline is not None:
        points = [Point(target.deadline, target.final_target)]
    return points


def interpolate(path: Sequence[Point], on: dt.date) -> Decimal | None:
    """The value on a date along a path of points; flat after the last, None before the first."""
    if not path or on < path[0].on:
        return None
    for before, after in itertools.pairwise(path):
        if before.on <= on <= after.on:
            span = (after.on - before.on).days
            if span == 0:
                return after.value
            return before.value + (after.value - before.value) * (on - before.on).days / span
    return path[-1].value


def expected_value(target: Target, on: dt.date) -> Decimal | None:
    """What the plan expects on a date; None when the plan expects nothing measurable yet."""
    if target.kind == DELIVERABLE:
        due = target.due
        if due is None:
            return None
        return DONE if on >= due else Decimal(0)
    if target.kind == FLOW and on < target.start:
        return Decimal(0)
    return interpolate(milestone_path(target), on)


def year_milestone(target: Target, year: int) -> Decimal | None:
    """The milestone of a year: a flow's running total by its end, a level's stated value."""
    if target.kind == FLOW:
        if not any(m.on.year == year for m in target.milestones):
            return None
        return interpolate(milestone_path(target), year_end(year))
    stated = [m.value for m in target.milestones if m.on.year == year]
    return stated[-1] if stated else None


def meets(actual: Decimal, target: Decimal, direction: str) -> bool:
    return actual <= target if direction == AT_MOST else actual >= target


def shortfall(actual: Decimal, expected: Decimal, direction: str) -> Decimal:
    """How far short of the expected value, as a fraction of it (0 or less: not short at all)."""
    gap = actual - expected if direction == AT_MOST else expected - actual
    if expected == 0:
        return Decimal(0) if gap <= 0 else Decimal(1)
    return gap / abs(expected)


def projection(target: Target, reports: Sequence[Point]) -> tuple[dt.date | None, bool]:
    """When the final target is reached at the pace so far, and whether a pace could be seen.

    The pace runs from the plan's start (a flow, which starts from nothing) or from the baseline
    or first report (a level) to the latest report. Returns (None, True) for a pace that never
    gets there (flat or going the wrong way), (None, False) when there is no pace to see.
    """
    final = target.final
    if final is None or not reports:
        return None, False
    latest = reports[-1]
    if meets(latest.value, final, target.direction):
        return latest.on, True
    if target.kind == FLOW:
        origin = Point(target.start, Decimal(0))
    else:
        origin = target.baseline or reports[0]
    days = (latest.on - origin.on).days
    if days <= 0:
        return None, False
    sign = -1 if target.direction == AT_MOST else 1
    gained = sign * (latest.value - origin.value)
    remaining = sign * (final - latest.value)
    if gained <= 0:
        return None, True
    # The first whole day the pace gets there, in exact fractions: int(remaining / rate) + 1
    # came out a day late whenever the quotient was whole (50 beds a year, 300 to reach).
    needed = math.ceil(Fraction(remaining) * days / Fraction(gained))
    if needed > (HORIZON - latest.on).days:
        return None, True
    return latest.on + dt.timedelta(days=needed), True


def assess(
    target: Target, reports: Iterable[Point], on: dt.date, *, tolerance: Decimal
) -> Assessment:
    """The status of an indicator on a date, from the values reported up to that date."""
    seen = sorted((r for r in reports if r.on <= on), key=lambda r: r.on)
    latest = seen[-1] if seen else None
    final = DONE if target.kind == DELIVERABLE else target.final
    due = target.due
    judged_on = latest.on if latest else on
    expected = expected_value(target, judged_on)
    milestone = year_milestone(target, judged_on.year)

    def result(status: Status, projected: dt.date | None = None) -> Assessment:
        return Assessment(
            status=status,
            expected=expected,
            actual=latest.value if latest else None,
            actual_on=latest.on if latest else None,
            year_milestone=milestone,
            final=final,
            projected=projected,
        )

    past_due = due is not None and on > due
    if target.kind == DELIVERABLE:
        if latest is not None and latest.value >= DONE:
            return result(Status.ACHIEVED, latest.on)
        if past_due:
            return result(Status.OVERDUE)
        return result(Status.NO_DATA if latest is None else Status.ON_TRACK)

    if latest is None:
        return result(Status.OVERDUE if past_due else Status.NO_DATA)
    projected, pace_seen = projection(target, seen)
    if final is not None and meets(latest.value, final, target.direction):
        return result(Status.ACHIEVED, projected)
    if past_due:
        return result(Status.OVERDUE, projected)
    if milestone is not None and meets(latest.value, milestone, target.direction):
        return result(Status.ACHIEVED, projected)
    if expected is None or shortfall(latest.value, expected, target.direction) <= tolerance:
        return result(Status.ON_TRACK, projected)
    if not pace_seen or (projected is not None and due is not None and projected <= due):
        return result(Status.AT_RISK, projected)
    return result(Status.BEHIND, projected)


def count_by_status(statuses: Iterable[str]) -> dict[Status, int]:
    """How many items have each status, every status present, worst first."""
    counts = Counter(statuses)
    return {status: counts.get(status, 0) for status in SEVERITY}
