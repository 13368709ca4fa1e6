"""Properties of reading a reporting period from a URL (plans/periods.py), with hypothesis."""

from __future__ import annotations

import datetime as dt

from hypothesis import example, given, settings
from hypothesis import strategies as st

from plans.periods import is_period_end, parse_period

FAST = settings(max_examples=300, deadline=None)
years = st.integers(min_value=1, max_value=9999)


def canonical_names(end: dt.date) -> set[str]:
    """Every way a URL may name the period ending on `end`."""
    months = ("06", "07") if end.month == 6 else ("12",)
    return {end.isoformat(), *(f"{end.year:04d}-{m}" for m in months)}


@FAST
@given(text=st.one_of(st.none(), st.text(max_size=12)))
def test_any_text_gives_a_period_end_or_none(text):
    end = parse_period(text)
    assert end is None or is_period_end(end)


# Pieces of dates and look-alikes: full-width and Arabic-Indic digits, ISO week dates, signs.
fragments = st.sampled_from(
    [
        "2019",
        "201",
        "0000",
        "06",
        "07",
        "12",
        "30",
        "31",
        "0",
        "-",
        "W26",
        "7",
        "+",
        " ",
        "２０１９",
        "٢٠١٩",
    ]
)


@FAST
@given(text=st.lists(fragments, max_size=6).map("".join))
# Once read as periods: int() and date.fromisoformat() are more lenient than a URL should be.
@example(text="20190630")
@example(text="2019-W26-7")
@example(text="２０１９-07")
@example(text="+201-07")
@example(text="06060630")
def test_only_the_documented_spellings_are_read(text):
    end = parse_period(text)
    assert end is None or text in canonical_names(end)


@FAST
@given(year=years, half=st.booleans())
def test_every_period_end_reads_back_from_each_of_its_names(year, half):
    end = dt.date(year, 6, 30) if half else dt.date(year, 12, 31)
    for name in canonical_names(end):
        assert parse_period(name) == end


@FAST
@given(day=st.dates())
def test_a_date_that_ends_no_period_is_refused(day):
    assert (parse_period(day.isoformat()) is not None) == is_period_end(day)
