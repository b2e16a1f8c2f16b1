"""Indicator queries of 好差评 (declared in ``catalog/indicators/satisfaction_*.yaml`` and
``rectifications_*.yaml``): ratings and satisfied ratings given in a period, and
rectifications overdue or closed on time, by the responsible unit's subtree."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet

from pingan.core import registry
from pingan.core.models import Clock
from pingan.indicators.queries import Number, aggregate_by_unit
from pingan.orgs.models import OrgUnit
from pingan.ratings.models import Rating
from pingan.ratings.scheme import scheme

RECTIFICATION = "ratings.rectification"


def _ratings(start: dt.datetime, end: dt.datetime) -> QuerySet[Rating]:
    return Rating.objects.filter(created_at__gte=start, created_at__lt=end)


def rated(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None) -> dict[str, Number]:
    """Ratings given in ``[start, end)``, by the responsible unit."""
    return aggregate_by_unit(
        _ratings(start, end), path_field="org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def satisfied(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None) -> dict[str, Number]:
    """Ratings at or above 基本满意 given in ``[start, end)``."""
    return aggregate_by_unit(
        _ratings(start, end).filter(level__gte=scheme().satisfied_from),
        path_field="org__path",
        under=under,
        group_by_depth=group_by_depth,
        value=Count("pk"),
    )


def rectifications_overdue(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Rectifications whose time limit ran out in ``[start, end)`` and still open at ``end``."""
    clocks = Clock.objects.filter(
        subject_type=RECTIFICATION, name="legal", overdue_at__gte=start, overdue_at__lt=end
    ).filter(Q(stopped_at__isnull=True) | Q(stopped_at__gte=end))
    return aggregate_by_unit(
        clocks, path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def _closed(start: dt.datetime, end: dt.datetime) -> QuerySet[Clock]:
    return Clock.objects.filter(subject_type=RECTIFICATION, name="legal", stopped_at__gte=start, stopped_at__lt=end)


def rectifications_closed(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Rectifications closed in ``[start, end)``."""
    return aggregate_by_unit(
        _closed(start, end), path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def rectifications_closed_on_time(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Rectifications closed in ``[start, end)`` within their time limit (never overdue)."""
    on_time = _closed(start, end).filter(overdue_at__isnull=True, stopped_at__lte=F("due_at"))
    return aggregate_by_unit(
        on_time, path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def register() -> None:
    registry.indicator_queries.register("ratings.rated", rated)
    registry.indicator_queries.register("ratings.satisfied", satisfied)
    registry.indicator_queries.register("ratings.rectifications_overdue", rectifications_overdue)
    registry.indicator_queries.register("ratings.rectifications_closed", rectifications_closed)
    registry.indicator_queries.register("ratings.rectifications_closed_on_time", rectifications_closed_on_time)
