"""Indicator queries of the e-bike register (declared in ``catalog/indicators/ebikes_*.yaml``),
by the handling unit's subtree: one grouped SQL statement each, whatever the number of units."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q

from pingan.core import registry
from pingan.ebikes.models import EBike
from pingan.indicators.periods import BEGINNING
from pingan.indicators.queries import Number, aggregate_by_unit
from pingan.orgs.models import OrgUnit


def registered(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Bicycles plated in ``[start, end)``; as a stock (``start`` at the beginning of records):
    those plated by ``end`` and not cancelled by then."""
    bikes = EBike.objects.filter(registered_at__gte=start, registered_at__lt=end)
    if start <= BEGINNING:
        bikes = bikes.filter(Q(cancelled_at__isnull=True) | Q(cancelled_at__gte=end))
    return aggregate_by_unit(
        bikes, path_field="org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def register() -> None:
    registry.indicator_queries.register("ebikes.registered", registered)
