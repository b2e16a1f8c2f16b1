from __future__ import annotations

import datetime as dt
import itertools

import pytest
from django.utils import translation
from hypothesis import given
from hypothesis import strategies as st

from pingan.indicators.periods import (
    BEGINNING,
    FIRST_YEAR,
    MAX_YEAR,
    ZONE,
    Period,
    PeriodError,
    PeriodType,
    current,
    parse,
    parse_as,
)


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


# --- Parsing -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "kind", "first", "last"),
    [
        ("2021", PeriodType.YEAR, dt.date(2021, 1, 1), dt.date(2021, 12, 31)),
        ("2021Q1", PeriodType.QUARTER, dt.date(2021, 1, 1), dt.date(2021, 3, 31)),
        ("2021Q3", PeriodType.QUARTER, dt.date(2021, 7, 1), dt.date(2021, 9, 30)),
        ("2021q4", PeriodType.QUARTER, dt.date(2021, 10, 1), dt.date(2021, 12, 31)),
        ("2021-07", PeriodType.MONTH, dt.date(2021, 7, 1), dt.date(2021, 7, 31)),
        ("2024-02", PeriodType.MONTH, dt.date(2024, 2, 1), dt.date(2024, 2, 29)),
        ("2023-02", PeriodType.MONTH, dt.date(2023, 2, 1), dt.date(2023, 2, 28)),
        ("2021-07-15", PeriodType.DAY, dt.date(2021, 7, 15), dt.date(2021, 7, 15)),
        ("  2021-07-15 ", PeriodType.DAY, dt.date(2021, 7, 15), dt.date(2021, 7, 15)),
    ],
)
def test_parse_accepts_the_four_forms(text, kind, first, last):
    period = parse(text)
    assert period.type == kind
    assert period.first_day == first
    assert period.last_day == last


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2021Q5", "季度应为 1 至 4"),
        ("2021Q0", "季度应为 1 至 4"),
        ("2021-13", "月份应为 01 至 12"),
        ("2021-00", "月份应为 01 至 12"),
        ("2021-13-01", "月份应为 01 至 12"),
        ("2021-02-29", "日期无效"),
        ("2021-04-31", "日期无效"),
        ("21", "无法识别的期间"),
        ("2021/07", "无法识别的期间"),
        ("2021-7", "无法识别的期间"),
        ("二〇二一", "无法识别的期间"),
        ("", "无法识别的期间"),
        ("1900", "年份应在 1901 至 9998 之间"),
        ("9999-01", "年份应在 1901 至 9998 之间"),
    ],
)
def test_parse_refuses_anything_else_with_a_clear_message(text, message):
    with pytest.raises(PeriodError, match=message):
        parse(text)


def test_error_message_follows_the_language():
    with translation.override("en"), pytest.raises(PeriodError) as error:
        parse("2021Q5")
    # The msgid is Chinese; English comes from the catalogue the lead maintains.
    assert str(error.value)


# --- Intervals -------------------------------------------------------------------------


def test_start_and_end_are_aware_midnights_in_china():
    period = parse("2021Q3")
    assert period.start == dt.datetime(2021, 7, 1, tzinfo=ZONE)
    assert period.end == dt.datetime(2021, 10, 1, tzinfo=ZONE)
    assert period.start.utcoffset() == dt.timedelta(hours=8)
    assert period.start.astimezone(dt.UTC) == dt.datetime(2021, 6, 30, 16, tzinfo=dt.UTC)


@pytest.mark.parametrize(
    ("text", "days"),
    [("2020", 366), ("2021", 365), ("2000", 366), ("1999", 365), ("2024Q1", 91), ("2023Q1", 90), ("2021Q3", 92)],
)
def test_days_count_leap_years(text, days):
    assert parse(text).days == days


def test_century_years_are_leap_only_every_400_years():
    assert parse("2100-02").days == 28
    assert parse("2000-02").days == 29


def test_membership_is_half_open():
    period = parse("2021-07")
    assert dt.date(2021, 7, 31) in period
    assert dt.date(2021, 8, 1) not in period
    assert dt.datetime(2021, 7, 31, 23, 59, 59, tzinfo=ZONE) in period
    assert dt.datetime(2021, 8, 1, 0, 0, tzinfo=ZONE) not in period
    # Midnight in Beijing is 16:00 UTC the day before.
    assert dt.datetime(2021, 6, 30, 16, 0, tzinfo=dt.UTC) in period


def test_beginning_is_before_every_period_a_user_can_name():
    assert parse(str(FIRST_YEAR)).same_period_last_year().start == BEGINNING


