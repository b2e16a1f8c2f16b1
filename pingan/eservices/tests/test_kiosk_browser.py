"""The self-service kiosk in a real browser: a person picks a category and an item, proves
who they are with the ID number and the code from the SMS (read from the SMS gateway's
file, as the phone would receive it), fills the form, gets the receipt and ends the
session — after which the screen shows nothing of them. And the idle reset."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from pingan.core import identity
from pingan.eservices import catalog
from pingan.eservices.models import Application
from pingan.eservices.tests.test_kiosk import TEST_CATALOGUE
from pingan.testing import factories

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

KIOSK = "370102001-01"


@pytest.fixture
def kiosk_setup(settings, tmp_path, monkeypatch):
    """The test catalogue, SMS to files under tmp_path, short screen timers if asked."""
    directory = tmp_path / "catalogue"
    directory.mkdir()
    (directory / "kiosk_test.yaml").write_text(TEST_CATALOGUE, encoding="utf-8")
    monkeypatch.setattr(catalog, "_cache", catalog.load(directory))
    settings.KIOSK_CODE = ""
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.FileBackend"
    settings.NOTIFY_SMS_DIR = str(tmp_path / "sms")
    return tmp_path / "sms"


def code_sent_to(sms_dir: Path, phone: str) -> str:
    """The code in the newest SMS the gateway file holds for ``phone``."""
    codes = []
    for path in sorted(sms_dir.glob("*.jsonl")):
        for line in path.read_text(encoding="utf-8").splitlines():
            message = json.loads(line)
            if message["phone"][-11:] == phone[-11:]:
                match = re.search(r"验证码(\d{6})", message["text"])
                if match:
                    codes.append(match.group(1))
    assert codes, f"no code was sent to {identity.mask_phone(phone)}"
    return codes[-1]


def assert_touch_targets(page) -> None:
    """Everything to touch on the screen is at least 64 px high."""
    small = page.evaluate(
        """() => [...document.querySelectorAll(
              "a, button, input:not([type=hidden]):not([type=checkbox]), select, textarea")]
            .filter((el) => el.offsetParent !== null)
            .map((el) => [el.outerHTML.slice(0, 80), el.getBoundingClientRect().height])
            .filter(([, height]) => height < 64)"""
    )
    assert small == [], small


def identify_with_the_keypad(page, sms_dir: Path, person) -> None:
    number = person.citizen.id_number
    for key in number:
        page.locator(f'[data-keypad="id_number"] [data-key="{key}"]').click()
    assert page.locator("#id_number").input_value() == number
    page.get_by_test_id("send-code").click()
    page.wait_for_url(re.compile(r"/services/kiosk/verify/$"))
    assert page.get_by_test_id("id-masked").inner_text() == identity.mask_resident_id(number)
    page.fill("#code", code_sent_to(sms_dir, person.citizen.phone))
    page.get_by_test_id("verify").click()


def test_apply_at_the_kiosk_and_leave_nothing_on_screen(page, kiosk_setup):
    person = factories.citizen("370102", name="张三丰", home_org_code="370102002")
    number = person.citizen.id_number

    page.goto(f"/services/kiosk/?kiosk={KIOSK}")
    assert "解放路派出所" in page.get_by_test_id("kiosk").inner_text()
    assert page.locator(".k-tile").count() == 4
    assert_touch_targets(page)
    page.locator('[data-category="id_card"]').click()
    page.locator('[data-service="kiosk_test_identity_proof"]').click()
    assert_touch_targets(page)
    page.get_by_test_id("start").click()
    page.wait_for_url(re.compile(r"/services/kiosk/identify/"))
    assert "临时身份证明开具" in page.locator("main").inner_text()
    assert_touch_targets(page)

    identify_with_the_keypad(page, kiosk_setup, person)
    page.wait_for_url(re.compile(r"/services/kiosk/s/kiosk_test_identity_proof/apply/$"))
    shown = page.get_by_test_id("person").inner_text()
    assert "张**" in shown
    assert identity.mask_resident_id(number) in shown
    assert "张三丰" not in page.content()
    assert number not in page.content()
    assert_touch_targets(page)

    page.select_option("#id_purpose", "乘坐火车")
    page.fill("#id_phone", "13905310001")
    page.get_by_test_id("submit").click()
    page.wait_for_url(re.compile(r"/services/kiosk/receipt/SQ\d+/$"))
    reference = page.get_by_test_id("reference").inner_text()
    assert page.get_by_test_id("state").inner_text() == "已办结"
    assert page.get_by_test_id("unit").inner_text() == "解放路派出所"
    assert "已当场办结" in page.get_by_test_id("next-steps").inner_text()
    assert number not in page.content()
    application = Application.objects.get(reference=reference)
    assert application.state == "completed"
    assert application.channel == "kiosk"

    # Printed, the receipt stands alone: no kiosk chrome, no buttons.
    page.emulate_media(media="print")
    assert page.get_by_test_id("receipt").is_visible()
    assert not page.locator(".k-header").is_visible()
    assert not page.get_by_test_id("print").is_visible()
    page.emulate_media(media="screen")

    page.get_by_test_id("end").click()
    page.wait_for_url(re.compile(r"/services/kiosk/\?done=user$"))
    assert page.get_by_test_id("notice").is_visible()
    for trace in ("张三丰", "张**", number, identity.mask_resident_id(number), reference, "13905310001"):
        assert trace not in page.content(), trace
    assert page.get_by_test_id("end").count() == 0
    assert page.get_by_test_id("person").count() == 0

    # Back to the receipt: not from a cache, and the session is gone.
    page.go_back()
    page.wait_for_load_state()
    assert reference not in page.content()
    assert "张**" not in page.content()


def test_an_idle_screen_warns_then_resets(page, kiosk_setup, settings):
    settings.KIOSK_WARNING_SECONDS = 2
    settings.KIOSK_COUNTDOWN_SECONDS = 3
    person = factories.citizen("370102", name="李四", home_org_code="370102001")

    page.goto(f"/services/kiosk/?kiosk={KIOSK}")
    page.goto("/services/kiosk/identify/?service=kiosk_test_driving_record")
    identify_with_the_keypad(page, kiosk_setup, person)
    page.wait_for_url(re.compile(r"/apply/$"))
    assert "李*" in page.get_by_test_id("person").inner_text()

    page.locator("#kiosk-idle").wait_for(state="visible", timeout=8000)
    page.locator("[data-keep-alive]").click()  # still here: the warning goes away
    assert page.locator("#kiosk-idle").is_hidden()

    page.wait_for_url(re.compile(r"/services/kiosk/\?done=idle$"), timeout=15000)
    assert "李*" not in page.content()
    assert page.get_by_test_id("person").count() == 0
    assert "自动结束" in page.get_by_test_id("notice").inner_text()
