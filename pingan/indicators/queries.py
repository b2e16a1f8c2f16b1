"""Reads for indicators.

Two kinds live here:

- building blocks for the *registered indicator queries* other apps write
  (:func:`aggregate_by_unit`, :func:`unit_key`): one grouped SQL statement answers
  "every city at once" — never one query per unit;
- the units a user may look at (:func:`units_for`, :func:`unit_for`). Indicator values are
  aggregates over the whole subtree of a unit, so what is scoped is *which unit* a user
  may ask about: only units inside their jurisdiction.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from decimal import Decimal
from typing import Any, Protocol

from django.db.models import Aggregate, Count, Expression, F, QuerySet, Sum, Value
from django.db.models.functions import Left, StrIndex, Substr

from pingan.core import access
from pingan.indicators.periods import ZONE
from pingan.orgs import queries as orgs
from pingan.orgs.models import OrgUnit

Number = Decimal | int


class IndicatorQuery(Protocol):
    """What ``registry.indicator_queries`` holds: figures for the rows in ``[start, end)``
    under ``under``, per unit path at ``group_by_depth`` (``{under.path: value}`` if None)."""

    def __call__(
        self, *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
    ) -> Mapping[str, Number]: ...


def unit_key(path_field: str, *, under: OrgUnit, depth: int) -> Expression:
    """SQL: the path of the ancestor at ``depth`` of each row's unit (``path_field`` names
    that unit's materialised path, e.g. ``"org__path"``); rows must lie under ``under``.

    The path after ``under.path`` is cut after as many ``/`` as levels lie between, so
    departments (whose codes are longer) and any code length work alike. A row whose unit
    is shallower than ``depth`` gets a shorter path, which matches no unit at ``depth``.
    """
    levels = depth - under.depth
    if levels < 1:
        raise ValueError(f"depth {depth} is not below {under.path} (depth {under.depth})")
    path = F(path_field)
    cut: Any = Value(len(under.path))
    for _level in range(levels):
        cut = cut + StrIndex(Substr(path, cut + 1), Value("/"))
    return Left(path, cut)


def additive(value: Aggregate) -> bool:
    """Can per-unit results be summed into their ancestors'? (Counts and sums can; a
    distinct count cannot: one person posted at two stations of a county is one person.)"""
    return isinstance(value, Count | Sum) and not getattr(value, "distinct", False)


def ancestor_path(path: str, depth: int) -> str | None:
    """The path of ``path``'s ancestor at ``depth`` (``None`` if ``path`` is shallower)."""
    parts = path.split("/")
    return "/".join(parts[: depth + 1]) + "/" if len(parts) > depth + 1 else None


def aggregate_by_unit(
    queryset: QuerySet,
    *,
    path_field: str,
    under: OrgUnit,
    group_by_depth: int | None,
    value: Aggregate,
) -> dict[str, Number]:
    """``value`` over the rows of ``queryset`` under ``under``: for ``under`` itself, or for
    each unit at ``group_by_depth`` (units with no rows are absent: read them as zero).

    One SQL statement either way. Grouped counts and sums are taken per unit the rows sit
    at (the database walks the path index in order, no sort) and rolled up to the units at
    ``group_by_depth`` here — at most one row per unit of the subtree comes back. Other
    aggregates (distinct counts, averages) group by each row's ancestor in SQL (:func:`unit_key`).
    """
    rows = queryset.filter(**{f"{path_field}__under": under.path}).order_by()
    if group_by_depth is None:
        if under.depth == 0 and path_field.endswith("__path"):
            # Everything is under the root: no join to the units, so the database counts
            # straight through its own indexes (several times faster at 10^5-10^6 rows).
            rows = queryset.filter(**{f"{path_field.removesuffix('__path')}__isnull": False}).order_by()
        total = rows.aggregate(value=value)["value"]
        return {under.path: total or 0}
    if group_by_depth <= under.depth:
        raise ValueError(f"depth {group_by_depth} is not below {under.path} (depth {under.depth})")
    if additive(value):
        result: dict[str, Number] = {}
        for path, total in rows.values(path_field).annotate(value=value).values_list(path_field, "value"):
            key = ancestor_path(path, group_by_depth)
            if key is not None and total:
                result[key] = result.get(key, 0) + total
        return result
    key_expression = unit_key(path_field, under=under, depth=group_by_depth)
    grouped = (
        rows.annotate(unit_path=key_expression)
        .values("unit_path")
        .annotate(value=value)
        .values_list("unit_path", "value")
    )
    slashes = group_by_depth + 1
    return {path: total or 0 for path, total in grouped if path.count("/") == slashes}


def local_date(moment: dt.datetime) -> dt.date:
    """The China Standard Time calendar date of an aware moment (for DateField filters)."""
    return moment.astimezone(ZONE).date()


# --- Which units a user may look at ----------------------------------------------------


def jurisdiction_roots_for(user: Any) -> list[OrgUnit]:
    """The top units of the user's jurisdiction (one per post subtree; the province for
    a provincial administrator), in tree order. Empty for anyone but staff with posts."""
    if access.user_kind(user) != "staff":
        return []
    if access.is_everywhere(user):
        return [orgs.root()]
    paths = access.jurisdiction_paths(user)
    return list(orgs.units().filter(path__in=paths).order_by("path"))


def unit_for(user: Any, code: str) -> OrgUnit:
    """The unit ``code`` if the user may see its indicators; ``OrgUnit.DoesNotExist`` both
    when it does not exist and when it is outside the jurisdiction (no difference shown)."""
    unit = orgs.units().filter(code=code).first()
    if unit is None or not may_view(user, unit):
        raise OrgUnit.DoesNotExist(code)
    return unit


def may_view(user: Any, unit: OrgUnit) -> bool:
    if access.user_kind(user) != "staff":
        return False
    if access.is_everywhere(user):
        return True
    return any(unit.path.startswith(root) for root in access.jurisdiction_paths(user))


def children_of(unit: OrgUnit) -> list[OrgUnit]:
    """The sibling units ranked under ``unit`` (departments sit beside the tree: not ranked)."""
    return list(orgs.children(unit).order_by("path"))
