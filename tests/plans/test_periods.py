import datetime as dt

import pytest

from plans.periods import (
    chosen_period_end,
    default_period_end,
    parse_period,
    period_ends,
    period_label,
)

d = dt.date


def test_a_plan_has_a_half_year_and_a_year_end_each_year():
    assert period_ends(2018, 2019) == [
        d(2018, 6, 30),
        d(2018, 12, 31),
        d(2019, 6, 30),
        d(2019, 12, 31),
    ]


@pytest.mark.parametrize(
    ("today", "expected"),
    [
        (d(2017, 5, 1), d(2018, 6, 30)),
        (d(2018, 6, 30), d(2018, 6, 30)),
        (d(2019, 3, 1), d(2018, 12, 31)),
        (d(2026, 11, 23), d(2019, 12, 31)),
    ],
)
def test_default_period_is_the_latest_past_one(today, expected):
    assert default_period_end(period_ends(2018, 2019), today) == expected


def test_period_labels():
    assert period_label(d(2019, 6, 30)) == "2019年上半年"
    assert period_label(d(2019, 12, 31)) == "2019年全年"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-06-30", d(2019, 6, 30)),
        ("2019-12-31", d(2019, 12, 31)),
        ("2019-07", d(2019, 6, 30)),
        ("2019-12", d(2019, 12, 31)),
        ("2019-06", d(2019, 6, 30)),
        ("2019-05-31", None),
        ("2019-13", None),
        ("2019x07", None),
        ("", None),
        (None, None),
        ("<script>", None),
        ("9" * 5000, None),
    ],
)
def test_parse_period(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2019-07", d(2019, 6, 30)),
        ("2019-12-31", d(2019, 12, 31)),
        ("2031-06-30", d(2019, 12, 31)),
        ("junk", d(2019, 12, 31)),
        (None, d(2019, 12, 31)),
    ],
)
def test_chosen_period_is_the_one_asked_if_the_plan_has_it(text, expected):
    assert chosen_period_end(text, period_ends(2018, 2019), d(2026, 11, 23)) == expected
