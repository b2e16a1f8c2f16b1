"""Indicator queries of alerts (declared in ``catalog/indicators/alerts_*.yaml``): alerts
published in a period, and of those the ones withdrawn because the person was found (the
团圆 platform's measure: 4,792 of 4,863 children found, 98.5 %, by September 2021), by the
publishing unit's subtree."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, QuerySet

from pingan.alerts.models import Alert, WithdrawReason
from pingan.core import registry
from pingan.indicators.queries import Number, aggregate_by_unit
from pingan.orgs.models import OrgUnit


def _published(start: dt.datetime, end: dt.datetime) -> QuerySet[Alert]:
    return Alert.objects.filter(published_at__gte=start, published_at__lt=end)


def published(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None) -> dict[str, Number]:
    """Alerts published in ``[start, end)``, by the publishing unit."""
    return aggregate_by_unit(
        _published(start, end), path_field="org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def found(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None) -> dict[str, Number]:
    """Alerts published in ``[start, end)`` and withdrawn before ``end`` because the person
    was found (so found ÷ published is the found rate of the period's alerts)."""
    rows = _published(start, end).filter(withdraw_reason=WithdrawReason.FOUND, withdrawn_at__lt=end)
    return aggregate_by_unit(
        rows, path_field="org__path", under=under, group_by_depth=group_by_depth, value=Count("pk")
    )


def register() -> None:
    registry.indicator_queries.register("alerts.published", published)
    registry.indicator_queries.register("alerts.found", found)
