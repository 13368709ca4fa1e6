"""The progress engine on the plans' own numbers, without the database."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal as D

import pytest

from indicators.progress import (
    Point,
    Status,
    Target,
    assess,
    count_by_status,
    expected_value,
    milestone_path,
    projection,
    shortfall,
    year_milestone,
)

TOL = D("0.15")
d = dt.date


def ye(year: int) -> dt.date:
    return d(year, 12, 31)


# Liucheng 2018-2020
NEW_BEDS = Target(  # 二、(一)3: 300 / 400 / 500, 1,200 in all
    kind="flow",
    direction="at_least",
    start=d(2018, 1, 1),
    milestones=(Point(ye(2018), D(300)), Point(ye(2019), D(400)), Point(ye(2020), D(500))),
    final_target=D(1200),
    deadline=ye(2020),
)
HEALTH_RATE = Target(  # 二、(三)1: 30% / 50% / 60%
    kind="level",
    direction="at_least",
    start=d(2018, 1, 1),
    milestones=(Point(ye(2018), D(30)), Point(ye(2019), D(50)), Point(ye(2020), D(60))),
    final_target=D(60),
    deadline=ye(2020),
)
# Xianyang: government-run beds at most 50% of all beds by 2020
GOVERNMENT_RUN = Target(
    kind="level",
    direction="at_most",
    start=d(2019, 1, 1),
    milestones=(Point(ye(2020), D(50)),),
    final_target=D(50),
    deadline=ye(2020),
    baseline=Point(d(2019, 1, 1), D(70)),
)
# Xianyang: "2019年6月,建成老龄工作管理信息平台"
PLATFORM = Target(
    kind="deliverable",
    direction="at_least",
    start=d(2019, 1, 1),
    milestones=(Point(d(2019, 6, 30), D(1)),),
    final_target=D(1),
    deadline=d(2019, 6, 30),
)
# Liuzhou beds: 20,000 in September 2022, 26,000 by 2025
LIUZHOU_BEDS = Target(
    kind="level",
    direction="at_least",
    start=d(2023, 1, 1),
    milestones=(Point(ye(2025), D(26000)),),
    final_target=D(26000),
    deadline=ye(2025),
    baseline=Point(d(2022, 9, 30), D(20000)),
)


@pytest.mark.parametrize(
    ("on", "expected"),
    [
        (d(2017, 12, 31), D(0)),
        (d(2018, 1, 1), D(0)),
        (ye(2018), D(300)),
        (ye(2019), D(700)),
        (ye(2020), D(1200)),
        (d(2021, 6, 30), D(1200)),
    ],
)
def test_flow_expected_value_adds_up_the_years(on, expected):
    assert expected_value(NEW_BEDS, on) == expected


def test_flow_is_pro_rated_within_its_year():
    # 2019-06-30 is 181 of 365 days into 2019: 300 + 400 * 181/365.
    assert expected_value(NEW_BEDS, d(2019, 6, 30)).quantize(D("0.1")) == D("498.4")


def test_flow_path_keeps_the_stated_amounts_and_derives_the_total():
    assert [p.value for p in milestone_path(NEW_BEDS)][-1] == D(1200)
    assert NEW_BEDS.final == D(1200)
    assert year_milestone(NEW_BEDS, 2019) == D(700)


def test_flow_without_a_final_target_sums_its_milestones():
    target = Target("flow", "at_least", d(2018, 1, 1), NEW_BEDS.milestones)
    assert target.final == D(1200)


def test_level_is_interpolated_between_milestones():
    assert expected_value(HEALTH_RATE, ye(2019)) == D(50)
    midway = expected_value(HEALTH_RATE, d(2019, 7, 2))
    assert D(39) < midway < D(41)


def test_level_before_its_first_milestone_without_baseline_expects_nothing_yet():
    assert expected_value(HEALTH_RATE, d(2018, 6, 30)) is None


def test_liuzhou_beds_short_of_the_line_with_a_slow_pace_is_behind():
    # 20,000 (2022-09) → 21,000 (2025-06): about 1,000 in 33 months; 26,000 would come in 2039.
    assert at(LIUZHOU_BEDS, d(2024, 6, 30), (d(2024, 6, 30), 21000)).status == Status.ON_TRACK
    result = at(LIUZHOU_BEDS, d(2025, 6, 30), (d(2025, 6, 30), 21000))
    assert result.status == Status.BEHIND
    assert result.projected_year == 2039


def test_level_from_baseline_to_target():
    on = d(2024, 3, 31)
    expected = expected_value(LIUZHOU_BEDS, on)
    share = D((on - d(2022, 9, 30)).days) / D((ye(2025) - d(2022, 9, 30)).days)
    assert expected == D(20000) + D(6000) * share


def test_upper_bound_descends_from_its_baseline():
    assert expected_value(GOVERNMENT_RUN, d(2019, 1, 1)) == D(70)
    assert D(59) < expected_value(GOVERNMENT_RUN, d(2020, 1, 1)) < D(61)
    assert expected_value(GOVERNMENT_RUN, ye(2020)) == D(50)


@pytest.mark.parametrize(("on", "expected"), [(d(2019, 6, 29), D(0)), (d(2019, 6, 30), D(1))])
def test_deliverable_is_expected_on_its_due_date(on, expected):
    assert expected_value(PLATFORM, on) == expected


def at(target, on, *reports):
    return assess(target, [Point(r_on, D(v)) for r_on, v in reports], on, tolerance=TOL)


def test_new_beds_650_of_700_is_on_track():
    result = at(NEW_BEDS, ye(2019), (ye(2019), 650))
    assert result.status == Status.ON_TRACK
    assert result.expected == D(700)
    assert result.share_of_milestone.quantize(D("0.01")) == D("0.93")


def test_new_beds_300_by_end_2019_is_behind():
    result = at(NEW_BEDS, ye(2019), (ye(2019), 300))
    assert result.status == Status.BEHIND
    # 300 beds in two years: 1,200 comes in 2025, after the 2020 deadline.
    assert result.projected_year == 2025


def test_health_rate_52_against_50_is_achieved_for_the_year():
    result = at(HEALTH_RATE, ye(2019), (ye(2019), 52))
    assert result.status == Status.ACHIEVED
    assert result.year_milestone == D(50)


def test_reaching_the_final_target_is_achieved():
    assert at(NEW_BEDS, d(2020, 6, 30), (d(2020, 6, 30), 1250)).status == Status.ACHIEVED


def test_missed_checkpoint_with_a_pace_that_still_arrives_in_time_is_at_risk():
    missed = at(HEALTH_RATE, ye(2019), (ye(2018), 10), (ye(2019), 40))
    # 10% → 40% in a year: 60% is reached in mid-2020, before the 2020 deadline.
    assert missed.status == Status.AT_RISK
    assert missed.projected_year == 2020


def test_missed_checkpoint_with_a_pace_too_slow_is_behind():
    result = at(HEALTH_RATE, ye(2019), (ye(2018), 25), (ye(2019), 30))
    assert result.status == Status.BEHIND
    assert result.projected_year == 2025


def test_missed_checkpoint_with_a_single_value_and_no_baseline_is_at_risk():
    assert at(HEALTH_RATE, ye(2018), (ye(2018), 20)).status == Status.AT_RISK


def test_level_going_the_wrong_way_is_behind_with_no_projection():
    result = at(HEALTH_RATE, ye(2019), (ye(2018), 30), (ye(2019), 28))
    assert result.status == Status.BEHIND
    assert result.projected is None


def test_nothing_reported_is_no_data_until_the_deadline_then_overdue():
    assert at(NEW_BEDS, ye(2019)).status == Status.NO_DATA
    assert at(NEW_BEDS, d(2021, 1, 1)).status == Status.OVERDUE


def test_final_target_missed_after_the_deadline_is_overdue():
    assert at(NEW_BEDS, d(2021, 6, 30), (ye(2020), 1000)).status == Status.OVERDUE


def test_reports_after_the_date_asked_are_ignored():
    result = at(NEW_BEDS, ye(2018), (ye(2018), 300), (ye(2019), 100))
    assert result.actual == D(300)
    assert result.status == Status.ACHIEVED


def test_upper_bound_under_the_line_is_achieved_over_it_is_not():
    assert at(GOVERNMENT_RUN, ye(2020), (ye(2020), 48)).status == Status.ACHIEVED
    assert at(GOVERNMENT_RUN, ye(2020), (ye(2020), 50)).status == Status.ACHIEVED
    over = at(GOVERNMENT_RUN, ye(2020), (d(2019, 12, 31), 68), (ye(2020), 66))
    assert over.status == Status.BEHIND


def test_upper_bound_on_its_way_down_is_on_track():
    assert at(GOVERNMENT_RUN, d(2020, 1, 1), (d(2020, 1, 1), 62)).status == Status.ON_TRACK


@pytest.mark.parametrize(
    ("on", "reports", "status"),
    [
        (d(2019, 3, 31), [], Status.NO_DATA),
        (d(2019, 3, 31), [(d(2019, 3, 31), 0)], Status.ON_TRACK),
        (d(2019, 6, 30), [(d(2019, 6, 30), 1)], Status.ACHIEVED),
        (d(2019, 7, 1), [], Status.OVERDUE),
        (d(2019, 12, 31), [(d(2019, 6, 30), 0)], Status.OVERDUE),
        (d(2019, 12, 31), [(d(2019, 12, 31), 1)], Status.ACHIEVED),
    ],
)
def test_deliverable_status(on, reports, status):
    assert at(PLATFORM, on, *reports).status == status


@pytest.mark.parametrize(
    ("actual", "expected", "direction", "gap"),
    [
        (D(650), D(700), "at_least", D(50) / D(700)),
        (D(750), D(700), "at_least", D(-50) / D(700)),
        (D(55), D(50), "at_most", D("0.1")),
        (D(0), D(0), "at_least", D(0)),
        (D(1), D(0), "at_most", D(1)),
    ],
)
def test_shortfall(actual, expected, direction, gap):
    assert shortfall(actual, expected, direction) == gap


def test_projection_needs_a_pace():
    assert projection(HEALTH_RATE, [Point(ye(2018), D(20))]) == (None, False)
    assert projection(NEW_BEDS, [Point(d(2018, 1, 1), D(0))]) == (None, False)


def test_counts_list_every_status_worst_first():
    counts = count_by_status(["on_track", "behind", "on_track"])
    assert list(counts)[:2] == [Status.OVERDUE, Status.BEHIND]
    assert counts[Status.ON_TRACK] == 2
    assert counts[Status.NO_DATA] == 0
    assert sum(counts.values()) == 3
