from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pingan.core import calendar
from pingan.core.calendar import TZ
from pingan.core.catalog import CatalogError

D = dt.date


def at(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> dt.datetime:
    return dt.datetime(year, month, day, hour, minute, tzinfo=TZ)


@pytest.mark.parametrize(
    ("day", "working"),
    [
        (D(2021, 9, 26), True),  # Sunday, worked before National Day
        (D(2021, 9, 30), True),
        *[(D(2021, 10, d), False) for d in range(1, 8)],  # National Day week
        (D(2021, 10, 8), True),
        (D(2021, 10, 9), True),  # Saturday, worked
        (D(2021, 10, 10), False),
        (D(2026, 2, 14), True),  # Saturday before the 2026 Spring Festival, worked
        *[(D(2026, 2, d), False) for d in range(15, 24)],  # Spring Festival 2026: Feb 15-23
        (D(2026, 2, 24), True),
        (D(2026, 2, 28), True),  # Saturday, worked
        (D(2026, 1, 4), True),  # Sunday after New Year 2026, worked
        (D(2026, 5, 5), False),  # Labour Day 2026: May 1-5
        (D(2026, 5, 9), True),
        (D(2026, 10, 10), True),
        (D(2024, 2, 29), True),  # an ordinary Thursday
        (D(2024, 3, 2), False),  # an ordinary Saturday
    ],
)
def test_working_days(day, working):
    assert calendar.is_working_day(day) is working


def test_years_missing_from_the_file_count_monday_to_friday():
    assert 2031 not in calendar.covered_years()
    assert calendar.is_working_day(D(2031, 10, 1))  # a Wednesday; no notice for 2031 yet
    assert not calendar.is_working_day(D(2031, 10, 4))
    assert calendar.missing_years([2021, 2026, 2031]) == [2031]


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        # From Wednesday 2021-09-29: Sep 30 (1), Oct 8 (2), Oct 9 Sat worked (3), Oct 11-14 (4-7).
        (D(2021, 9, 29), 7, D(2021, 10, 14)),
        (D(2021, 9, 29), 1, D(2021, 9, 30)),
        (D(2021, 9, 29), 2, D(2021, 10, 8)),
        (D(2021, 9, 29), 3, D(2021, 10, 9)),
        (D(2021, 9, 30), 1, D(2021, 10, 8)),
        (D(2021, 10, 3), 1, D(2021, 10, 8)),  # started on a holiday
        # Friday 2026-02-13: Sat Feb 14 worked (1), then the festival, Feb 24 (2) ... Feb 27 (5), Sat Feb 28 (6).
        (D(2026, 2, 13), 1, D(2026, 2, 14)),
        (D(2026, 2, 13), 2, D(2026, 2, 24)),
        (D(2026, 2, 13), 6, D(2026, 2, 28)),
        (D(2026, 2, 13), 7, D(2026, 3, 2)),
        (D(2026, 2, 13), 0, D(2026, 2, 13)),
        (D(2021, 10, 14), -7, D(2021, 9, 29)),
        (D(2021, 10, 8), -1, D(2021, 9, 30)),
        (D(2026, 2, 24), -1, D(2026, 2, 14)),
        (D(2026, 3, 1), -1, D(2026, 2, 28)),
    ],
)
def test_add_working_days(start, n, expected):
    assert calendar.add_working_days(start, n) == expected


def test_working_days_between():
    assert calendar.working_days_between(D(2021, 9, 29), D(2021, 10, 14)) == 7
    assert calendar.working_days_between(D(2021, 10, 1), D(2021, 10, 7)) == 0
    assert calendar.working_days_between(D(2021, 9, 30), D(2021, 10, 8)) == 1
    assert calendar.working_days_between(D(2021, 10, 14), D(2021, 9, 29)) == -7
    assert calendar.working_days_between(D(2026, 2, 13), D(2026, 2, 28)) == 6
    # The table agrees with counting day by day from the rule.
    data = calendar.data()
    days = [D(2021, 1, 1) + dt.timedelta(days=i) for i in range(365)]
    by_rule = sum(d in data.makeup_workdays or (d.weekday() < 5 and d not in data.holidays) for d in days)
    assert calendar.working_days_between(D(2020, 12, 31), D(2021, 12, 31)) == by_rule


def test_deadline_is_the_end_of_the_nth_working_day_after_the_start_day():
    # Accepted on 2021-09-29 at 16:30, 7 working days: ends at the end of 2021-10-14.
    assert calendar.deadline_for(at(2021, 9, 29, 16, 30), 7) == dt.datetime(2021, 10, 14, 23, 59, 59, 999999, tzinfo=TZ)
    # The start day is not counted even when it is a working day and starts at midnight.
    assert calendar.deadline_for(at(2026, 2, 13), 1).date() == D(2026, 2, 14)
    # Time zones: 2021-09-29 20:00 UTC is already Sep 30 in Shanghai.
    utc = dt.datetime(2021, 9, 29, 20, 0, tzinfo=dt.UTC)
    assert calendar.deadline_for(utc, 1).date() == D(2021, 10, 8)
    with pytest.raises(ValueError, match="negative"):
        calendar.deadline_for(utc, -1)
    with pytest.raises(ValueError, match="naive"):
        calendar.deadline_for(dt.datetime(2021, 9, 29, 10), 1)


