from __future__ import annotations

import datetime as dt

import pytest

from pingan.assignments import actions
from pingan.core import deadlines
from pingan.indicators import engine, periods
from pingan.indicators.declarations import indicator_get
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_items_overdue_counts_open_overdue_items_by_unit():
    leader = factories.staff("3701", ["bureau_leader"])
    officer = factories.staff("370102001", ["community_officer"])
    items = []
    for code in ("370102001", "370102001", "370103002"):
        item = actions.assignment_create(actor=leader, title="任务甲", org=factories.org(code), working_days=2)
        actions.assignment_advance(assignment=item, action="assign", actor=leader, expected_version=item.version)
        items.append(item)
    done = items[1]
    actions.assignment_advance(assignment=done, action="accept", actor=officer, expected_version=done.version)
    later = max(item.due_at for item in items) + dt.timedelta(days=1)
    deadlines.sweep(now=later)
    actions.assignment_advance(
        assignment=done, action="report", actor=officer, data={"summary": "完成"}, expected_version=done.version
    )
    actions.assignment_advance(assignment=done, action="approve", actor=leader, expected_version=done.version)
    indicator = indicator_get("items_overdue")
    period = periods.parse(f"{later.year + 1}")
    jinan = factories.org("3701")
    result = engine.compute(indicator, org=jinan, period=period)
    assert result.value == 2
    ranking = {row.unit.code: row.value for row in engine.ranking(indicator, parent=jinan, period=period)}
    assert ranking["370102"] == 1
    assert ranking["370103"] == 1
