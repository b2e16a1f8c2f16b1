"""People for the accounts page tests.

Jurisdictions: a Jinan station (370102001) where the "inside" officers are posted and the
"inside" citizen is served; a Qingdao station for "outside"; the Jinan city bureau for the
city administrator and the auditor; the province for the provincial administrator.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from pingan.orgs.models import Level, OrgUnit
from pingan.testing import factories
from pingan.testing.signin import staff_login

JINAN_STATION = "370102001"
JINAN_STATION_2 = "370102002"


def qingdao_station_code() -> str:
    return OrgUnit.objects.filter(level=Level.STATION, path__startswith="37/3702/").order_by("path").first().code


@pytest.fixture
def counter() -> Any:
    return factories.staff(JINAN_STATION, ["counter_officer"], name="窗口民警", badge="410001")


@pytest.fixture
def community() -> Any:
    """Inside, but a role the citizen lookup does not serve."""
    return factories.staff(JINAN_STATION, ["community_officer"], name="社区民警", badge="410002")


@pytest.fixture
def chief() -> Any:
    return factories.staff(JINAN_STATION, ["station_chief"], name="所长", badge="410003")


@pytest.fixture
def outsider() -> Any:
    """Counter officer at a Qingdao station."""
    return factories.staff(qingdao_station_code(), ["counter_officer"], name="青岛民警", badge="420001")


@pytest.fixture
def auditor() -> Any:
    return factories.staff("3701", ["auditor"], name="审计员", badge="430001")


@pytest.fixture
def city_admin() -> Any:
    """Administrator of the Jinan city bureau's subtree."""
    return factories.staff("3701", ["administrator"], name="济南管理员", badge="440001")


@pytest.fixture
def qingdao_admin() -> Any:
    return factories.staff("3702", ["administrator"], name="青岛管理员", badge="440002")


@pytest.fixture
def province_admin() -> Any:
    return factories.staff("37", ["administrator"], name="省厅管理员", badge="440003")


@pytest.fixture
def resident() -> Any:
    """A citizen served by the Jinan station."""
    return factories.citizen("370102", name="李四", home_org_code=JINAN_STATION)


@pytest.fixture
def other_resident() -> Any:
    """A citizen served by a Qingdao station."""
    return factories.citizen("370202", name="王五", home_org_code=qingdao_station_code())


@pytest.fixture
def partner() -> Any:
    return factories.partner("370102")


def signed_in(user: Any) -> Client:
    """A client signed in as ``user`` as the site does it (staff: TOTP passed)."""
    client = Client()
    if user is None:
        return client
    if user.kind == "staff":
        return staff_login(client, user)
    client.force_login(user)
    return client


@pytest.fixture
def client_for() -> Callable[[Any], Client]:
    return signed_in
