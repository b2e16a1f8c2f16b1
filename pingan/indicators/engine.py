"""Computing indicators: a value for any unit and period, its 同比 (same period last year)
and 环比 (previous period) changes, and the ranking of sibling units.

    result = compute(indicator, org=jinan, period=parse("2021"))
    result.value, result.year_change.percent, result.period_change.absolute
    ranking(indicator, parent=province, period=parse("2021"))  # [(unit, value, rank), ...]

Values are exact ``Decimal``s (rounded only for display, see ``formatting``). A value that
cannot be computed — no census population for a per-100,000 figure, a zero denominator —
is ``None`` with a reason, never an exception and never an invented number.

The engine does not check who asks: callers first narrow the unit to the user's
jurisdiction (``queries.unit_for``). Pass one :class:`QueryCache` to several calls (as the
page does) and each registered query runs once per unit, window and grouping.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal, NamedTuple

from django.utils.translation import gettext_lazy as _

from pingan.core import registry
from pingan.indicators.declarations import Indicator, Kind, Unit
from pingan.indicators.periods import BEGINNING, Period
from pingan.indicators.queries import Number, children_of
from pingan.orgs.models import OrgUnit

HUNDRED = Decimal(100)
HUNDRED_THOUSAND = Decimal(100_000)

MISSING_REASONS = {
    "no_population": _("该单位没有人口普查数据"),
    "zero_denominator": _("分母为零"),
}


@dataclass(frozen=True)
class Figure:
    """An indicator's value for one unit and period, with what it was computed from."""

    value: Decimal | None
    numerator: Decimal
    denominator: Decimal | None = None  # the population for per-100,000 figures
    missing: str = ""  # why ``value`` is None: a key of MISSING_REASONS

    @property
    def available(self) -> bool:
        return self.value is not None

    @property
    def missing_reason(self) -> str:
        return str(MISSING_REASONS[self.missing]) if self.missing else ""


@dataclass(frozen=True)
class Change:
    """How a value moved against a base period: absolute, percent (of the base) and whether
    that is good news (``higher_is_better``). All None when either value is not available;
    ``percent`` is None when the base is zero."""

    absolute: Decimal | None = None
    percent: Decimal | None = None
    direction: Literal["up", "down", "flat"] | None = None
    good: bool | None = None

    @classmethod
    def between(cls, current: Figure, base: Figure, *, higher_is_better: bool) -> Change:
        if current.value is None or base.value is None:
            return cls()
        absolute = current.value - base.value
        percent = absolute * HUNDRED / base.value if base.value != 0 else None
        if absolute == 0:
            return cls(absolute, percent, "flat", None)
        direction: Literal["up", "down"] = "up" if absolute > 0 else "down"
        return cls(absolute, percent, direction, (direction == "up") == higher_is_better)


@dataclass(frozen=True)
class Result:
    indicator: Indicator
    org: OrgUnit
    period: Period
    current: Figure
    previous_period: Period
    previous: Figure
    period_change: Change  # 环比
    last_year_period: Period
    last_year: Figure
    year_change: Change  # 同比

    @property
    def value(self) -> Decimal | None:
        return self.current.value

    @property
    def numerator(self) -> Decimal:
        return self.current.numerator

    @property
    def denominator(self) -> Decimal | None:
        return self.current.denominator


class RankedUnit(NamedTuple):
    unit: OrgUnit
    value: Decimal | None  # None: not available (ranked last, without a rank)
    rank: int | None


@dataclass
class QueryCache:
    """Results of registered queries, by (query, unit, window, grouping)."""

    results: dict[tuple[str, str, dt.datetime, dt.datetime, int | None], Mapping[str, Number]] = field(
        default_factory=dict
    )

    def run(
        self, name: str, *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
    ) -> Mapping[str, Number]:
        key = (name, under.path, start, end, group_by_depth)
        if key not in self.results:
            query = registry.indicator_queries.get(name)
            self.results[key] = query(under=under, start=start, end=end, group_by_depth=group_by_depth)
        return self.results[key]


def window(indicator: Indicator, period: Period) -> tuple[dt.datetime, dt.datetime]:
    """What a query counts: a flow, what happened in the period; a stock, everything that
    had come about by the period's end."""
    start = BEGINNING if indicator.kind == Kind.STOCK else period.start
    return start, period.end


def _decimal(value: Number | float | None) -> Decimal:
    if value is None:
        return Decimal(0)
    if isinstance(value, Decimal):
        return value
    if isinstance(value, float):  # e.g. an Avg on SQLite; str() keeps what the database meant
        return Decimal(str(value))
    return Decimal(value)


