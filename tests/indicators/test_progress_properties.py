"""Properties of the progress engine (indicators/progress.py), checked with hypothesis."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from fractions import Fraction

from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from indicators.progress import (
    AT_LEAST,
    AT_MOST,
    DELIVERABLE,
    FLOW,
    LEVEL,
    SEVERITY,
    Point,
    Status,
    Target,
    assess,
    expected_value,
    meets,
    projection,
)

FAST = settings(max_examples=100, deadline=None)
TOLERANCE = Decimal("0.15")
START_YEAR = 2018

# Round numbers as plans state them (they make exact ratios likely), and any others.
amounts = st.one_of(
    st.sampled_from([0, 50, 100, 300, 600, 1200]), st.integers(min_value=0, max_value=100_000)
).map(Decimal)
days = st.dates(min_value=dt.date(2016, 1, 1), max_value=dt.date(2026, 12, 31))
# Reports fall on half-year and year ends, as measurements do.
report_dates = st.builds(
    lambda year, half: dt.date(year, 6, 30) if half else dt.date(year, 12, 31),
    st.integers(min_value=START_YEAR, max_value=2024),
    st.booleans(),
)


def year_ends(first: int, count: int) -> list[dt.date]:
    return [dt.date(first + i, 12, 31) for i in range(count)]


@st.composite
def targets(draw, kind=None, direction=None, rising: bool = False) -> Target:
    """A target as a plan could state it; `rising`: an at-least level whose milestones go up."""
    kind = kind or draw(st.sampled_from([FLOW, LEVEL, DELIVERABLE]))
    direction = (
        AT_LEAST if kind == DELIVERABLE else direction or draw(st.sampled_from([AT_LEAST, AT_MOST]))
    )
    start = dt.date(START_YEAR, 1, 1)
    count = draw(st.integers(min_value=0 if kind != DELIVERABLE else 1, max_value=4))
    first = draw(st.integers(min_value=START_YEAR, max_value=START_YEAR + 2))
    values = draw(st.lists(amounts, min_size=count, max_size=count))
    if kind == DELIVERABLE:
        values = [Decimal(1)] * count
    if rising:
        values = sorted(values)
    milestones = tuple(Point(on, v) for on, v in zip(year_ends(first, count), values, strict=True))
    baseline = None
    if kind == LEVEL and draw(st.booleans()):
        low = min(values, default=Decimal(0))
        baseline = Point(start, low if rising else draw(amounts))
    final_target = draw(st.one_of(st.none(), amounts)) if kind != DELIVERABLE else None
    if rising and final_target is not None and values:
        final_target = max(final_target, values[-1])
    deadline = draw(st.one_of(st.none(), st.sampled_from(year_ends(START_YEAR, 6))))
    if not milestones and (final_target is None or deadline is None) and kind != DELIVERABLE:
        final_target, deadline = draw(amounts), dt.date(START_YEAR + 2, 12, 31)
    return Target(kind, direction, start, milestones, final_target, deadline, baseline)


def reports_for(draw_dates, draw_values) -> list[Point]:
    return sorted(
        {on: Point(on, v) for on, v in zip(draw_dates, draw_values, strict=False)}.values(),
        key=lambda p: p.on,
    )


report_lists = st.builds(
    reports_for,
    st.lists(report_dates, min_size=1, max_size=5),
    st.lists(amounts, min_size=5, max_size=5),
)


def rank(status: Status) -> int:
    """Worse statuses rank lower: overdue 0 ... achieved 4."""
    return SEVERITY.index(status)


@FAST
@given(target=targets(), reports=st.one_of(st.just([]), report_lists), on=days)
def test_assessing_a_valid_target_never_raises(target, reports, on):
    result = assess(target, reports, on, tolerance=TOLERANCE)
    assert result.status in Status.values
    assert (result.status == Status.NO_DATA) <= (result.actual is None)


@FAST
@given(
    target=st.one_of(targets(kind=FLOW, direction=AT_LEAST), targets(kind=LEVEL, rising=True)),
    first=days,
    second=days,
)
def test_an_at_least_target_never_expects_less_later(target, first, second):
    earlier, later = sorted([first, second])
    before, after = expected_value(target, earlier), expected_value(target, later)
    assume(before is not None)
    assert after is not None and after >= before


@FAST
@given(
    target=targets(direction=AT_LEAST),
    reports=report_lists,
    extra=amounts,
    on=report_dates,
)
def test_more_actual_is_never_worse_for_an_at_least_target(target, reports, extra, on):
    reports = [r for r in reports if r.on <= on]
    assume(reports)
    more = [*reports[:-1], Point(reports[-1].on, reports[-1].value + extra)]

    lower = assess(target, reports, on, tolerance=TOLERANCE).status
    higher = assess(target, more, on, tolerance=TOLERANCE).status

    assert rank(higher) >= rank(lower), (lower, higher)


@FAST
@given(
    target=targets(direction=AT_MOST),
    reports=report_lists,
    extra=amounts,
    on=report_dates,
)
def test_more_actual_is_never_better_for_an_at_most_target(target, reports, extra, on):
    assume(target.kind != DELIVERABLE)
    reports = [r for r in reports if r.on <= on]
    assume(reports)
    more = [*reports[:-1], Point(reports[-1].on, reports[-1].value + extra)]

    lower = assess(target, reports, on, tolerance=TOLERANCE).status
    higher = assess(target, more, on, tolerance=TOLERANCE).status

    assert rank(higher) <= rank(lower), (lower, higher)


def pace_value(target: Target, reports: list[Point], on: dt.date) -> Fraction:
    """The value on a date at the pace projection() extends (same origin rule), exactly."""
    latest = reports[-1]
    if target.kind == FLOW:
        origin = Point(target.start, Decimal(0))
    else:
        origin = target.baseline or reports[0]
    span = (latest.on - origin.on).days
    gained = Fraction(latest.value) - Fraction(origin.value)
    return Fraction(origin.value) + gained * (on - origin.on).days / span


def reaches(value: Fraction, target: Target) -> bool:
    final = Fraction(target.final)
    return value <= final if target.direction == AT_MOST else value >= final


# 50 beds in 2018's 364 days reach 300 on 2023-12-25; the engine once said a day later.
FIFTY_A_YEAR = Target(
    FLOW,
    AT_LEAST,
    dt.date(2018, 1, 1),
    (Point(dt.date(2018, 12, 31), Decimal(0)),),
    final_target=Decimal(300),
)


@FAST
@given(target=targets(), reports=report_lists)
@example(target=FIFTY_A_YEAR, reports=[Point(dt.date(2018, 12, 31), Decimal(50))])
def test_a_projected_date_is_the_first_day_the_pace_meets_the_final_target(target, reports):
    assume(target.kind != DELIVERABLE and target.final is not None)
    projected, pace_seen = projection(target, reports)
    latest = reports[-1]
    if meets(latest.value, target.final, target.direction):
        assert projected == latest.on and pace_seen
        return
    assume(projected is not None)

    assert pace_seen and projected > latest.on
    assert reaches(pace_value(target, reports, projected), target)
    day_before = projected - dt.timedelta(days=1)
    if day_before > latest.on:
        assert not reaches(pace_value(target, reports, day_before), target)
