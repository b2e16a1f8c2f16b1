"""The indicators page in a real browser (Debian Chromium): htmx swaps the table on a change
of period or unit, without a full reload and without breaking the CSP."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest

from pingan.accounts.models import CitizenProfile
from pingan.indicators.periods import ZONE
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


sign_in = browser_sign_in


@pytest.fixture
def jinan_leader() -> Any:
    leader = factories.staff("3701", roles=["bureau_leader"])
    for year, county in [(2021, "370102")] * 3 + [(2020, "370102"), (2021, "370103")]:
        user = factories.citizen(county)
        CitizenProfile.objects.filter(user=user).update(created_at=dt.datetime(year, 5, 5, tzinfo=ZONE))
    return leader


def test_period_and_unit_changes_swap_the_table_in_place(page, live_server, jinan_leader):
    sign_in(page, jinan_leader, live_server)
    page.goto("/indicators/?org=3701&type=year&period=2021")
    heading = page.locator("#indicator-heading")
    assert heading.inner_text() == "济南市公安局 · 2021年"
    row = page.locator('tr[data-indicator="citizens_registered"]')
    assert "↑ +3 (+300.0%)" in row.inner_text()
    assert row.locator(".change-good").count() == 2  # 同比 and 环比, both good news
    page.evaluate("window.notReloaded = true")

    # A different period type: the table (and the picker) are swapped, the URL follows.
    page.select_option("#id_type", "quarter")
    page.wait_for_url(re.compile(r"type=quarter"))
    assert heading.inner_text() == "济南市公安局 · 2021年第4季度"
    assert page.input_value("#id_period") == "2021Q4"

    # Drilling down into a child unit from the ranking.
    page.locator('tr[data-unit="370102"] a').click()
    page.wait_for_url(re.compile(r"org=370102"))
    assert heading.inner_text() == "历下区公安分局 · 2021年第4季度"
    assert page.locator(".indicator-breadcrumbs li").all_inner_texts() == ["济南市公安局", "历下区公安分局"]

    # And back up through the breadcrumbs.
    page.locator(".indicator-breadcrumbs a", has_text="济南市公安局").click()
    page.wait_for_url(re.compile(r"org=3701&"))
    assert heading.inner_text().startswith("济南市公安局")
    assert page.evaluate("window.notReloaded") is True


def test_an_unreadable_period_is_explained_in_place(page, live_server, jinan_leader):
    sign_in(page, jinan_leader, live_server)
    # A second tab: Chromium reports the deliberate 400 of the swap as a console error, which
    # the ``page`` fixture would count against the test. The tab shares the context's CSP watch.
    tab = page.context.new_page()
    tab.goto(f"{live_server.url}/indicators/?org=3701&period=2021")
    tab.evaluate("window.notReloaded = true")
    tab.fill("#id_period", "2021Q5")
    tab.press("#id_period", "Enter")
    alert = tab.locator("#id_period_errors")
    alert.wait_for()
    assert "季度应为 1 至 4" in alert.inner_text()
    assert tab.locator(".indicator-table").count() == 0
    assert tab.evaluate("window.notReloaded") is True
    tab.close()
