"""The indicators page: the figures of a unit in the officer's jurisdiction for a period,
with 同比/环比 and the ranking of its child units. htmx requests get the partial only."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET
from django.views.decorators.vary import vary_on_headers

from pingan.accounts.decorators import staff_required
from pingan.indicators import engine, formatting, queries
from pingan.indicators.declarations import Indicator, indicators
from pingan.indicators.forms import PickerForm
from pingan.indicators.periods import Period
from pingan.orgs import queries as orgs
from pingan.orgs.models import OrgUnit


@require_GET
@vary_on_headers("HX-Request")
@staff_required()
def index(request: HttpRequest) -> HttpResponse:
    roots = queries.jurisdiction_roots_for(request.user)
    if not roots:
        raise PermissionDenied(_("您没有在岗岗位，无法查看指标。"))
    form = PickerForm(request.GET)
    valid = form.is_valid()
    code = ((form.cleaned_data.get("org") if valid else request.GET.get("org")) or roots[0].code).strip()
    try:
        unit = queries.unit_for(request.user, code)
    except OrgUnit.DoesNotExist:
        raise Http404 from None

    if valid:
        period: Period = form.cleaned_data["period_obj"]
        state = {"type": period.type.value, "period": period.iso, "sort": form.cleaned_data.get("sort") or ""}
    else:
        state = {"type": request.GET.get("type") or "year", "period": request.GET.get("period", ""), "sort": ""}
    link = Links(unit=unit, state=state)
    context: dict[str, Any] = {
        "form": form,
        "unit": unit,
        "unit_name": formatting.unit_name(unit),
        "unit_options": _unit_options(unit, roots),
        "breadcrumbs": [
            {"label": formatting.unit_name(crumb), "url": link(org=crumb.code)} for crumb in _breadcrumbs(unit, roots)
        ],
        "period_type": state["type"],
        "period_value": state["period"],
        "sort": state["sort"],
    }
    if valid:
        context.update(_figures(unit, period, sort=state["sort"], link=link))
    partial = request.htmx and not request.htmx.history_restore_request
    template = "indicators/partials/_table.html" if partial else "indicators/index.html"
    response = render(request, template, context, status=200 if valid else 400)
    if partial and valid:
        # The address bar shows the period actually shown (2021 picked as months: 2021-12).
        response["HX-Push-Url"] = link()
    return response


class Links:
    """URLs of this page that keep the picker's state and change one thing."""

    def __init__(self, *, unit: OrgUnit, state: dict[str, str]) -> None:
        self.base = reverse("indicators:index")
        self.params = {"org": unit.code, **state}

    def __call__(self, **changes: str) -> str:
        params = {key: value for key, value in {**self.params, **changes}.items() if value}
        return f"{self.base}?{urlencode(params)}"


def _unit_options(unit: OrgUnit, roots: list[OrgUnit]) -> list[dict[str, Any]]:
    """The officer's jurisdictions (one per post subtree), plus the unit drilled down to."""
    options = [
        {"code": root.code, "name": formatting.unit_name(root), "selected": root.pk == unit.pk} for root in roots
    ]
    if all(root.pk != unit.pk for root in roots):
        options.append({"code": unit.code, "name": "… " + formatting.unit_name(unit), "selected": True})
    return options


def _breadcrumbs(unit: OrgUnit, roots: list[OrgUnit]) -> list[OrgUnit]:
    """From the top of the officer's jurisdiction down to ``unit`` (one query)."""
    top = next(root for root in roots if unit.path.startswith(root.path))
    return [ancestor for ancestor in orgs.ancestors(unit) if ancestor.path.startswith(top.path)] + [unit]


def _figures(unit: OrgUnit, period: Period, *, sort: str, link: Links) -> dict[str, Any]:
    declared = list(indicators().values())
    cache = engine.QueryCache()
    results = engine.compute_all(declared, org=unit, period=period, cache=cache)
    rows = [_row(result) for result in results]
    sort_by = next((indicator for indicator in declared if indicator.code == sort), declared[0] if declared else None)
    context: dict[str, Any] = {
        "period": period,
        "last_year_label": period.same_period_last_year().label,
        "previous_label": period.previous().label,
        "rows": rows,
        "sort_name": sort_by.name if sort_by else "",
        "ranking_rows": [],
        "ranking_columns": [],
    }
    children = queries.children_of(unit)
    if not children or sort_by is None:
        return context

    cells: dict[str, list[dict[str, str]]] = {child.path: [] for child in children}
    order: list[OrgUnit] = []
    for indicator in declared:
        ranked = engine.ranking(indicator, parent=unit, period=period, cache=cache, children=children)
        for child, value, position in ranked:
            cells[child.path].append(
                {"value": formatting.value_text(value, indicator.unit), "rank": str(position or "")}
            )
        if indicator is sort_by:
            order = [entry.unit for entry in ranked]
    context["ranking_columns"] = [_column(indicator, sort_by, link) for indicator in declared]
    context["ranking_rows"] = [
        {
            "code": child.code,
            "name": formatting.unit_name(child),
            "url": link(org=child.code),
            "cells": cells[child.path],
        }
        for child in order
    ]
    return context


def _row(result: engine.Result) -> dict[str, Any]:
    kind = result.indicator.unit
    return {
        "code": result.indicator.code,
        "name": result.indicator.name,
        "description": result.indicator.description,
        "value": formatting.value_text(result.value, kind),
        "unit": formatting.unit_text(kind),
        "missing": result.current.missing_reason,
        "last_year": formatting.value_text(result.last_year.value, kind),
        "year_change": formatting.change_text(result.year_change, kind),
        "year_class": formatting.change_class(result.year_change),
        "previous": formatting.value_text(result.previous.value, kind),
        "period_change": formatting.change_text(result.period_change, kind),
        "period_class": formatting.change_class(result.period_change),
    }


def _column(indicator: Indicator, sort_by: Indicator, link: Links) -> dict[str, Any]:
    return {
        "name": indicator.name,
        "url": link(sort=indicator.code),
        "current": indicator is sort_by,
        "aria_sort": "descending" if indicator.higher_is_better else "ascending",
    }
