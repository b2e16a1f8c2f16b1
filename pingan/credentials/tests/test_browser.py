"""Credentials in a real browser: the wallet shows a live QR code; the public verifier says
VALID in black, and INVALID in red once the credential is revoked."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from pingan.credentials import actions
from pingan.credentials.tests.conftest import TRAFFIC, licence_claims
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_wallet_qr_and_verifier(page, live_server):
    holder = factories.citizen(name="赵敏", birth=dt.date(1988, 6, 15))
    officer = factories.staff(TRAFFIC, ["counter_officer"], name="交警张")
    licence = actions.issue(
        kind="driving_licence", holder=holder, claims=licence_claims(holder), actor=officer, org=factories.org(TRAFFIC)
    )

    browser_sign_in(page, holder, live_server)
    page.goto("/credentials/")
    card = page.locator(".cred-card", has_text="电子驾驶证")
    assert card.locator('[data-testid="status"]').inner_text() == "有效"
    card.get_by_role("link", name="出示").click()
    page.wait_for_url(re.compile(rf"/credentials/{licence.serial}/$"))
    qr = page.locator('img[data-testid="qr"]')
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator('[data-testid="status"]').evaluate("el => getComputedStyle(el).color") == "rgb(0, 0, 0)"
    first_time = page.locator('[data-testid="generated-at"]').inner_text()
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", first_time)

    # Tick "aged 18 or over" and untick the vehicle classes: htmx swaps in a new QR.
    expect(page.locator('[data-testid="disclosing"]')).to_have_text("本次出示：驾驶证有效、准驾车型")
    page.get_by_label("年满18周岁").check()
    page.get_by_label("准驾车型").uncheck()
    expect(page.locator('[data-testid="disclosing"]')).to_have_text("本次出示：驾驶证有效、年满18周岁")
    payload = page.locator('[data-testid="payload"]').input_value()

    # Anyone verifies it on the public page (signed out).
    page.context.clear_cookies()
    page.goto("/credentials/verify/")
    page.fill("#id_payload", payload)
    page.get_by_role("button", name="核验").click()
    verdict = page.locator('[data-testid="verdict"]')
    assert verdict.inner_text() == "有效 VALID"
    assert verdict.evaluate("el => getComputedStyle(el).color") == "rgb(0, 0, 0)"
    disclosed = page.locator('[data-testid="disclosed"]').inner_text()
    assert "年满18周岁" in disclosed
    assert "是" in disclosed
    assert "准驾车型" not in disclosed
    assert "赵敏" not in page.content()

    # Revoked meanwhile: the same payload is now INVALID, in red, with the reason.
    actions.revoke(licence, actor=officer, reason="驾驶证被依法吊销")
    page.goto("/credentials/verify/")
    page.fill("#id_payload", payload)
    page.get_by_role("button", name="核验").click()
    assert verdict.inner_text() == "无效 INVALID"
    assert verdict.evaluate("el => getComputedStyle(el).color") == "rgb(200, 16, 46)"
    assert "证照已被撤销" in page.locator('[data-testid="reason"]').inner_text()
    assert page.locator('[data-testid="disclosed"]').count() == 0

    # The holder's wallet now shows the credential in red, without a QR code.
    browser_sign_in(page, holder, live_server)
    page.goto(f"/credentials/{licence.serial}/")
    status = page.locator('[data-testid="status"]')
    assert status.inner_text() == "已撤销"
    assert status.evaluate("el => getComputedStyle(el).color") == "rgb(200, 16, 46)"
    assert page.locator('img[data-testid="qr"]').count() == 0
