"""Public pages of the organisation tree: citizens find their police station."""

from __future__ import annotations

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from pingan.orgs import queries
from pingan.orgs.models import LEVEL_ORDER, Kind, Level, OrgUnit


def _unit(code: str) -> OrgUnit:
    try:
        return queries.unit_get(code)
    except OrgUnit.DoesNotExist:
        raise Http404 from None


@require_GET
def directory(request: HttpRequest, code: str | None = None) -> HttpResponse:
    """Browse the tree from the province down; a unit's page lists the units under it."""
    unit = _unit(code) if code else queries.root()
    context = {
        "unit": unit,
        "ancestors": list(queries.ancestors(unit)),
        "children": list(queries.children(unit).order_by("path")),
        "departments": list(queries.units_filter(parent=unit, kind=Kind.DEPARTMENT)),
        "counts": [
            (Level(level).label, count)
            for level, count in sorted(queries.descendant_counts(unit).items(), key=lambda kv: LEVEL_ORDER.index(kv[0]))
        ],
    }
    return render(request, "orgs/directory.html", context)


@require_GET
def station_options(request: HttpRequest) -> HttpResponse:
    """``<option>``s of the stations of one county (htmx: the sign-up form's station list)."""
    county = queries.units_filter(level=Level.COUNTY).filter(code=request.GET.get("county", "")[:12]).first()
    stations = list(queries.units_filter(level=Level.STATION, parent=county)) if county else []
    return render(request, "orgs/partials/_station_options.html", {"stations": stations})
