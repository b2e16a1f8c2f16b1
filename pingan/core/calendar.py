"""Working days in mainland China: Monday to Friday, minus statutory holidays, plus the
make-up working days (调休上班日) of the State Council's yearly notice.

The data is ``catalog/calendar/cn.yaml``; a year missing from it falls back to Monday to
Friday (``manage.py check`` warns when the current or next year is missing).

Counting follows legal practice for time limits (期限): the day something starts is not
counted, and a limit of *n* working days ends at the end of the *n*-th working day after
it. Deadlines are instants in Asia/Shanghai.

Two measures are offered:

- whole working days (``add_working_days``, ``working_days_between``), for time limits;
- working *time* (``working_time_between``, ``add_working_time``): the part of an interval
  that falls on working days, as a ``timedelta`` where one working day counts 24 hours.
  Deadline clocks use it for the 80% warning and to push a deadline by exactly the
  working time a clock spent paused (补正).

Everything here is pure and served from a table of cumulative working-day counts built
once, so each call is a lookup or a binary search.
"""

from __future__ import annotations

import bisect
import datetime as dt
import functools
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

from pingan.core.catalog import CatalogError, Located, catalog_path, load_yaml, relative

TZ = ZoneInfo("Asia/Shanghai")
DAY = dt.timedelta(days=1)
# The table covers these dates; nothing the force handles lies outside them.
FIRST_DAY = dt.date(1970, 1, 1)
LAST_DAY = dt.date(2120, 12, 31)


@dataclass(frozen=True)
class CalendarData:
    holidays: frozenset[dt.date]
    makeup_workdays: frozenset[dt.date]
    years: frozenset[int]
    source: str


def _dates(path: Path, block: Located, year: int, key: str) -> frozenset[dt.date]:
    section = block.get(key) or {}
    if not isinstance(section, dict):
        raise CatalogError(relative(path), block.line_of(key), f"{year}.{key} must map dates to names")
    result = set()
    lines = getattr(section, "lines", {})
    for day in section:
        line = lines.get(str(day), block.line_of(key))
        if not isinstance(day, dt.date) or isinstance(day, dt.datetime):
            raise CatalogError(relative(path), line, f"{day!r} is not a date (write YYYY-MM-DD)")
        if day.year != year:
            raise CatalogError(relative(path), line, f"{day} is listed under year {year}")
        result.add(day)
    return frozenset(result)


def load(path: Path | None = None) -> CalendarData:
    """Read and check a calendar file (``catalog/calendar/cn.yaml`` by default)."""
    path = path or catalog_path("calendar", "cn.yaml")
    document = load_yaml(path)
    if not isinstance(document, dict) or not isinstance(document.get("years"), dict):
        raise CatalogError(relative(path), getattr(document, "line", None), "expected a mapping `years:`")
    years: dict = document["years"]
    holidays: set[dt.date] = set()
    makeup: set[dt.date] = set()
    for year, block in years.items():
        line = years.lines.get(str(year))
        if not isinstance(year, int) or not isinstance(block, dict):
            raise CatalogError(relative(path), line, f"{year!r}: expected a year mapping holidays/makeup_workdays")
        off = _dates(path, block, year, "holidays")
        on = _dates(path, block, year, "makeup_workdays")
        for day in sorted(off & on):
            raise CatalogError(relative(path), block.line, f"{day} is both a holiday and a make-up working day")
        for day in sorted(on):
            if day.weekday() < 5:
                raise CatalogError(
                    relative(path), block["makeup_workdays"].lines.get(str(day)), f"make-up day {day} is a weekday"
                )
        holidays |= off
        makeup |= on
    return CalendarData(frozenset(holidays), frozenset(makeup), frozenset(years), relative(path))


@functools.cache
def data() -> CalendarData:
    return load()


class _Table:
    """``counts[i]``: working days in [FIRST_DAY, FIRST_DAY + i) — O(1) counts, O(log n) search."""

    def __init__(self, calendar: CalendarData) -> None:
        self.origin = FIRST_DAY.toordinal()
        size = LAST_DAY.toordinal() - self.origin + 1
        self.working = bytearray(size)
        counts = [0] * (size + 1)
        for index in range(size):
            day = dt.date.fromordinal(self.origin + index)
            working = day in calendar.makeup_workdays or (day.weekday() < 5 and day not in calendar.holidays)
            self.working[index] = working
            counts[index + 1] = counts[index] + working
        self.counts = counts

    def index(self, day: dt.date) -> int:
        index = day.toordinal() - self.origin
        if not 0 <= index < len(self.working):
            raise ValueError(f"{day} is outside the supported calendar ({FIRST_DAY}..{LAST_DAY})")
        return index


