"""Showing indicator figures: the only place values are rounded (the engine keeps them exact)."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.utils.translation import get_language
from django.utils.translation import gettext as _

from pingan.indicators.declarations import Unit
from pingan.indicators.engine import Change, Figure, RankedUnit, Result

PLACES = {Unit.COUNT: 0, Unit.PERCENT: 1, Unit.PER_100K: 1, Unit.RATIO: 2, Unit.DAYS: 1}
NOT_AVAILABLE = "—"
ARROWS = {"up": "↑", "down": "↓", "flat": "→"}


def rounded(value: Decimal, places: int) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)


def number_text(value: Decimal, places: int, *, signed: bool = False) -> str:
    if places == 0 and value != value.to_integral_value():
        places = 2  # a count that is not whole (an average of counts) keeps its fraction
    text = f"{rounded(value, places):{'+' if signed else ''},.{places}f}"
    return text.replace("-", "−")  # a true minus sign: clearer beside a plus


def value_text(value: Decimal | None, unit: Unit) -> str:
    if value is None:
        return NOT_AVAILABLE
    text = number_text(value, PLACES[unit])
    return f"{text}%" if unit == Unit.PERCENT else text


def unit_text(unit: Unit) -> str:
    return {
        Unit.COUNT: "",
        Unit.PERCENT: "%",
        Unit.PER_100K: _("每十万人"),
        Unit.RATIO: _("比值"),
        Unit.DAYS: _("天"),
    }[unit]


def change_text(change: Change, unit: Unit) -> str:
    """``↑ +134 (+12.2%)``; a percent unit changes by percentage points, so it shows those."""
    if change.absolute is None or change.direction is None:
        return NOT_AVAILABLE
    places = PLACES[unit]
    if change.direction == "flat":
        return f"{ARROWS['flat']} 0"
    absolute = number_text(change.absolute, places, signed=True)
    if unit == Unit.PERCENT:
        absolute = _("%(points)s 个百分点") % {"points": absolute}
    percent = f" ({number_text(change.percent, 1, signed=True)}%)" if change.percent is not None else ""
    return f"{ARROWS[change.direction]} {absolute}{percent}"


def change_class(change: Change) -> str:
    """CSS class: good and bad news by the indicator's ``higher_is_better``."""
    if change.direction is None:
        return "change-none"
    if change.good is None:
        return "change-flat"
    return "change-good" if change.good else "change-bad"


def _exact(value: Decimal | None) -> str | None:
    return None if value is None else str(value)


def figure_json(figure: Figure) -> dict[str, Any]:
    return {
        "value": _exact(figure.value),
        "numerator": _exact(figure.numerator),
        "denominator": _exact(figure.denominator),
        "missing": figure.missing or None,
    }


def change_json(change: Change) -> dict[str, Any]:
    return {
        "absolute": _exact(change.absolute),
        "percent": _exact(change.percent),
        "direction": change.direction,
        "good": change.good,
    }


def result_json(result: Result, ranking: list[RankedUnit] | None = None) -> dict[str, Any]:
    """Exact values as strings (JSON numbers would round them)."""
    indicator = result.indicator
    data: dict[str, Any] = {
        "code": indicator.code,
        "name": indicator.name,
        "unit": indicator.unit.value,
        "kind": indicator.kind.value,
        "higher_is_better": indicator.higher_is_better,
        **figure_json(result.current),
        "previous": {"period": result.previous_period.iso, **figure_json(result.previous)},
        "period_change": change_json(result.period_change),
        "last_year": {"period": result.last_year_period.iso, **figure_json(result.last_year)},
        "year_change": change_json(result.year_change),
    }
    if ranking is not None:
        data["ranking"] = [
            {"code": unit.code, "name": unit_name(unit), "value": _exact(value), "rank": position}
            for unit, value, position in ranking
        ]
    return data


def unit_name(unit: Any) -> str:
    """An org unit's name in the active language (English where the tree has one)."""
    english = (get_language() or "").startswith("en")
    return unit.name_en if english and getattr(unit, "name_en", "") else unit.name


def report_json(
    unit: Any, period: Any, results: list[Result], rankings: dict[str, list[RankedUnit]] | None = None
) -> dict[str, Any]:
    """The whole report for one unit and period (``manage.py indicators --json``, the API)."""
    return {
        "org": {"code": unit.code, "name": unit_name(unit), "path": unit.path},
        "period": {
            "iso": period.iso,
            "label": period.label,
            "start": period.start.isoformat(),
            "end": period.end.isoformat(),
            "days": period.days,
        },
        "indicators": [
            result_json(result, rankings.get(result.indicator.code) if rankings is not None else None)
            for result in results
        ],
    }
