"""``GET /api/v1/indicators/?org=3701&period=2021``: the indicators of a unit in the caller's
jurisdiction, with 同比/环比 and (``children=true``) the ranking of its child units — the
same report as ``manage.py indicators --json``. Values are exact decimals written as strings.
"""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.urls import path
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers
from rest_framework.request import Request
from rest_framework.response import Response

from pingan.api import base, routes
from pingan.indicators import engine, formatting, queries
from pingan.indicators.declarations import Indicator, indicators
from pingan.indicators.periods import Period, PeriodError, parse
from pingan.orgs.models import OrgUnit

EXACT = "exact decimal as a string (null: not available)"

# --- Query parameters ----------------------------------------------------------------------------


class IndicatorFilterSerializer(serializers.Serializer):
    org = serializers.CharField(max_length=40, help_text="org unit code (in your jurisdiction), e.g. 3701")
    period = serializers.CharField(max_length=20, help_text="2021, 2021Q3, 2021-07 or 2021-07-15")
    indicator = serializers.ListField(
        child=serializers.CharField(max_length=64),
        required=False,
        max_length=50,
        help_text="indicator codes (repeat the parameter); default: all",
    )
    children = serializers.BooleanField(required=False, default=False, help_text="rank the unit's child units")

    def validate_period(self, value: str) -> Period:
        try:
            return parse(value)
        except PeriodError as error:
            raise serializers.ValidationError(str(error), code="invalid_period") from None

    def validate_indicator(self, value: list[str]) -> list[Indicator]:
        declared = indicators()
        unknown = [code for code in value if code not in declared]
        if unknown:
            raise serializers.ValidationError(
                _("未知指标：%(codes)s。") % {"codes": "、".join(unknown)}, code="unknown_indicator"
            )
        return [declared[code] for code in dict.fromkeys(value)]


# --- The report (documents the response; the data comes from formatting.report_json) -----------


class FigureFields(serializers.Serializer):
    value = serializers.CharField(allow_null=True, help_text=EXACT)
    numerator = serializers.CharField(allow_null=True, help_text="exact decimal as a string")
    denominator = serializers.CharField(
        allow_null=True, help_text="exact decimal (the census population for per_100k); null if none"
    )
    missing = serializers.CharField(
        allow_null=True, help_text="why the value is not available: no_population, zero_denominator"
    )


class ComparedFigureSerializer(FigureFields):
    period = serializers.CharField(help_text="the period compared with (ISO: 2020, 2021Q2…)")


class ChangeSerializer(serializers.Serializer):
    absolute = serializers.CharField(allow_null=True, help_text=EXACT)
    percent = serializers.CharField(allow_null=True, help_text="change in % of the base value (null if it is 0)")
    direction = serializers.CharField(allow_null=True, help_text="up, down or flat")
    good = serializers.BooleanField(allow_null=True, help_text="good news by higher_is_better (null if flat)")


class RankedUnitSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    value = serializers.CharField(allow_null=True, help_text=EXACT)
    rank = serializers.IntegerField(allow_null=True, help_text="1 is best; ties share a rank; null: not ranked")


class IndicatorResultSerializer(FigureFields):
    code = serializers.CharField()
    name = serializers.CharField()
    unit = serializers.CharField(help_text="count, percent, per_100k, ratio or days")
    kind = serializers.CharField(help_text="stock (value at the period's end) or flow (during the period)")
    higher_is_better = serializers.BooleanField()
    previous = ComparedFigureSerializer(help_text="the previous period (环比)")
    period_change = ChangeSerializer(help_text="环比")
    last_year = ComparedFigureSerializer(help_text="the same period last year (同比)")
    year_change = ChangeSerializer(help_text="同比")
    ranking = RankedUnitSerializer(many=True, required=False, help_text="with children=true")


class ReportOrgSerializer(serializers.Serializer):
    code = serializers.CharField()
    name = serializers.CharField()
    path = serializers.CharField()


class ReportPeriodSerializer(serializers.Serializer):
    iso = serializers.CharField()
    label = serializers.CharField()
    start = serializers.CharField(help_text="ISO 8601, Asia/Shanghai")
    end = serializers.CharField(help_text="ISO 8601, Asia/Shanghai (exclusive)")
    days = serializers.IntegerField()


class IndicatorReportSerializer(serializers.Serializer):
    org = ReportOrgSerializer()
    period = ReportPeriodSerializer()
    indicators = IndicatorResultSerializer(many=True)


# --- The endpoint ------------------------------------------------------------------------------------


class IndicatorReportView(base.ActorContextMixin, base.FilterMixin, generics.GenericAPIView):
    permission_classes = [base.IsStaff]
    filter_serializer_class = IndicatorFilterSerializer
    serializer_class = IndicatorReportSerializer
    pagination_class = None

    @extend_schema(
        summary="Indicators of an org unit for a period",
        description=(
            "Every declared indicator (or those named by `indicator`) for the unit's whole subtree, "
            "with the previous period (环比) and the same period last year (同比); `children=true` adds "
            "the ranking of the unit's child units. A unit outside your jurisdiction is a 404, like an "
            "unknown one."
        ),
        parameters=[IndicatorFilterSerializer],
        responses=IndicatorReportSerializer,
    )
    def get(self, request: Request) -> Response:
        filters = self.get_filters()
        try:
            unit: OrgUnit = queries.unit_for(request.user, filters["org"])
        except OrgUnit.DoesNotExist:
            raise Http404 from None
        period: Period = filters["period"]
        chosen = filters.get("indicator") or list(indicators().values())
        cache = engine.QueryCache()
        results = engine.compute_all(chosen, org=unit, period=period, cache=cache)
        rankings: dict[str, list[engine.RankedUnit]] | None = None
        if filters.get("children"):
            children = queries.children_of(unit)
            rankings = {
                indicator.code: engine.ranking(indicator, parent=unit, period=period, cache=cache, children=children)
                for indicator in chosen
            }
        report: dict[str, Any] = formatting.report_json(unit, period, results, rankings)
        return Response(self.get_serializer(report).data)


routes.add_path(path("indicators/", IndicatorReportView.as_view(), name="indicators"))
