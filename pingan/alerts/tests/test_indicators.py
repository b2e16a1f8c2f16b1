"""The alert indicators: alerts published, and the share found (withdrawn as found)."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.utils import timezone

from pingan.alerts import actions
from pingan.alerts import indicators as queries
from pingan.core.catalog import catalog_path
from pingan.indicators import engine, periods
from pingan.indicators.declarations import Kind, Unit, load_file
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def declared(code: str):
    return load_file(catalog_path("indicators", f"{code}.yaml"))


def test_the_declarations_load():
    rate = declared("alerts_found_rate")
    assert (rate.unit, rate.kind, rate.numerator, rate.denominator) == (
        Unit.PERCENT,
        Kind.FLOW,
        "alerts.found",
        "alerts.published",
    )
    assert declared("alerts_published").unit == Unit.COUNT


def test_published_and_found_rate(publish, investigator):
    qingdao = factories.staff("370202-criminal", ["investigator"])
    found = [publish(subject_id=f"F{n}") for n in range(3)]
    false_report = publish(subject_id="X")
    publish(subject_id="open")
    publish(subject_id="Q", org=factories.org("370202"), actor=qingdao)
    for alert in found:
        actions.alert_withdraw(alert=alert, reason="found", actor=investigator)
    actions.alert_withdraw(alert=false_report, reason="false_report", actor=investigator)
    year = periods.parse(f"{timezone.localdate().year}")
    province, jinan = factories.org("37"), factories.org("3701")
    assert queries.published(under=province, start=year.start, end=year.end, group_by_depth=1) == {
        "37/3701/": 5,
        "37/3702/": 1,
    }
    assert queries.found(under=jinan, start=year.start, end=year.end, group_by_depth=None) == {jinan.path: 3}
    assert engine.compute(declared("alerts_found_rate"), org=jinan, period=year).current.value == Decimal(60)
    assert engine.compute(declared("alerts_published"), org=province, period=year).current.value == 6
    last_year = periods.parse(f"{timezone.localdate().year - 1}")
    assert engine.compute(declared("alerts_found_rate"), org=jinan, period=last_year).current.value is None