def figure(
    indicator: Indicator, *, numerator: Number | None, denominator: Number | None, population: int | None
) -> Figure:
    """The value from its parts, by the indicator's unit (hand-checkable arithmetic)."""
    top = _decimal(numerator)
    unit = indicator.unit
    if unit == Unit.PER_100K:
        if not population:
            return Figure(None, top, None, "no_population")
        people = Decimal(population)
        return Figure(top * HUNDRED_THOUSAND / people, top, people)
    if indicator.denominator is None:  # count, and days as a total
        return Figure(top, top)
    bottom = _decimal(denominator)
    if bottom == 0:
        return Figure(None, top, bottom, "zero_denominator")
    factor = HUNDRED if unit == Unit.PERCENT else Decimal(1)
    return Figure(top * factor / bottom, top, bottom)


def _figures_for(
    indicator: Indicator, *, under: OrgUnit, period: Period, units: list[OrgUnit], depth: int | None, cache: QueryCache
) -> dict[str, Figure]:
    start, end = window(indicator, period)
    numerators = cache.run(indicator.numerator, under=under, start=start, end=end, group_by_depth=depth)
    denominators: Mapping[str, Number] = {}
    if indicator.denominator is not None:
        denominators = cache.run(indicator.denominator, under=under, start=start, end=end, group_by_depth=depth)
    return {
        unit.path: figure(
            indicator,
            numerator=numerators.get(unit.path, 0),
            denominator=denominators.get(unit.path, 0),
            population=unit.population,
        )
        for unit in units
    }


def figure_for(indicator: Indicator, *, org: OrgUnit, period: Period, cache: QueryCache | None = None) -> Figure:
    cache = cache if cache is not None else QueryCache()
    return _figures_for(indicator, under=org, period=period, units=[org], depth=None, cache=cache)[org.path]


def compute(indicator: Indicator, *, org: OrgUnit, period: Period, cache: QueryCache | None = None) -> Result:
    """The indicator for ``org``'s whole subtree in ``period``, with 同比 and 环比."""
    cache = cache if cache is not None else QueryCache()
    previous_period, last_year_period = period.previous(), period.same_period_last_year()
    current = figure_for(indicator, org=org, period=period, cache=cache)
    previous = figure_for(indicator, org=org, period=previous_period, cache=cache)
    last_year = figure_for(indicator, org=org, period=last_year_period, cache=cache)
    better = indicator.higher_is_better
    return Result(
        indicator=indicator,
        org=org,
        period=period,
        current=current,
        previous_period=previous_period,
        previous=previous,
        period_change=Change.between(current, previous, higher_is_better=better),
        last_year_period=last_year_period,
        last_year=last_year,
        year_change=Change.between(current, last_year, higher_is_better=better),
    )


def rank(values: Iterable[tuple[OrgUnit, Decimal | None]], *, higher_is_better: bool) -> list[RankedUnit]:
    """Best first; equal values share a rank and the next rank skips (1, 2, 2, 4); units
    without a value come last, unranked, in tree order."""
    pairs = list(values)
    known = [(unit, value) for unit, value in pairs if value is not None]
    known.sort(key=lambda pair: pair[1], reverse=higher_is_better)  # stable: ties keep tree order
    ranked: list[RankedUnit] = []
    for position, (unit, value) in enumerate(known, start=1):
        same = ranked and ranked[-1].value == value
        ranked.append(RankedUnit(unit, value, ranked[-1].rank if same else position))
    ranked += [RankedUnit(unit, None, None) for unit, value in pairs if value is None]
    return ranked


def ranking(
    indicator: Indicator,
    *,
    parent: OrgUnit,
    period: Period,
    cache: QueryCache | None = None,
    children: list[OrgUnit] | None = None,
) -> list[RankedUnit]:
    """The children of ``parent`` (or the given ``children`` of it) ranked by the indicator
    in ``period``: one grouped query per registered query, however many children."""
    cache = cache if cache is not None else QueryCache()
    children = children_of(parent) if children is None else children
    if not children:
        return []
    figures = _figures_for(indicator, under=parent, period=period, units=children, depth=parent.depth + 1, cache=cache)
    return rank(((child, figures[child.path].value) for child in children), higher_is_better=indicator.higher_is_better)


def compute_all(
    indicators: Iterable[Indicator], *, org: OrgUnit, period: Period, cache: QueryCache | None = None
) -> list[Result]:
    cache = cache if cache is not None else QueryCache()
    return [compute(indicator, org=org, period=period, cache=cache) for indicator in indicators]
