"""Reporting periods: a day, a month, a quarter or a year, in China Standard Time.

    period = parse("2021Q3")
    period.start, period.end          # aware datetimes, Asia/Shanghai; end is exclusive
    period.previous()                 # 环比: 2021Q2
    period.same_period_last_year()    # 同比: 2020Q3
    period.iso, period.label          # "2021Q3", "2021年第3季度"

A period is a half-open interval ``[start, end)`` of local calendar days, so the figures of
adjacent periods never overlap and the days of a year are the sum of its months' days.
"""

from __future__ import annotations

import calendar
import datetime as dt
import enum
import re
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

ZONE = ZoneInfo("Asia/Shanghai")
# Periods exist from MIN_YEAR (so the 同比 of the first period a user may name is one) to
# MAX_YEAR (so the last one still has an end, at the start of the next year).
MIN_YEAR, MAX_YEAR = 1900, 9998
FIRST_YEAR = MIN_YEAR + 1  # the first year a user may ask about
# Before any record: a stock (value at a period's end) counts everything from here on.
BEGINNING = dt.datetime(MIN_YEAR, 1, 1, tzinfo=ZONE)


class PeriodError(ValueError):
    """A period could not be understood; the message is fit to show to the user."""


class PeriodType(enum.StrEnum):
    DAY = "day"
    MONTH = "month"
    QUARTER = "quarter"
    YEAR = "year"

    @property
    def label(self) -> str:
        return str(PERIOD_TYPE_LABELS[self])


PERIOD_TYPE_LABELS = {
    PeriodType.DAY: gettext_lazy("日"),
    PeriodType.MONTH: gettext_lazy("月"),
    PeriodType.QUARTER: gettext_lazy("季度"),
    PeriodType.YEAR: gettext_lazy("年"),
}

_PATTERNS = [
    (PeriodType.YEAR, re.compile(r"(?P<year>[0-9]{4})")),
    (PeriodType.QUARTER, re.compile(r"(?P<year>[0-9]{4})[Qq](?P<quarter>[0-9])")),
    (PeriodType.MONTH, re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})")),
    (PeriodType.DAY, re.compile(r"(?P<year>[0-9]{4})-(?P<month>[0-9]{2})-(?P<day>[0-9]{2})")),
]


