"""Indicator queries over the shared workflow machinery (every module's deadline clocks),
so "items overdue" covers assignments today and every later module's work items."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, Q, Value
from django.db.models.functions import Concat

from pingan.core import registry
from pingan.core.models import Clock
from pingan.indicators.queries import Number, aggregate_by_unit
from pingan.orgs.models import OrgUnit


def items_overdue(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Work items that went past a deadline in ``[start, end)`` and were still not done at
    ``end`` (a stock when ``start`` is the beginning of records). An item with several
    clocks over its deadline counts once."""
    clocks = Clock.objects.filter(overdue_at__gte=start, overdue_at__lt=end).filter(
        Q(stopped_at__isnull=True) | Q(stopped_at__gte=end)
    )
    return aggregate_by_unit(
        clocks.annotate(subject=Concat("subject_type", Value("#"), "subject_id")),
        path_field="org_path",
        under=under,
        group_by_depth=group_by_depth,
        value=Count("subject", distinct=True),
    )


def register() -> None:
    registry.indicator_queries.register("workflow.items_overdue", items_overdue)
