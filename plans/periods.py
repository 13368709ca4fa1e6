"""Reporting periods as dates: the half-year ends 30 June, the full year 31 December."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _


def period_ends(start_year: int, end_year: int) -> list[dt.date]:
    """Every half-year and year end of a plan, in order."""
    ends = []
    for year in range(start_year, end_year + 1):
        ends += [dt.date(year, 6, 30), dt.date(year, 12, 31)]
    return ends


def is_period_end(day: dt.date) -> bool:
    return (day.month, day.day) in {(6, 30), (12, 31)}


def default_period_end(ends: list[dt.date], today: dt.date) -> dt.date:
    """The latest period end on or before today; the first one for a plan not yet begun."""
    past = [end for end in ends if end <= today]
    return past[-1] if past else ends[0]


def chosen_period_end(text: str | None, ends: list[dt.date], today: dt.date) -> dt.date:
    """The period named in a URL if it is one of the plan's, else the latest one ended."""
    asked = parse_period(text)
    return asked if asked in ends else default_period_end(ends, today)


def period_label(end: dt.date) -> str:
    """ "2019年上半年" for 30 June 2019, "2019年全年" for 31 December 2019."""
    if (end.month, end.day) == (6, 30):
        return _("%(year)s年上半年") % {"year": end.year}
    if (end.month, end.day) == (12, 31):
        return _("%(year)s年全年") % {"year": end.year}
    return end.isoformat()


def parse_period(text: str | None) -> dt.date | None:
    """Read a period from a URL: "2019-06-30", "2019-12-31", or the month "2019-07" / "2019-12".

    July names the half-year report (period ending 30 June), December the full year.
    Returns None for anything else.
    """
    if not text or len(text) > 10:
        return None
    try:
        if len(text) == 7:
            year, month = int(text[:4]), int(text[5:])
            if text[4] != "-" or month not in (6, 7, 12):
                return None
            return dt.date(year, 6, 30) if month in (6, 7) else dt.date(year, 12, 31)
        day = dt.date.fromisoformat(text)
    except ValueError:
        return None
    return day if is_period_end(day) else None
