"""People and clients for the API tests.

Jurisdictions used throughout: a Jinan station (370102001, 解放路派出所) where the
"inside" officers are posted and the "inside" citizen is served; a Qingdao station for
"outside"; a Jinan city auditor; a provincial administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.middleware.csrf import _get_new_csrf_string
from django_otp import DEVICE_ID_SESSION_KEY
from knox.models import AuthToken
from rest_framework.test import APIClient

from pingan.orgs.models import Level, OrgUnit
from pingan.testing import factories
from pingan.testing.signin import staff_login, totp_device

JINAN_STATION = "370102001"


def qingdao_station_code() -> str:
    return OrgUnit.objects.filter(level=Level.STATION, path__startswith="37/3702/").order_by("path").first().code


@pytest.fixture
def officer() -> Any:
    """Counter officer (may unmask) at the Jinan station."""
    return factories.staff(JINAN_STATION, ["counter_officer"], name="窗口民警", badge="310001")


@pytest.fixture
def dispatcher() -> Any:
    """Dispatcher (may not unmask) at the same station."""
    return factories.staff(JINAN_STATION, ["dispatcher"], name="调度员", badge="310002")


@pytest.fixture
def outsider() -> Any:
    """Counter officer at a Qingdao station: outside Jinan."""
    return factories.staff(qingdao_station_code(), ["counter_officer"], name="青岛民警", badge="320001")


@pytest.fixture
def auditor() -> Any:
    """Auditor of the Jinan city bureau's subtree."""
    return factories.staff("3701", ["auditor"], name="审计员", badge="330001")


@pytest.fixture
def admin() -> Any:
    """Provincial administrator: sees everything."""
    return factories.staff("37", ["administrator"], name="管理员", badge="340001")


@pytest.fixture
def resident() -> Any:
    """A citizen served by the Jinan station."""
    return factories.citizen("370102", name="李四", home_org_code=JINAN_STATION)


@pytest.fixture
def other_resident() -> Any:
    """A citizen served by the Qingdao station."""
    return factories.citizen("370202", name="王五", home_org_code=qingdao_station_code())


@pytest.fixture
def anonymous() -> APIClient:
    return APIClient()


def token_client(user: Any) -> APIClient:
    _, token = AuthToken.objects.create(user=user)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def session_client(user: Any) -> APIClient:
    """A browser session (second factor passed for staff) that sends a valid CSRF token."""
    client = APIClient(enforce_csrf_checks=True)
    if user.kind == "staff":
        staff_login(client, user)
        # staff_login relies on django-otp's login signal, which finds no ``request.user`` on the
        # test client's stand-in request: mark the session as the TOTP step does.
        session = client.session
        session[DEVICE_ID_SESSION_KEY] = totp_device(user).persistent_id
        session.save()
    else:
        client.force_login(user)
    secret = _get_new_csrf_string()
    client.cookies["csrftoken"] = secret
    client.defaults["HTTP_X_CSRFTOKEN"] = secret
    return client


@pytest.fixture(params=["token", "session"])
def client_for(request: pytest.FixtureRequest) -> Callable[[Any], APIClient]:
    """``client_for(user)``: signed in by token or by session (each test runs with both)."""
    return token_client if request.param == "token" else session_client


def error_of(response: Any) -> dict[str, Any]:
    """The error object of an API error response, checked against the one format."""
    assert response["Content-Type"].startswith("application/json"), response["Content-Type"]
    body = response.json()
    assert set(body) == {"error"}, body
    error = body["error"]
    assert {"code", "message"} <= set(error) <= {"code", "message", "fields"}, error
    assert isinstance(error["code"], str)
    assert error["code"]
    assert isinstance(error["message"], str)
    assert error["message"]
    return error
