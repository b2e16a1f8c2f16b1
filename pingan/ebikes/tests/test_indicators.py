from __future__ import annotations

import datetime as dt

import pytest

from pingan.core import context
from pingan.ebikes import actions
from pingan.ebikes.tests.conftest import QINGDAO_STATION, preregistered
from pingan.indicators import declarations, engine, periods
from pingan.testing import factories

pytestmark = pytest.mark.django_db
CHINA = dt.timezone(dt.timedelta(hours=8))


def plated_on(owner, officer, day: dt.date, hour: int = 10):
    ebike = preregistered(owner, purchase_date="2020-01-01")
    with context.backdated(dt.datetime.combine(day, dt.time(hour), CHINA)):
        actions.ebike_inspect(ebike=ebike, actor=officer)
        actions.ebike_register(ebike=ebike, actor=officer)
    return ebike


def test_registered_ebikes_by_unit_and_period(owner, officer):
    qingdao_owner = factories.citizen("370202", home_org_code=QINGDAO_STATION)
    qingdao_officer = factories.staff(QINGDAO_STATION, ["counter_officer"])
    plated_on(owner, officer, dt.date(2021, 3, 1))
    plated_on(owner, officer, dt.date(2021, 12, 31), hour=23)  # late evening, Beijing time: still 2021
    scrapped = plated_on(owner, officer, dt.date(2022, 1, 1), hour=0)
    plated_on(qingdao_owner, qingdao_officer, dt.date(2021, 6, 1))
    with context.backdated(dt.datetime(2023, 5, 1, 9, tzinfo=CHINA)):
        actions.ebike_cancel(ebike=scrapped, actor=owner, reason="报废")

    flow = declarations.indicator_get("ebikes_registered")
    stock = declarations.indicator_get("ebikes_total")
    province, jinan = factories.org("37"), factories.org("3701")
    y2021, y2022, y2023 = periods.parse("2021"), periods.parse("2022"), periods.parse("2023")
    assert engine.figure_for(flow, org=jinan, period=y2021).value == 2
    assert engine.figure_for(flow, org=province, period=y2021).value == 3
    assert engine.figure_for(flow, org=jinan, period=y2022).value == 1
    assert engine.figure_for(stock, org=jinan, period=y2022).value == 3
    assert engine.figure_for(stock, org=jinan, period=y2023).value == 2  # the scrapped one left the register
    assert engine.figure_for(stock, org=province, period=y2023).value == 3
    ranked = {entry.unit.code: entry.value for entry in engine.ranking(flow, parent=province, period=y2021)}
    assert (ranked["3701"], ranked["3702"], ranked["3703"]) == (2, 1, 0)
