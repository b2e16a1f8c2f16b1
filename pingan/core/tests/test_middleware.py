from __future__ import annotations

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    "request_args",
    [
        ("get", "/orgs/37%00/", {}),
        ("get", "/orgs/stations/?county=370102%00", {}),
        ("post", "/accounts/login/", {"data": {"username": "a\x00b", "password": "x"}}),
        ("post", "/api/v1/orgs/", {"data": '{"q": "\\u0000"}', "content_type": "application/json"}),
    ],
)
def test_nul_characters_are_refused_before_they_reach_the_database(client, request_args):
    method, url, kwargs = request_args
    response = getattr(client, method)(url, **kwargs)
    assert response.status_code == 400
    assert "NUL" in response.content.decode()


def test_ordinary_requests_pass(client):
    assert client.get(reverse("orgs:station_options"), {"county": "370102"}).status_code == 200


def test_security_headers_are_set(client):
    response = client.get(reverse("site:home"))
    assert response["Permissions-Policy"].startswith("camera=()")
    assert response["X-Frame-Options"] == "DENY"
    assert "X-Request-ID" in response
