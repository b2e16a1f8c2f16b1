"""Alerts in a real browser: a citizen subscribes with the browser's position, an
investigator publishes an alert (as the case page does, through the action), the
subscriber in range sees it and sends a clue, one out of range does not see it; the
withdrawal reaches the subscriber."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.utils import timezone

from pingan.alerts import actions
from pingan.alerts.models import Clue, Subscription
from pingan.alerts.tests.conftest import JINAN, PLACES
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_subscriber_in_range_receives_the_alert_and_one_out_of_range_does_not(page, live_server):
    near = factories.citizen(name="赵敏")
    far = factories.citizen(name="孙浩")
    actions.subscription_set(user=far, point=PLACES["yantai"])  # ~395 km from Jinan
    investigator = factories.staff("370102-criminal", ["investigator"], name="孙刚")

    # The near citizen subscribes with "use my location" (browser geolocation, no inline script).
    page.context.grant_permissions(["geolocation"], origin=live_server.url)
    page.context.set_geolocation({"latitude": PLACES["taian"].latitude, "longitude": PLACES["taian"].longitude})
    browser_sign_in(page, near, live_server)
    page.goto("/alerts/subscription/")
    assert page.locator('[data-testid="current"]').inner_text() == "您尚未订阅。"
    point_form = page.locator("form", has=page.locator('input[name="mode"][value="point"]'))
    point_form.get_by_role("button", name="使用我的位置").click()
    page.wait_for_function("document.querySelector('input[name=latitude]').value !== ''")
    assert point_form.get_by_label("纬度").input_value() == "36.2000"
    point_form.get_by_role("button", name="订阅").click()
    page.wait_for_url(re.compile(r"/alerts/subscription/$"))
    assert "北纬 36.2" in page.locator('[data-testid="current"]').inner_text()
    assert Subscription.objects.get(user=near).longitude == 117.09

    alert = actions.alert_publish(
        subject_type="reunion.record",
        subject_id="XR-BROWSER-1",
        title="紧急寻找走失儿童：王**，男，6岁",
        body="王**，男，6岁，身高约115厘米，上身穿红色外套，今日14时许在泉城广场附近走失。",
        origin=JINAN,
        missing_since=timezone.now() - dt.timedelta(minutes=25),
        org=factories.org("370102"),
        actor=investigator,
    )

    page.goto("/alerts/received/")
    card = page.locator(f'li[data-alert="{alert.reference}"]')
    assert "红色外套" in card.inner_text()
    card.get_by_role("link", name=alert.title).click()
    page.wait_for_url(re.compile(rf"/alerts/a/{alert.reference}/$"))
    assert page.locator('[data-testid="title"]').inner_text() == alert.title
    page.get_by_label("发现地点").fill("济南火车站西广场")
    seen = timezone.localtime() - dt.timedelta(minutes=5)
    page.get_by_label("发现时间").fill(seen.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_label("线索内容").fill("看到一个穿红色外套的男孩跟着一名中年男子往进站口走了")
    page.get_by_role("button", name="提交线索").click()
    page.wait_for_url(re.compile(rf"/alerts/a/{alert.reference}/$"))
    assert "感谢您提供线索" in page.locator(".messages").inner_text()
    assert Clue.objects.get().sender == near
    page.goto("/notifications/")
    assert "紧急寻人" in page.locator("main").inner_text()

    browser_sign_in(page, far, live_server)
    page.goto("/alerts/received/")
    assert page.locator(f'li[data-alert="{alert.reference}"]').count() == 0
    assert page.locator('[data-testid="none"]').is_visible()

    browser_sign_in(page, investigator, live_server)
    page.goto(f"/alerts/staff/{alert.reference}/")
    assert page.locator('td[data-band="100"]').inner_text() == "1"
    assert "济南火车站西广场" in page.locator(".clue-list").inner_text()
    page.get_by_label("撤回原因").select_option("found")
    page.get_by_role("button", name="撤回并通知所有收到预警的群众").click()
    page.wait_for_url(re.compile(rf"/alerts/staff/{alert.reference}/$"))
    assert page.locator('[data-testid="state"]').inner_text().startswith("已撤回")

    browser_sign_in(page, near, live_server)
    page.goto("/alerts/received/")
    assert page.locator(f'li[data-alert="{alert.reference}"] [data-testid="withdrawn"]').inner_text() == "已撤回"
    page.goto(f"/alerts/a/{alert.reference}/")
    assert "已找到" in page.locator('[data-testid="withdrawn"]').inner_text()
