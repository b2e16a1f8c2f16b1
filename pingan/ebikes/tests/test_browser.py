"""The dealer's batch import in a real browser: upload a file of sales, read the per-row
report, download the errors, then inspect one of its sales."""

from __future__ import annotations

import re

import pytest

from pingan.ebikes.models import EBike
from pingan.ebikes.tests.test_imports import NEWCOMER_ID, as_csv, row, wrong_check_digit
from pingan.testing import factories
from pingan.testing.signin import browser_sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_dealer_uploads_a_batch_and_reads_the_row_report(page, live_server, dealer, dealer_user):
    buyer = factories.citizen(name="赵敏", home_org_code="370102001")
    content = as_csv(
        [
            row(buyer.citizen.id_number, frame_number="QQ24A0000001"),
            row(NEWCOMER_ID, frame_number="QQ24A0000002"),
            row(wrong_check_digit(buyer.citizen.id_number), frame_number="QQ24A0000003"),
            row(buyer.citizen.id_number, frame_number="QQ24A0000001"),
        ]
    )
    browser_sign_in(page, dealer_user, live_server)
    page.goto("/ebikes/")
    page.wait_for_url(re.compile(r"/ebikes/dealer/$"))
    page.set_input_files(
        'input[type="file"]', files=[{"name": "九月销售.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.locator('form[data-testid="upload-form"] button[type=submit]').click()
    page.wait_for_url(re.compile(r"/ebikes/imports/\d+/$"))
    assert page.locator('[data-testid="created"]').inner_text() == "2"
    assert page.locator('[data-testid="failed"]').inner_text() == "2"
    assert "导入完成：新建 2 条" in page.locator(".messages").inner_text()
    bad_id = page.locator('tr[data-row="4"]').inner_text()
    assert "购车人身份证号码" in bad_id
    assert "校验位" in bad_id
    assert "第2行重复" in page.locator('tr[data-row="5"]').inner_text()
    with page.expect_download() as download:
        page.locator('[data-testid="error-report"]').click()
    report = download.value.path().read_bytes().decode("utf-8-sig")
    assert report.splitlines()[0] == "行号,车架号,列,错误说明"
    assert len(report.splitlines()) == 3

    # The same file again: nothing new.
    page.goto("/ebikes/dealer/")
    page.set_input_files(
        'input[type="file"]', files=[{"name": "九月销售.csv", "mimeType": "text/csv", "buffer": content}]
    )
    page.locator('form[data-testid="upload-form"] button[type=submit]').click()
    page.wait_for_url(re.compile(r"/ebikes/imports/\d+/$"))
    assert page.locator('[data-testid="created"]').inner_text() == "0"
    assert page.locator('[data-testid="existing"]').inner_text() == "2"
    assert EBike.objects.count() == 2

    # One of the sales, inspected at the shop.
    page.locator('tr[data-row="2"] a').click()
    page.wait_for_url(re.compile(r"/ebikes/\d+/$"))
    page.locator('textarea[name="note"]').first.fill("门店查验合格")
    page.locator('button[data-action="inspect"]').click()
    page.wait_for_load_state()
    assert page.locator('[data-testid="state"]').inner_text() == "已查验待上牌"
