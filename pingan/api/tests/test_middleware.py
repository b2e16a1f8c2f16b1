"""Under /api/, errors made outside DRF are the API's JSON too."""

from __future__ import annotations

import pytest
from django.test import Client

from pingan.api.tests.conftest import error_of

pytestmark = pytest.mark.django_db


def test_a_middleware_refusal_becomes_json_and_keeps_its_message(anonymous):
    response = anonymous.get("/api/v1/orgs/", {"q": "a\x00b"})
    assert response.status_code == 400
    error = error_of(response)
    assert error["code"] == "bad_request"
    assert "NUL" in error["message"]
    # Headers the other middleware set survive the rewrite.
    assert response["Permissions-Policy"].startswith("camera=()")
    assert response["X-Content-Type-Options"] == "nosniff"


def test_an_unknown_host_under_api_is_json(anonymous):
    response = anonymous.get("/api/v1/orgs/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert error_of(response)["code"] == "bad_request"


@pytest.mark.urls("pingan.api.tests.urls")
def test_a_crash_outside_drf_is_a_json_500():
    response = Client(raise_request_exception=False).get("/api/test-plain/")
    assert response.status_code == 500
    assert error_of(response) == {"code": "server_error", "message": "系统出现错误，已记录。请稍后重试。"}
    assert b"crash outside DRF" not in response.content


def test_pages_outside_api_are_left_alone(client):
    response = client.get("/orgs/37%00/")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/plain")


def test_successful_api_responses_are_left_alone(anonymous):
    response = anonymous.get("/api/docs/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
