"""Indicator queries of 团圆 (declared in ``catalog/indicators/reunion_*.yaml``), by the
unit handling the missing person's record:

- ``reunion.families_reunited``: reunions recorded in the period (a missing record and a
  found or seeker record resolved together: one family reunited);
- ``reunion.people_found``: missing people found in the period — every reunion, plus
  missing records closed because the family found the person themselves (已自行找到). The
  province's 2021 figures had this shape: 446 people found, 192 families reunited;
- ``reunion.median_days_weighted``: the median number of days from the report to the
  reunion, times the number of reunions — the declaration divides it by
  ``families_reunited``, so the figure is the median and a unit without reunions shows
  "not available" instead of 0 days. A median, not a mean: a 24-year-old case would swamp
  a mean of cases found within days.

Alerts published and their found rate are the alerts app's indicators (``alerts_*``).
"""

from __future__ import annotations

import datetime as dt
import statistics
from decimal import Decimal

from django.db.models import Count

from pingan.core import registry
from pingan.indicators.queries import Number, aggregate_by_unit, ancestor_path
from pingan.orgs.models import OrgUnit
from pingan.reunion.models import CloseCode, Kind, PersonRecord, Reunion


def families_reunited(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Reunions recorded in ``[start, end)``."""
    rows = Reunion.objects.filter(reunited_at__gte=start, reunited_at__lt=end)
    return aggregate_by_unit(
        rows, path_field="org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def people_found(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Missing people found in ``[start, end)``: reunions, and missing records closed as
    found by the family."""
    reunited = families_reunited(under=under, start=start, end=end, group_by_depth=group_by_depth)
    closed = PersonRecord.objects.filter(
        kind=Kind.MISSING, close_code=CloseCode.FOUND_BY_FAMILY, closed_at__gte=start, closed_at__lt=end
    )
    found = aggregate_by_unit(
        closed, path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )
    return {key: reunited.get(key, 0) + found.get(key, 0) for key in reunited.keys() | found.keys()}


def median_days_weighted(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """For each unit, the median of the reunions' days from report to reunion in
    ``[start, end)`` times their number (one query; medians do not add up, so rows are
    grouped here)."""
    rows = (
        Reunion.objects.filter(reunited_at__gte=start, reunited_at__lt=end, org__path__under=under.path)
        .order_by()
        .values_list("org__path", "days_from_report")
    )
    groups: dict[str, list[int]] = {}
    for path, days in rows:
        key = under.path if group_by_depth is None else ancestor_path(path, group_by_depth)
        if key is not None:
            groups.setdefault(key, []).append(days)
    return {key: Decimal(str(statistics.median(days))) * len(days) for key, days in groups.items()}


def register() -> None:
    registry.indicator_queries.register("reunion.families_reunited", families_reunited)
    registry.indicator_queries.register("reunion.people_found", people_found)
    registry.indicator_queries.register("reunion.median_days_weighted", median_days_weighted)