@functools.cache
def _table() -> _Table:
    return _Table(data())


def reload() -> None:
    """Forget the loaded calendar (tests, or after officials edited the file)."""
    data.cache_clear()
    _table.cache_clear()


def covered_years() -> frozenset[int]:
    """Years whose holidays the catalogue lists; other years count Monday to Friday."""
    return data().years


def missing_years(years: list[int]) -> list[int]:
    return [year for year in years if year not in covered_years()]


def is_working_day(day: dt.date) -> bool:
    table = _table()
    return bool(table.working[table.index(day)])


def add_working_days(day: dt.date, n: int) -> dt.date:
    """The ``n``-th working day after ``day`` (before it when ``n`` < 0); ``day`` itself when 0.

    ``day`` need not be a working day and is never counted.
    """
    if n == 0:
        table = _table()
        table.index(day)
        return day
    table = _table()
    index = table.index(day)
    # Find the working day d with `counts[d + 1] == target` (it is the first index whose
    # count reaches `target`, minus one).
    target = table.counts[index + 1] + n if n > 0 else table.counts[index] + n + 1
    found = bisect.bisect_left(table.counts, target) - 1
    if target <= 0 or found >= len(table.working):
        raise ValueError(f"{n} working days from {day} is outside the supported calendar")
    return dt.date.fromordinal(table.origin + found)


def working_days_between(a: dt.date, b: dt.date) -> int:
    """Working days after ``a`` up to and including ``b``; when ``b`` < ``a``, minus the
    working days from ``b`` up to (not including) ``a``. ``a`` is never counted, so
    ``working_days_between(a, add_working_days(a, n)) == n`` for every ``n``.
    """
    table = _table()
    ia, ib = table.index(a), table.index(b)
    if ib >= ia:
        return table.counts[ib + 1] - table.counts[ia + 1]
    return table.counts[ib] - table.counts[ia]


def deadline_for(start: dt.datetime, n_working_days: int) -> dt.datetime:
    """The end (23:59:59.999999, Asia/Shanghai) of the ``n``-th working day after ``start``'s day."""
    if n_working_days < 0:
        raise ValueError("a time limit cannot be negative")
    day = add_working_days(local_date(start), n_working_days)
    return dt.datetime.combine(day, dt.time.max, tzinfo=TZ)


# --- Working time ---------------------------------------------------------------------


def _require_aware(moment: dt.datetime) -> dt.datetime:
    if moment.tzinfo is None:
        raise ValueError("naive datetime: pass an aware datetime")
    return moment.astimezone(TZ)


def local_date(moment: dt.datetime) -> dt.date:
    return _require_aware(moment).date()


def start_of_day(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=TZ)


def start_of_next_day(moment: dt.datetime) -> dt.datetime:
    """Where a time limit starts counting: the start day itself is not counted."""
    return start_of_day(local_date(moment) + DAY)


def working_time_between(a: dt.datetime, b: dt.datetime) -> dt.timedelta:
    """The part of [a, b] that lies on working days (negative when ``b`` < ``a``)."""
    a, b = _require_aware(a), _require_aware(b)
    if b < a:
        return -working_time_between(b, a)
    day_a, day_b = a.date(), b.date()
    if day_a == day_b:
        return b - a if is_working_day(day_a) else dt.timedelta(0)
    total = dt.timedelta(0)
    if is_working_day(day_a):
        total += start_of_day(day_a + DAY) - a
    whole_days = working_days_between(day_a, day_b) - (1 if is_working_day(day_b) else 0)
    total += whole_days * DAY
    if is_working_day(day_b):
        total += b - start_of_day(day_b)
    return total


def add_working_time(start: dt.datetime, amount: dt.timedelta) -> dt.datetime:
    """The instant at which ``amount`` of working time has passed since ``start``.

    ``amount`` may be negative (the instant that much working time before ``start``).
    ``working_time_between(start, add_working_time(start, amount)) == amount``.
    """
    start = _require_aware(start)
    day = start.date()
    if amount >= dt.timedelta(0):
        first = start_of_day(day + DAY) - start if is_working_day(day) else dt.timedelta(0)
        if amount <= first:
            return start + amount
        whole, fraction = divmod(amount - first, DAY)
        if not fraction:
            return start_of_day(add_working_days(day, whole) + DAY)
        return start_of_day(add_working_days(day, whole + 1)) + fraction
    amount = -amount
    first = start - start_of_day(day) if is_working_day(day) else dt.timedelta(0)
    if amount <= first:
        return start - amount
    whole, fraction = divmod(amount - first, DAY)
    if not fraction:
        return start_of_day(add_working_days(day, -whole))
    return start_of_day(add_working_days(day, -(whole + 1)) + DAY) - fraction
