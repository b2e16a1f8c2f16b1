"""Supervised assignments in a real browser: a city bureau leader hands a task to a station,
the station works it from "my work", the leader reviews it; the wall chart follows."""

from __future__ import annotations

import re

import pytest

from pingan.assignments.models import Assignment
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def take(page, action: str, **fields: str) -> None:
    form = page.locator("form.action-form", has=page.locator(f'button[data-action="{action}"]'))
    for name, value in fields.items():
        form.locator(f'textarea[name="{name}"]').fill(value)
    form.locator(f'button[data-action="{action}"]').click()
    page.wait_for_load_state()


def test_a_task_from_assignment_to_approval(page, live_server):
    leader = factories.staff("3701", ["bureau_leader"], name="王局长")
    chief = factories.staff("370102001", ["station_chief"], name="李所长")

    browser_sign_in(page, leader, live_server)
    page.goto(f"{live_server.url}/assignments/new/")
    page.fill("#id_title", "走访辖区独居老人")
    page.fill("#id_org", "370102001")
    page.fill("#id_working_days", "5")
    page.click("main form button[type=submit]")
    page.wait_for_url(re.compile(r"/assignments/JB\d+/$"))
    assert page.locator('[data-testid="state"]').inner_text() == "草稿"
    take(page, "assign", note="请本周内完成")
    assert page.locator('[data-testid="state"]').inner_text() == "已交办"
    task_url = page.url

    browser_sign_in(page, chief, live_server)
    page.goto(f"{live_server.url}/inbox/")
    page.locator("a", has_text="走访辖区独居老人").first.click()
    page.wait_for_url(task_url)
    assert page.locator('button[data-action="approve"]').count() == 0
    take(page, "accept")
    take(page, "report", summary="已走访32户，登记需求12项")
    assert page.locator('[data-testid="state"]').inner_text() == "已报结"
    # The station cannot approve its own report: the button is not even offered.
    assert page.locator('button[data-action="approve"]').count() == 0

    browser_sign_in(page, leader, live_server)
    page.goto(f"{live_server.url}/inbox/?kind=assignments")
    assert page.locator("tr.inbox-row", has_text="走访辖区独居老人").count() == 1
    page.goto(task_url)
    take(page, "approve", comment="同意")
    take(page, "close")
    assert page.locator('[data-testid="state"]').inner_text() == "已办结"
    assert Assignment.objects.get().state == "closed"
    history = page.locator("section.panel table").last.inner_text()
    assert "workflow.report" in history
    assert "已走访32户" in history

    page.goto(f"{live_server.url}/assignments/wall/?by=unit")
    assert "历下区公安分局" in page.locator("table.wall").inner_text()