def test_working_time():
    day = dt.timedelta(days=1)
    # Sep 30 noon to Oct 8 noon: half of Sep 30, the holidays nothing, half of Oct 8.
    assert calendar.working_time_between(at(2021, 9, 30, 12), at(2021, 10, 8, 12)) == day
    assert calendar.working_time_between(at(2021, 10, 2, 9), at(2021, 10, 3, 9)) == dt.timedelta(0)
    assert calendar.working_time_between(at(2021, 10, 8, 12), at(2021, 9, 30, 12)) == -day
    assert calendar.working_time_between(at(2021, 10, 8, 10), at(2021, 10, 8, 16)) == dt.timedelta(hours=6)
    # 80% of 7 working days from the day after 2021-09-29: 5.6 days -> 14:24 on the 6th working day (Oct 13).
    base = calendar.start_of_next_day(at(2021, 9, 29, 16, 30))
    assert calendar.add_working_time(base, 7 * day * 8 / 10) == at(2021, 10, 13, 14, 24)
    assert calendar.add_working_time(base, 7 * day) == at(2021, 10, 15)
    assert calendar.add_working_time(at(2021, 10, 8, 12), -day) == at(2021, 9, 30, 12)
    assert calendar.add_working_time(at(2021, 10, 3, 12), dt.timedelta(hours=1)) == at(2021, 10, 8, 1)


def test_calendar_file_errors_name_the_line(tmp_path):
    path = tmp_path / "cn.yaml"
    path.write_text(
        "years:\n  2030:\n    holidays:\n      2030-01-01: 元旦\n    makeup_workdays:\n      2030-01-02: 元旦\n",
        encoding="utf-8",
    )
    with pytest.raises(CatalogError) as error:
        calendar.load(path)
    assert error.value.line == 6
    assert "weekday" in error.value.message
    path.write_text("years:\n  2030:\n    holidays:\n      2031-01-01: 元旦\n", encoding="utf-8")
    with pytest.raises(CatalogError) as error:
        calendar.load(path)
    assert error.value.line == 4
    assert "under year 2030" in error.value.message


def test_the_shipped_file_loads_every_year_since_2010():
    data = calendar.load()
    assert set(range(2010, 2027)) <= data.years
    assert D(2021, 10, 1) in data.holidays
    assert D(2021, 10, 9) in data.makeup_workdays


def test_check_warns_when_this_year_is_missing_and_the_deploy_check_informs_for_next_year(monkeypatch):
    from django.core import checks
    from django.utils import timezone

    from pingan.core.checks import calendar_next_year_check, calendar_years_check

    monkeypatch.setattr(timezone, "now", lambda: at(2025, 6, 1))
    assert calendar_years_check() == []
    assert calendar_next_year_check() == []
    monkeypatch.setattr(timezone, "now", lambda: at(2026, 11, 27))
    assert calendar_years_check() == []
    [info] = calendar_next_year_check()
    assert (info.id, info.level) == ("pingan.I013", checks.INFO)
    assert "2027" in info.msg
    monkeypatch.setattr(timezone, "now", lambda: at(2030, 1, 2))
    [warning] = calendar_years_check()
    assert (warning.id, warning.level) == ("pingan.W013", checks.WARNING)
    assert "2030" in warning.msg
    assert "2031" in calendar_next_year_check()[0].msg


dates = st.dates(min_value=D(2005, 1, 1), max_value=D(2035, 12, 31))


@given(dates, st.integers(min_value=-400, max_value=400))
def test_add_then_count_round_trips(day, n):
    later = calendar.add_working_days(day, n)
    assert calendar.working_days_between(day, later) == n
    if n:
        assert calendar.is_working_day(later)
        assert (later > day) == (n > 0)


@given(dates, dates)
def test_count_then_add_lands_on_the_last_working_day_up_to_b(a, b):
    n = calendar.working_days_between(a, b)
    landed = calendar.add_working_days(a, n)
    if n > 0:
        assert landed <= b
        assert calendar.working_days_between(landed, b) == 0  # no working day after it up to b
    elif n < 0:
        assert b <= landed < a
        assert calendar.working_days_between(landed, b) == 0  # no working day before it down to b
    else:
        assert landed == a


@given(
    st.datetimes(min_value=dt.datetime(2008, 1, 1), max_value=dt.datetime(2032, 1, 1), timezones=st.just(TZ)),
    st.timedeltas(min_value=dt.timedelta(days=-300), max_value=dt.timedelta(days=300)),
)
def test_working_time_round_trips(start, amount):
    end = calendar.add_working_time(start, amount)
    assert calendar.working_time_between(start, end) == amount
    assert (end >= start) == (amount >= dt.timedelta(0))