# --- Neighbours: 环比 and 同比 ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "previous", "last_year"),
    [
        ("2021", "2020", "2020"),
        ("2021Q1", "2020Q4", "2020Q1"),
        ("2021Q3", "2021Q2", "2020Q3"),
        ("2021-01", "2020-12", "2020-01"),
        ("2021-03", "2021-02", "2020-03"),
        ("2021-01-01", "2020-12-31", "2020-01-01"),
        ("2021-03-01", "2021-02-28", "2020-03-01"),
        ("2020-03-01", "2020-02-29", "2019-03-01"),
        ("2024-02-29", "2024-02-28", "2023-02-28"),
    ],
)
def test_previous_and_same_period_last_year(text, previous, last_year):
    period = parse(text)
    assert period.previous().iso == previous
    assert period.same_period_last_year().iso == last_year


def test_quarter_boundaries():
    q4 = parse("2021Q4")
    assert q4.next().iso == "2022Q1"
    assert q4.next().start == q4.end
    assert [parse(f"2021Q{q}").first_day.month for q in range(1, 5)] == [1, 4, 7, 10]
    assert sum(parse(f"2020Q{q}").days for q in range(1, 5)) == 366


# --- Labels -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label"),
    [("2021", "2021年"), ("2021Q3", "2021年第3季度"), ("2021-07", "2021年7月"), ("2021-07-15", "2021年7月15日")],
)
def test_chinese_labels(text, label):
    assert parse(text).label == label
    assert parse(text).iso == text
    assert str(parse(text)) == text


# --- Conversions (the page's type picker) ----------------------------------------------


def test_parse_as_converts_to_the_type_asked_for():
    assert parse_as("2021", PeriodType.QUARTER).iso == "2021Q4"
    assert parse_as("2021", "month").iso == "2021-12"
    assert parse_as("2021-07-15", PeriodType.QUARTER).iso == "2021Q3"
    assert parse_as("2021Q3", "year").iso == "2021"
    assert parse_as("2021Q3", "day").iso == "2021-09-30"
    assert parse_as("2021-07", "month").iso == "2021-07"


def test_current_period_contains_today():
    assert current("quarter", today=dt.date(2021, 8, 3)).iso == "2021Q3"
    assert current(PeriodType.YEAR).first_day.year == dt.datetime.now(ZONE).year


def test_a_period_must_start_on_its_first_day():
    with pytest.raises(ValueError, match="not the first day"):
        Period(PeriodType.MONTH, dt.date(2021, 7, 2))


# --- Properties ----------------------------------------------------------------------------

days = st.dates(min_value=dt.date(FIRST_YEAR, 1, 1), max_value=dt.date(MAX_YEAR, 12, 31))
kinds = st.sampled_from(list(PeriodType))


@given(kinds, days)
def test_iso_label_parses_back_to_the_same_period(kind, day):
    period = Period.containing(kind, day)
    assert parse(period.iso) == period


@given(kinds, days)
def test_a_period_contains_the_day_it_was_built_from(kind, day):
    period = Period.containing(kind, day)
    assert period.first_day <= day <= period.last_day
    assert day in period
    assert period.days == (period.last_day - period.first_day).days + 1
    assert period.start.date() == period.first_day
    assert period.end.date() == period.last_day + dt.timedelta(days=1)


@given(kinds, days.filter(lambda day: day.year > FIRST_YEAR))
def test_previous_is_adjacent_and_of_the_same_type(kind, day):
    period = Period.containing(kind, day)
    previous = period.previous()
    assert previous.type == period.type
    assert previous.end == period.start
    assert previous.last_day + dt.timedelta(days=1) == period.first_day
    assert previous.next() == period


@given(kinds, days.filter(lambda day: day.year > FIRST_YEAR))
def test_same_period_last_year_is_one_year_back(kind, day):
    period = Period.containing(kind, day)
    last_year = period.same_period_last_year()
    assert last_year.type == period.type
    assert last_year.first_day.year == period.first_day.year - 1
    assert last_year.first_day.month == period.first_day.month
    if kind != PeriodType.DAY:
        assert last_year.first_day.day == 1
    elif not (day.month == 2 and day.day == 29):
        assert last_year.first_day.day == day.day
    else:
        assert last_year.first_day == dt.date(day.year - 1, 2, 28)


@given(st.integers(min_value=FIRST_YEAR, max_value=MAX_YEAR))
def test_a_year_is_its_quarters_and_its_months(year):
    whole = Period.year(year)
    quarters = [Period.quarter(year, number) for number in range(1, 5)]
    months = [Period.month(year, number) for number in range(1, 13)]
    assert sum(part.days for part in quarters) == sum(part.days for part in months) == whole.days
    assert quarters[0].start == months[0].start == whole.start
    assert quarters[-1].end == months[-1].end == whole.end
    for earlier, later in itertools.pairwise(months):
        assert earlier.end == later.start


@given(st.text(max_size=12))
def test_parse_either_succeeds_or_raises_period_error(text):
    outcome = parse_or_error(text)
    if isinstance(outcome, PeriodError):
        assert str(outcome)  # a message for the user, never an empty one
    else:
        assert outcome.iso == text.strip().upper()


def parse_or_error(text: str) -> Period | PeriodError:
    try:
        return parse(text)
    except PeriodError as error:
        return error
