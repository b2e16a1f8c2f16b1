"""Engine arithmetic against hand-computed figures, with fake registered queries."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping
from decimal import Decimal

import pytest
from django.utils import translation

from pingan.core import registry
from pingan.indicators import engine, formatting
from pingan.indicators.declarations import Indicator, Kind, Unit
from pingan.indicators.periods import BEGINNING, parse
from pingan.orgs.models import OrgUnit

pytestmark = pytest.mark.django_db


def end_of(text: str) -> dt.datetime:
    return parse(text).end


class FakeQuery:
    """Stands for a registered query: ``table[end of window][unit path] -> value``.

    Like a real one it answers for ``under`` alone, or for every unit at ``group_by_depth``
    (units it has no row for are left out), and it records how it was called.
    """

    def __init__(self, table: Mapping[dt.datetime, Mapping[str, int | Decimal]]) -> None:
        self.table = table
        self.calls: list[tuple[str, dt.datetime, dt.datetime, int | None]] = []

    def __call__(
        self, *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
    ) -> dict[str, int | Decimal]:
        self.calls.append((under.path, start, end, group_by_depth))
        values = self.table.get(end, {})
        if group_by_depth is None:
            return {under.path: values.get(under.path, 0)}
        return {
            path: value
            for path, value in values.items()
            if path.startswith(under.path) and path.count("/") == group_by_depth + 1
        }


@pytest.fixture
def fakes() -> Iterator[Callable[[str, Mapping[dt.datetime, Mapping[str, int | Decimal]]], FakeQuery]]:
    """Register fake queries for one test (the registry is restored afterwards)."""
    with registry.indicator_queries.unfrozen():

        def add(name: str, table: Mapping[dt.datetime, Mapping[str, int | Decimal]]) -> FakeQuery:
            return registry.indicator_queries.register(name, FakeQuery(table))

        yield add


def indicator(
    unit: Unit = Unit.COUNT,
    *,
    numerator: str = "test.n",
    denominator: str | None = None,
    kind: Kind = Kind.FLOW,
    higher_is_better: bool = True,
) -> Indicator:
    return Indicator(
        code="test",
        name_zh="测试",
        name_en="Test",
        unit=unit,
        numerator=numerator,
        denominator=denominator,
        kind=kind,
        higher_is_better=higher_is_better,
        owner="indicators",
    )


@pytest.fixture
def province() -> OrgUnit:
    return OrgUnit.objects.get(code="37")


@pytest.fixture
def jinan() -> OrgUnit:
    return OrgUnit.objects.get(code="3701")


@pytest.fixture
def lixia() -> OrgUnit:
    return OrgUnit.objects.get(code="370102")


J, Q, Z = "37/3701/", "37/3702/", "37/3703/"


# --- Values and changes ----------------------------------------------------------------


def test_count_with_year_on_year_change(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 120}, end_of("2020"): {J: 100}})
    result = engine.compute(indicator(), org=jinan, period=parse("2021"))
    assert result.value == Decimal(120)
    assert result.numerator == Decimal(120)
    assert result.denominator is None
    assert result.last_year.value == Decimal(100)
    assert result.year_change.absolute == Decimal(20)
    assert result.year_change.percent == Decimal(20)
    assert result.year_change.direction == "up"
    assert result.year_change.good is True
    # For a year the previous period is last year.
    assert result.previous_period == result.last_year_period == parse("2020")
    assert result.period_change == result.year_change


def test_quarter_compares_with_last_quarter_and_last_years_quarter(fakes, jinan):
    fakes("test.n", {end_of("2021Q1"): {J: 90}, end_of("2020Q4"): {J: 60}, end_of("2020Q1"): {J: 100}})
    result = engine.compute(indicator(), org=jinan, period=parse("2021Q1"))
    assert result.previous_period.iso == "2020Q4"
    assert result.last_year_period.iso == "2020Q1"
    assert (result.period_change.absolute, result.period_change.percent) == (Decimal(30), Decimal(50))
    assert (result.year_change.absolute, result.year_change.percent) == (Decimal(-10), Decimal(-10))
    assert result.year_change.direction == "down"
    assert result.year_change.good is False


def test_lower_is_better_turns_good_news_around(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 8}, end_of("2020"): {J: 10}})
    result = engine.compute(indicator(higher_is_better=False), org=jinan, period=parse("2021"))
    assert result.year_change.direction == "down"
    assert result.year_change.good is True
    assert formatting.change_class(result.year_change) == "change-good"


def test_no_change_is_neither_good_nor_bad(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 5}, end_of("2020"): {J: 5}})
    change = engine.compute(indicator(), org=jinan, period=parse("2021")).year_change
    assert (change.absolute, change.percent, change.direction, change.good) == (0, 0, "flat", None)
    assert formatting.change_class(change) == "change-flat"
    assert formatting.change_text(change, Unit.COUNT) == "→ 0"


def test_growth_from_zero_has_no_percent(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 7}})
    change = engine.compute(indicator(), org=jinan, period=parse("2021")).year_change
    assert change.absolute == Decimal(7)
    assert change.percent is None
    assert change.direction == "up"


def test_percent_is_100_times_numerator_over_denominator(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 3}, end_of("2020"): {J: 1}})
    fakes("test.d", {end_of("2021"): {J: 8}, end_of("2020"): {J: 4}})
    result = engine.compute(indicator(Unit.PERCENT, denominator="test.d"), org=jinan, period=parse("2021"))
    assert result.value == Decimal("37.5")
    assert (result.numerator, result.denominator) == (Decimal(3), Decimal(8))
    assert result.last_year.value == Decimal(25)
    # 37.5% against 25%: 12.5 percentage points, a rise of half.
    assert result.year_change.absolute == Decimal("12.5")
    assert result.year_change.percent == Decimal(50)
    with translation.override("zh-hans"):
        assert formatting.value_text(result.value, Unit.PERCENT) == "37.5%"
        assert formatting.change_text(result.year_change, Unit.PERCENT) == "↑ +12.5 个百分点 (+50.0%)"


def test_zero_denominator_is_not_available_not_an_error(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 3}, end_of("2020"): {J: 0}})
    fakes("test.d", {end_of("2021"): {J: 0}})
    result = engine.compute(indicator(Unit.PERCENT, denominator="test.d"), org=jinan, period=parse("2021"))
    assert result.value is None
    assert result.current.missing == "zero_denominator"
    assert result.current.missing_reason
    assert result.numerator == Decimal(3)
    assert result.year_change == engine.Change()
    assert formatting.value_text(result.value, Unit.PERCENT) == formatting.NOT_AVAILABLE
    assert formatting.change_text(result.year_change, Unit.PERCENT) == formatting.NOT_AVAILABLE


def test_ratio_stays_exact(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 1}})
    fakes("test.d", {end_of("2021"): {J: 3}})
    result = engine.compute(indicator(Unit.RATIO, denominator="test.d"), org=jinan, period=parse("2021"))
    assert isinstance(result.value, Decimal)
    assert result.value == Decimal(1) / Decimal(3)
    assert formatting.value_text(result.value, Unit.RATIO) == "0.33"


def test_days_as_an_average_and_as_a_total(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 45}})
    fakes("test.d", {end_of("2021"): {J: 10}})
    average = engine.compute(indicator(Unit.DAYS, denominator="test.d"), org=jinan, period=parse("2021"))
    total = engine.compute(indicator(Unit.DAYS), org=jinan, period=parse("2021"))
    assert average.value == Decimal("4.5")
    assert total.value == Decimal(45)


def test_per_100k_divides_by_the_census_population(fakes, jinan):
    fakes("test.n", {end_of("2021"): {J: 4601}})
    result = engine.compute(indicator(Unit.PER_100K, kind=Kind.STOCK), org=jinan, period=parse("2021"))
    assert jinan.population == 9_202_432
    assert result.denominator == Decimal(9_202_432)
    # 4601 × 100,000 ÷ 9,202,432 = 49.99765...
    assert round(result.value, 4) == Decimal("49.9977")
    assert formatting.value_text(result.value, Unit.PER_100K) == "50.0"


def test_per_100k_without_population_says_not_available(fakes, lixia):
    fakes("test.n", {end_of("2021"): {"37/3701/370102/": 50}})
    result = engine.compute(indicator(Unit.PER_100K, kind=Kind.STOCK), org=lixia, period=parse("2021"))
    assert lixia.population is None
    assert result.value is None
    assert result.current.missing == "no_population"
    assert result.numerator == Decimal(50)


def test_values_from_the_database_as_floats_keep_their_decimal_meaning():
    figure = engine.figure(indicator(), numerator=0.1, denominator=None, population=None)  # type: ignore[arg-type]
    assert figure.value == Decimal("0.1")


# --- Windows: stocks and flows ------------------------------------------------------------


def test_a_flow_counts_the_period_a_stock_everything_up_to_its_end(fakes, jinan):
    query = fakes("test.n", {})
    engine.compute(indicator(kind=Kind.FLOW), org=jinan, period=parse("2021-07"))
    assert {(start, end) for _path, start, end, _depth in query.calls} == {
        (parse("2021-07").start, parse("2021-07").end),
        (parse("2021-06").start, parse("2021-06").end),
        (parse("2020-07").start, parse("2020-07").end),
    }
    query.calls.clear()
    engine.compute(indicator(kind=Kind.STOCK), org=jinan, period=parse("2021-07"))
    assert {start for _path, start, _end, _depth in query.calls} == {BEGINNING}
    assert {end for _path, _start, end, _depth in query.calls} == {
        parse("2021-07").end,
        parse("2021-06").end,
        parse("2020-07").end,
    }


def test_a_shared_cache_runs_each_query_once_per_window(fakes, jinan):
    query = fakes("test.n", {end_of("2021"): {J: 1}})
    cache = engine.QueryCache()
    count = indicator(kind=Kind.STOCK)
    density = indicator(Unit.PER_100K, kind=Kind.STOCK)
    engine.compute_all([count, density], org=jinan, period=parse("2021"), cache=cache)
    # 2021 and 2020 (the previous year is also last year): two windows, whatever the indicators.
    assert len(query.calls) == 2


# --- Ranking ---------------------------------------------------------------------------------


def test_ranking_best_first_with_shared_ranks_for_ties(fakes, province):
    fakes("test.n", {end_of("2021"): {J: 5, Q: 7, Z: 5, "37/3704/": 9, "37/3704/370402/": 100}})
    ranked = engine.ranking(indicator(), parent=province, period=parse("2021"))
    assert len(ranked) == 16
    top = [(entry.unit.code, entry.value, entry.rank) for entry in ranked[:4]]
    assert top == [("3704", 9, 1), ("3702", 7, 2), ("3701", 5, 3), ("3703", 5, 3)]
    # The twelve cities without rows read as zero and share the next rank after four.
    assert {entry.rank for entry in ranked[4:]} == {5}
    assert all(entry.value == 0 for entry in ranked[4:])


def test_ranking_lower_is_better(fakes, province):
    values = {f"37/{code}/": 10 for code in ["3701", "3702", "3703", "3704", "3705", "3706", "3707", "3708"]}
    values |= {f"37/{code}/": 20 for code in ["3709", "3710", "3711", "3713", "3714", "3715", "3716"]}
    values["37/3717/"] = 1
    fakes("test.n", {end_of("2021"): values})
    ranked = engine.ranking(indicator(higher_is_better=False), parent=province, period=parse("2021"))
    assert (ranked[0].unit.code, ranked[0].rank) == ("3717", 1)
    assert {entry.rank for entry in ranked[1:9]} == {2}
    assert {entry.rank for entry in ranked[9:]} == {10}


def test_ranking_puts_units_without_a_value_last_unranked(fakes, jinan):
    fakes("test.n", {end_of("2021"): {"37/3701/370102/": 40, "37/3701/370103/": 60}})
    ranked = engine.ranking(indicator(Unit.PER_100K, kind=Kind.STOCK), parent=jinan, period=parse("2021"))
    assert ranked
    assert all(entry.value is None and entry.rank is None for entry in ranked)
    codes = [entry.unit.code for entry in ranked]
    assert codes == sorted(codes)  # tree order


def test_ranking_of_cities_per_100k_uses_each_citys_population(fakes, province):
    fakes("test.n", {end_of("2021"): {J: 9_202_432 // 1000, Q: 20_143}})
    ranked = engine.ranking(indicator(Unit.PER_100K, kind=Kind.STOCK), parent=province, period=parse("2021"))
    first, second = ranked[0], ranked[1]
    # Qingdao: 20,143 × 100,000 ÷ 10,071,722 ≈ 199.996; Jinan: 9,202 × 100,000 ÷ 9,202,432 ≈ 99.995.
    assert (first.unit.code, round(first.value, 3)) == ("3702", Decimal("199.996"))
    assert (second.unit.code, round(second.value, 3)) == ("3701", Decimal("99.995"))


def test_ranking_asks_one_grouped_query_whatever_the_number_of_children(fakes, province, jinan):
    query = fakes("test.n", {})
    engine.ranking(indicator(), parent=province, period=parse("2021"))
    engine.ranking(indicator(), parent=jinan, period=parse("2021"))
    assert [(path, depth) for path, _start, _end, depth in query.calls] == [("37/", 1), ("37/3701/", 2)]


def test_ranking_of_a_unit_without_children_is_empty(fakes):
    fakes("test.n", {})
    grid = OrgUnit.objects.filter(level="grid").first()
    assert engine.ranking(indicator(), parent=grid, period=parse("2021")) == []


def test_rank_helper_handles_ties_and_gaps():
    units = list(OrgUnit.objects.filter(level="city").order_by("path")[:5])
    values = [Decimal(3), None, Decimal(3), Decimal(1), Decimal(4)]
    ranked = engine.rank(zip(units, values, strict=True), higher_is_better=True)
    assert [(entry.value, entry.rank) for entry in ranked] == [(4, 1), (3, 2), (3, 2), (1, 4), (None, None)]
    ranked = engine.rank(zip(units, values, strict=True), higher_is_better=False)
    assert [(entry.value, entry.rank) for entry in ranked] == [(1, 1), (3, 2), (3, 2), (4, 4), (None, None)]
