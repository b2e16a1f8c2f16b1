"""The 好差评 indicators: satisfaction rate, rectifications overdue and closed on time."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from pingan.core import deadlines
from pingan.core.catalog import catalog_path
from pingan.indicators import engine, periods
from pingan.indicators.declarations import Kind, Unit, load_file
from pingan.ratings import actions
from pingan.ratings import indicators as queries
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def declared(code: str):
    return load_file(catalog_path("indicators", f"{code}.yaml"))


def test_the_declarations_load():
    rate = declared("satisfaction_rate")
    assert (rate.unit, rate.kind, rate.numerator, rate.denominator) == (
        Unit.PERCENT,
        Kind.FLOW,
        "ratings.satisfied",
        "ratings.rated",
    )
    assert declared("rectifications_overdue").kind == Kind.STOCK
    assert declared("rectifications_closed_on_time").denominator == "ratings.rectifications_closed"


def test_satisfaction_rate_by_unit(rate):
    for level, org in [(5, "370102001"), (3, "370102001"), (2, "370102001"), (1, "370103002"), (4, "370202001")]:
        rate(level, owner=factories.citizen(name="市民"), org=org)
    year = periods.parse(f"{timezone.localdate().year}")
    jinan, province = factories.org("3701"), factories.org("37")
    result = engine.compute(declared("satisfaction_rate"), org=jinan, period=year)
    assert result.current.value == Decimal(50)  # 2 of 4 in Jinan
    grouped = queries.satisfied(under=province, start=year.start, end=year.end, group_by_depth=1)
    assert grouped == {"37/3701/": 2, "37/3702/": 1}
    assert queries.rated(under=jinan, start=year.start, end=year.end, group_by_depth=None) == {jinan.path: 4}
    last_year = periods.parse(f"{timezone.localdate().year - 1}")
    assert engine.compute(declared("satisfaction_rate"), org=jinan, period=last_year).current.value is None


def close(item, chief):
    for action, data in [
        ("refute", {"finding": "不属实"}),
        ("follow_up", {"method": "phone", "result": "已回访", "satisfaction": "satisfied"}),
        ("close", {"reply": "已答复"}),
    ]:
        actions.rectification_advance(rectification=item, action=action, actor=chief, data=data)


def test_rectifications_overdue_and_closed_on_time(rate, chief):
    on_time, late, open_late = (rate(2).rectification for _ in range(3))
    close(on_time, chief)
    due = deadlines.clocks_for(late).get().due_at
    deadlines.sweep(now=due + dt.timedelta(minutes=1))
    close(late, chief)
    later = due + dt.timedelta(days=40)
    period = periods.parse(f"{later.year + 1}")
    jinan = factories.org("3701")
    overdue = engine.compute(declared("rectifications_overdue"), org=jinan, period=period)
    assert overdue.current.value == 1  # open_late: overdue and still open
    this_year = periods.parse(f"{timezone.localdate().year}")
    start, end = this_year.start, this_year.end + dt.timedelta(days=400)
    assert queries.rectifications_closed(under=jinan, start=start, end=end, group_by_depth=None) == {jinan.path: 2}
    assert queries.rectifications_closed_on_time(under=jinan, start=start, end=end, group_by_depth=None) == {
        jinan.path: 1
    }
    assert open_late.state == "verifying"
