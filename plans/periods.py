"""Reporting periods as dates: the half-year ends 30 June, the full year 31 December."""

from __future__ import annotations

import datetime as dt
import re

from django.utils.translation import gettext as _

_PERIOD = re.compile(r"([0-9]{4})-([0-9]{2})(?:-([0-9]{2}))?")


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
    # Spelled out exactly: int() and date.fromisoformat() would also take "２０１９-07",
    # "+201-07", "20190630" or the week date "2019-W26-7", other addresses for one page.
    match = _PERIOD.fullmatch(text or "")
    if match is None:
        return None
    year, month, day = (int(part) if part else None for part in match.groups())
    if day is None:  # the month of the report, or the period's last month
        if month not in (6, 7, 12):
            return None
        month, day = (6, 30) if month in (6, 7) else (12, 31)
    try:
        end = dt.date(year, month, day)
    except ValueError:  # year 0, 31 June
        return None
    return end if is_period_end(end) else None