def _add_months(year: int, month: int, months: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    """One period: its type and its first day (always the first day of that type's period)."""

    type: PeriodType
    first_day: dt.date

    def __post_init__(self) -> None:
        if not MIN_YEAR <= self.first_day.year <= MAX_YEAR:
            raise PeriodError(_("年份应在 %(min)s 至 %(max)s 之间。") % {"min": MIN_YEAR, "max": MAX_YEAR})
        if self.first_day != _first_day(self.type, self.first_day):
            raise ValueError(f"{self.first_day} is not the first day of a {self.type}")

    # --- Constructors -------------------------------------------------------------

    @classmethod
    def containing(cls, type: PeriodType | str, day: dt.date) -> Period:
        """The period of ``type`` that contains ``day``."""
        kind = PeriodType(type)
        return cls(kind, _first_day(kind, day))

    @classmethod
    def year(cls, year: int) -> Period:
        return cls(PeriodType.YEAR, _date(year, 1, 1))

    @classmethod
    def quarter(cls, year: int, quarter: int) -> Period:
        if not 1 <= quarter <= 4:
            raise PeriodError(_("季度应为 1 至 4。"))
        return cls(PeriodType.QUARTER, _date(year, 3 * quarter - 2, 1))

    @classmethod
    def month(cls, year: int, month: int) -> Period:
        if not 1 <= month <= 12:
            raise PeriodError(_("月份应为 01 至 12。"))
        return cls(PeriodType.MONTH, _date(year, month, 1))

    @classmethod
    def day(cls, day: dt.date) -> Period:
        return cls(PeriodType.DAY, day)

    # --- The interval ---------------------------------------------------------------

    @property
    def last_day(self) -> dt.date:
        return _shift(self.type, self.first_day, 1) - dt.timedelta(days=1)

    @property
    def start(self) -> dt.datetime:
        """Local midnight at the start of the first day (aware, Asia/Shanghai)."""
        return dt.datetime.combine(self.first_day, dt.time(0), tzinfo=ZONE)

    @property
    def end(self) -> dt.datetime:
        """Local midnight after the last day (exclusive)."""
        return dt.datetime.combine(self.last_day + dt.timedelta(days=1), dt.time(0), tzinfo=ZONE)

    @property
    def days(self) -> int:
        return (self.last_day - self.first_day).days + 1

    def __contains__(self, day: object) -> bool:
        if isinstance(day, dt.datetime):
            return self.start <= day < self.end
        if isinstance(day, dt.date):
            return self.first_day <= day <= self.last_day
        return False

    # --- Neighbours -----------------------------------------------------------------

    def shifted(self, steps: int) -> Period:
        """The period ``steps`` periods of the same type later (earlier if negative)."""
        return Period(self.type, _shift(self.type, self.first_day, steps))

    def next(self) -> Period:
        return self.shifted(1)

    def previous(self) -> Period:
        """环比: the period just before, of the same type (2021Q1 → 2020Q4)."""
        return self.shifted(-1)

    def same_period_last_year(self) -> Period:
        """同比: the same period one year earlier. 29 February compares with 28 February."""
        first = self.first_day
        if self.type == PeriodType.DAY:
            year = first.year - 1
            day = min(first.day, calendar.monthrange(year, first.month)[1])
            return Period(self.type, _date(year, first.month, day))
        return Period(self.type, _date(first.year - 1, first.month, 1))

    # --- Labels -----------------------------------------------------------------------

    @property
    def iso(self) -> str:
        first = self.first_day
        if self.type == PeriodType.YEAR:
            return f"{first.year:04d}"
        if self.type == PeriodType.QUARTER:
            return f"{first.year:04d}Q{(first.month + 2) // 3}"
        if self.type == PeriodType.MONTH:
            return f"{first.year:04d}-{first.month:02d}"
        return first.isoformat()

    @property
    def label(self) -> str:
        """Human label in the active language (Chinese: 2021年第3季度)."""
        first = self.first_day
        values = {"year": first.year, "quarter": (first.month + 2) // 3, "month": first.month, "day": first.day}
        if self.type == PeriodType.YEAR:
            return _("%(year)s年") % values
        if self.type == PeriodType.QUARTER:
            return _("%(year)s年第%(quarter)s季度") % values
        if self.type == PeriodType.MONTH:
            return _("%(year)s年%(month)s月") % values
        return _("%(year)s年%(month)s月%(day)s日") % values

    def __str__(self) -> str:
        return self.iso


def _date(year: int, month: int, day: int) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise PeriodError(
            _("日期无效：%(year)04d-%(month)02d-%(day)02d。") % {"year": year, "month": month, "day": day}
        ) from None


def _shift(kind: PeriodType, first: dt.date, steps: int) -> dt.date:
    """The first day ``steps`` periods of ``kind`` after ``first`` (a plain date: it may lie
    just outside the range of periods, as the end of the last one does)."""
    if kind == PeriodType.DAY:
        try:
            return first + dt.timedelta(days=steps)
        except OverflowError:
            raise PeriodError(_("日期超出范围。")) from None
    months = {PeriodType.MONTH: 1, PeriodType.QUARTER: 3, PeriodType.YEAR: 12}[kind] * steps
    year, month = _add_months(first.year, first.month, months)
    if not 1 <= year <= 9999:
        raise PeriodError(_("日期超出范围。"))
    return dt.date(year, month, 1)


def _first_day(kind: PeriodType, day: dt.date) -> dt.date:
    if kind == PeriodType.DAY:
        return day
    if kind == PeriodType.MONTH:
        return day.replace(day=1)
    if kind == PeriodType.QUARTER:
        return dt.date(day.year, 3 * ((day.month - 1) // 3) + 1, 1)
    return dt.date(day.year, 1, 1)


def parse(text: str) -> Period:
    """``2021``, ``2021Q3``, ``2021-07`` or ``2021-07-15``; raises :class:`PeriodError` otherwise."""
    value = (text or "").strip()
    for kind, pattern in _PATTERNS:
        match = pattern.fullmatch(value)
        if match is None:
            continue
        year = int(match["year"])
        if not FIRST_YEAR <= year <= MAX_YEAR:
            raise PeriodError(_("年份应在 %(min)s 至 %(max)s 之间。") % {"min": FIRST_YEAR, "max": MAX_YEAR})
        if kind == PeriodType.YEAR:
            return Period.year(year)
        if kind == PeriodType.QUARTER:
            return Period.quarter(year, int(match["quarter"]))
        if kind == PeriodType.MONTH:
            return Period.month(year, int(match["month"]))
        month = int(match["month"])
        if not 1 <= month <= 12:
            raise PeriodError(_("月份应为 01 至 12。"))
        return Period.day(_date(year, month, int(match["day"])))
    raise PeriodError(
        _("无法识别的期间“%(text)s”：请写成 2021（年）、2021Q3（季度）、2021-07（月）或 2021-07-15（日）。")
        % {"text": value[:40]}
    )


def parse_as(text: str, type: PeriodType | str) -> Period:
    """Parse ``text`` and express it as a period of ``type`` (the one containing its last day
    when ``text`` names a longer period, its first day's when a shorter one)."""
    period = parse(text)
    kind = PeriodType(type)
    if period.type == kind:
        return period
    return Period.containing(kind, period.last_day if _length(kind) < _length(period.type) else period.first_day)


def _length(kind: PeriodType) -> int:
    return [PeriodType.DAY, PeriodType.MONTH, PeriodType.QUARTER, PeriodType.YEAR].index(kind)


def current(type: PeriodType | str, *, today: dt.date | None = None) -> Period:
    """The period of ``type`` containing today (in China Standard Time)."""
    return Period.containing(type, today or dt.datetime.now(ZONE).date())
