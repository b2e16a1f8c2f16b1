"""好差评 in a real browser: a citizen rates a finished service badly; the station chief
finds the rectification in "my work", verifies, rectifies, calls the citizen back and
closes it; the citizen reads the outcome."""

from __future__ import annotations

import re

import pytest

from pingan.notify.models import Message
from pingan.ratings.models import Rectification
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def take(page, action: str, **fields: str) -> None:
    form = page.locator("form.action-form", has=page.locator(f'button[data-action="{action}"]'))
    for name, value in fields.items():
        field = form.locator(f'[name="{name}"]')
        if field.evaluate("node => node.tagName") == "SELECT":
            field.select_option(value)
        else:
            field.fill(value)
    form.locator(f'button[data-action="{action}"]').click()
    page.wait_for_load_state()


def test_a_bad_rating_is_rectified_and_closed_after_a_follow_up(page, live_server, services):
    citizen = factories.citizen(name="刘晓燕", phone="13712345678")
    chief = factories.staff("370102001", ["station_chief"], name="李所长")
    subject_id = services.add(citizen, label="居民身份证换领")

    browser_sign_in(page, citizen, live_server)
    page.goto(f"/ratings/rate/testing.service/{subject_id}/")
    assert page.locator('[data-testid="subject"]').inner_text() == "居民身份证换领"
    page.get_by_label("不满意", exact=True).check()
    page.get_by_label("服务态度").select_option("2")
    page.get_by_label("评价意见").fill("窗口只开了一个，排队一个多小时")
    page.get_by_role("button", name="提交评价").click()
    page.wait_for_url(re.compile(r"/ratings/mine/$"))
    assert "解放路派出所将在15个工作日内核实整改，并回访您。" in page.locator(".messages").inner_text()
    assert page.locator('[data-testid="outcome-state"]').inner_text() == "待核实"
    # A second rating of the same service is refused.
    page.goto(f"/ratings/rate/testing.service/{subject_id}/")
    assert "每件事项只能评价一次" in page.locator('[data-testid="refusal"]').inner_text()

    browser_sign_in(page, chief, live_server)
    page.goto("/inbox/?kind=rectifications")
    page.locator("tr.inbox-row a", has_text="差评整改：居民身份证换领").click()
    page.wait_for_url(re.compile(r"/ratings/rectifications/ZG\d+/$"))
    assert page.locator('[data-testid="state"]').inner_text() == "待核实"
    assert "窗口只开了一个" in page.locator('[data-testid="comment"]').inner_text()
    take(page, "confirm", finding="当日窗口仅一人值守，情况属实")
    take(page, "rectify", measures="高峰时段增开窗口，实行预约分流")
    assert page.locator('[data-testid="state"]').inner_text() == "待回访"
    # No closing before the citizen has been called back.
    assert page.locator('button[data-action="close"]').count() == 0
    page.locator('button[data-action="contact"]').click()
    assert page.locator('[data-testid="phone"]').inner_text() == "13712345678"
    take(page, "follow_up", method="phone", result="电话告知整改措施，群众表示满意", satisfaction="satisfied")
    assert page.locator('[data-testid="state"]').inner_text() == "待办结"
    take(page, "close", reply="已在高峰时段增开窗口并实行预约，感谢您的监督。")
    assert page.locator('[data-testid="state"]').inner_text() == "已办结"
    assert Rectification.objects.get().state == "closed"
    page.goto("/inbox/?kind=rectifications")
    assert page.locator("tr.inbox-row").count() == 0

    browser_sign_in(page, citizen, live_server)
    page.goto("/ratings/mine/")
    assert page.locator('[data-testid="outcome-state"]').inner_text() == "已办结"
    assert "感谢您的监督" in page.locator('[data-testid="reply"]').inner_text()
    assert Message.objects.filter(recipient=citizen, channel="in_app").count() == 1
    page.goto("/notifications/")
    assert "您的评价已处理" in page.locator(".notify-list").inner_text()
