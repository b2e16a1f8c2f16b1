"""Swagger UI in a real browser: it renders the schema and calls the API under the strict CSP
(the ``page`` fixture fails the test on any CSP violation, console error or script error)."""

from __future__ import annotations

import re

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_swagger_ui_renders_and_calls_the_api_under_the_csp(page):
    response = page.goto("/api/docs/")
    assert response.status == 200
    assert "script-src 'self'" in response.headers["content-security-policy"]
    orgs = page.locator(".opblock-summary-path", has_text=re.compile(r"^/api/v1/orgs/$"))
    orgs.first.wait_for()
    assert page.locator(".opblock").count() >= 9
    orgs.first.click()
    page.get_by_role("button", name="Try it out").first.click()
    page.get_by_role("button", name="Execute").first.click()
    status = page.locator(".live-responses-table tr.response .response-col_status").first
    status.wait_for()
    assert status.inner_text().strip() == "200"
    assert "山东省公安厅" in page.locator(".live-responses-table .microlight").first.inner_text()
