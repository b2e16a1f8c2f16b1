""" "My work" in a real browser: the kind tabs swap the list in place (htmx) and a notice is
marked read without a reload."""

from __future__ import annotations

import re

import pytest

from pingan.inbox import actions
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_tabs_filter_in_place_and_notices_are_marked_read(page, live_server):
    station = factories.org("370102001")
    chief = factories.staff(station.code, ["station_chief"])
    actions.notice_post(
        recipients=[chief], kind="escalation", title="已超期：排查消防隐患", subject=("demo.item", "1"), org=station
    )
    browser_sign_in(page, chief, live_server)
    page.goto(f"{live_server.url}/inbox/")
    page.evaluate("window.notReloaded = true")
    assert page.locator("tr.inbox-row").count() == 1
    page.locator('a[data-kind="assignments"]').click()
    page.wait_for_url(re.compile(r"kind=assignments"))
    assert page.locator("tr.inbox-row").count() == 0
    page.locator('a[data-kind="notices"]').click()
    page.wait_for_url(re.compile(r"kind=notices"))
    row = page.locator("tr.inbox-row", has_text="排查消防隐患")
    assert "已超期" in row.inner_text()
    row.locator("button", has_text="已阅").click()
    page.locator("tr.inbox-row").first.wait_for(state="detached")
    assert page.evaluate("window.notReloaded") is True
    assert "暂无待办事项" in page.locator("#inbox").inner_text()


def test_the_public_can_find_their_police_station(page, live_server):
    page.goto(f"{live_server.url}/orgs/")
    page.locator("a", has_text="济南市公安局").first.click()
    page.locator("a", has_text="历下区公安分局").first.click()
    page.locator("a", has_text="解放路派出所").first.click()
    assert page.locator("h1").inner_text() == "解放路派出所"
    assert "第1警格" in page.locator("main").inner_text()
