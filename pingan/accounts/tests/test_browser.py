"""Real browser (Debian Chromium via Playwright) against the live server, demo mode off."""

from __future__ import annotations

import base64
import datetime as dt
import re

import pytest
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts.models import CitizenProfile
from pingan.core.identity import make_resident_id, mask_resident_id
from pingan.testing import factories
from pingan.testing.browser import PageProblems
from pingan.testing.signin import TEST_TOTP_KEY

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _production_sign_in(settings):
    settings.DEMO_MODE = False  # staff must pass TOTP


def current_token(key_hex: str) -> str:
    return f"{totp(bytes.fromhex(key_hex)):06d}"


def sign_in_with_password(page, identifier: str) -> None:
    page.goto("/accounts/login/")
    page.get_by_label("账号").fill(identifier)
    page.get_by_label("密码").fill(factories.PASSWORD)
    page.get_by_role("button", name="登录").click()


def test_staff_signs_in_with_password_then_totp_and_lands_on_the_inbox(page):
    officer = factories.staff("370102001", ["counter_officer"], name="王警官")
    TOTPDevice.objects.create(user=officer, name="phone", key=TEST_TOTP_KEY, confirmed=True)
    sign_in_with_password(page, officer.username)
    page.wait_for_url("**/accounts/login/otp/")
    assert page.get_by_text("王警官（警号").is_visible()
    page.get_by_label("动态口令").fill(current_token(TEST_TOTP_KEY))
    page.get_by_role("button", name="验证").click()
    page.wait_for_url("**/inbox/")
    assert page.get_by_role("heading", name="我的工作").is_visible()
    assert page.get_by_text("王警官").first.is_visible()


def test_staff_without_a_device_scans_the_code_and_confirms_it(page):
    officer = factories.staff("370102001", ["station_chief"])
    sign_in_with_password(page, officer.username)
    page.wait_for_url("**/accounts/otp/setup/")
    qr = page.get_by_role("img", name="动态口令设置二维码")
    assert qr.evaluate("image => image.complete && image.naturalWidth > 0")  # the data: SVG passed the CSP
    secret = page.locator("#totp-secret").inner_text().replace(" ", "")
    device = TOTPDevice.objects.get(user=officer, confirmed=False)
    assert secret == base64.b32encode(device.bin_key).decode().rstrip("=")
    page.get_by_label("动态口令").fill(current_token(device.key))
    page.get_by_role("button", name="确认并启用").click()
    page.wait_for_url("**/inbox/")
    assert TOTPDevice.objects.get(pk=device.pk).confirmed


def test_citizen_signs_up_reaches_my_account_and_reveals_their_number(page):
    number = make_resident_id("370102", dt.date(1992, 6, 1), 42)
    page.goto("/accounts/signup/")
    page.get_by_label("姓名").fill("陈明")
    page.get_by_label("身份证号码").fill(number)
    page.get_by_label("手机号码").fill("13812345678")
    page.locator("#id_password1").fill(factories.PASSWORD)
    page.locator("#id_password2").fill(factories.PASSWORD)
    page.get_by_label("我已阅读并同意《个人信息保护说明》").check()
    page.get_by_role("button", name="注册").click()
    page.wait_for_url("**/accounts/me/")
    assert page.get_by_role("heading", name="我的账号").is_visible()
    assert page.get_by_text(mask_resident_id(number)).is_visible()
    assert number not in page.content()
    page.get_by_role("button", name="显示完整信息").click()  # htmx, no inline script
    page.get_by_text(number).wait_for()
    assert "本次查看已记录" in page.content()
    assert CitizenProfile.objects.get().id_number == number


def test_invalid_check_digit_is_shown_and_nothing_is_created(page):
    number = make_resident_id("370102", dt.date(1992, 6, 1), 42)
    wrong = number[:17] + ("0" if number[17] != "0" else "1")
    page.goto("/accounts/signup/")
    page.get_by_label("姓名").fill("陈明")
    page.get_by_label("身份证号码").fill(wrong)
    page.get_by_label("手机号码").fill("13812345678")
    page.locator("#id_password1").fill(factories.PASSWORD)
    page.locator("#id_password2").fill(factories.PASSWORD)
    page.get_by_label("我已阅读并同意《个人信息保护说明》").check()
    page.get_by_role("button", name="注册").click()
    page.get_by_text("身份证号码校验位不正确").wait_for()
    assert re.search(r"/accounts/signup/$", page.url)
    assert not CitizenProfile.objects.exists()


def test_the_page_fixture_catches_csp_violations_and_script_errors(browser, live_server):
    """The guard every browser test relies on: an inline script is blocked and reported."""
    context = browser.new_context(base_url=live_server.url)
    try:
        tab = context.new_page()
        seen = PageProblems()
        tab.on("console", seen.console)
        tab.on("pageerror", seen.page_error)
        tab.on("framenavigated", seen.frame_navigated)
        tab.route(
            "**/csp-probe",
            lambda route: route.fulfill(
                status=200,
                headers={"Content-Security-Policy": "script-src 'self'", "Content-Type": "text/html"},
                body="<!doctype html><script>window.ran = true</script><p>probe</p>",
            ),
        )
        with tab.expect_console_message(lambda message: "Content Security Policy" in message.text):
            tab.goto("/csp-probe")
        with tab.expect_event("pageerror"):
            tab.evaluate("setTimeout(() => { throw new Error('boom') }, 0)")
        assert any("Content Security Policy" in problem for problem in seen.problems), seen.problems
        assert any("boom" in problem for problem in seen.problems), seen.problems
        assert tab.evaluate("window.ran === undefined")
    finally:
        context.close()


def test_after_browser_tests_the_reference_data_is_back():
    """Runs after the tests above (same module, all transactional): what they flushed is restored."""
    from django.db import DatabaseError, connection, transaction

    from pingan.core import timeline
    from pingan.core.models import TimelineEvent, TimelineHead
    from pingan.orgs.models import OrgUnit
    from pingan.testing import browser as plugin

    assert plugin._snapshot is not None
    assert OrgUnit.objects.count() == len(plugin._snapshot["orgs.OrgUnit"]) > 10_000
    assert TimelineHead.objects.count() == len(plugin._snapshot["core.TimelineHead"])
    assert timeline.verify() == []
    factories.staff("370102001")  # the timeline chains accept new events
    assert timeline.verify() == []
    event = TimelineEvent.objects.order_by("pk").last()
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_timelineevent WHERE id = %s", [event.pk])  # still append-only
