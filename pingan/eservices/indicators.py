"""The e-services' indicator queries (declared in ``catalog/indicators/``): applications
completed and completed online, and the catalogue's computed "zero trips" / "done in one go"
counts (the same province-wide catalogue is offered under every unit)."""

from __future__ import annotations

import datetime as dt

from django.db.models import Count

from pingan.core import registry
from pingan.eservices import catalog
from pingan.eservices.models import Application
from pingan.indicators.queries import Number, aggregate_by_unit
from pingan.orgs.models import OrgUnit


def applications_completed(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    rows = Application.objects.filter(state="completed", completed_at__gte=start, completed_at__lt=end)
    return aggregate_by_unit(rows, path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk"))


def applications_completed_zero_trip(
    *, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None
) -> dict[str, Number]:
    """Completed applications of zero-trip services taken online (no visit at all)."""
    codes = [code for code, service in catalog.services().items() if service.zero_trip]
    rows = Application.objects.filter(
        state="completed", completed_at__gte=start, completed_at__lt=end, service_code__in=codes
    ).exclude(channel__in=("counter", "kiosk"))
    return aggregate_by_unit(rows, path_field="org_path", under=under, group_by_depth=group_by_depth, value=Count("pk"))


def _catalogue_count(under: OrgUnit, group_by_depth: int | None, count: int) -> dict[str, Number]:
    if group_by_depth is None:
        return {under.path: count}
    units = OrgUnit.objects.filter(path__under=under.path, depth=group_by_depth).exclude(kind="department")
    return {path: count for path in units.values_list("path", flat=True)}


def services_zero_trip(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None):
    return _catalogue_count(under, group_by_depth, catalog.summary()["zero_trip"])


def services_one_go(*, under: OrgUnit, start: dt.datetime, end: dt.datetime, group_by_depth: int | None):
    return _catalogue_count(under, group_by_depth, catalog.summary()["one_go"])


def register() -> None:
    registry.indicator_queries.register("eservices.applications_completed", applications_completed)
    registry.indicator_queries.register("eservices.applications_completed_zero_trip", applications_completed_zero_trip)
    registry.indicator_queries.register("eservices.services_zero_trip", services_zero_trip)
    registry.indicator_queries.register("eservices.services_one_go", services_one_go)
