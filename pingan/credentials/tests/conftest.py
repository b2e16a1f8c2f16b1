from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from pingan.credentials import actions
from pingan.credentials.models import Credential
from pingan.testing import factories

TRAFFIC = "3701-traffic"  # 济南市公安局交通警察支队
STATION = "370102001"  # 解放路派出所 (历下区, 济南)


def licence_claims(holder: Any, **changes: str) -> dict[str, str]:
    return {
        **actions.identity_claims(holder),
        "vehicle_class": "C1",
        "first_issued": "2010-03-01",
        "file_number": "370100123456",
        **changes,
    }


def permit_claims(holder: Any) -> dict[str, str]:
    return {
        **actions.identity_claims(holder),
        "address": "山东省济南市历下区解放路1号",
        "residence_since": "2020-05-01",
    }


@pytest.fixture
def traffic_officer():
    """A counter officer of the Jinan traffic police: jurisdiction is the Jinan bureau's subtree."""
    return factories.staff(TRAFFIC, ["counter_officer"], name="交警张")


@pytest.fixture
def station_officer():
    return factories.staff(STATION, ["counter_officer"], name="窗口李")


@pytest.fixture
def holder():
    return factories.citizen(name="赵敏", birth=dt.date(1988, 6, 15))


@pytest.fixture
def licence(holder, traffic_officer) -> Credential:
    return actions.issue(
        kind="driving_licence",
        holder=holder,
        claims=licence_claims(holder),
        actor=traffic_officer,
        org=factories.org(TRAFFIC),
    )


@pytest.fixture
def permit(holder, station_officer) -> Credential:
    return actions.issue(
        kind="residence_permit",
        holder=holder,
        claims=permit_claims(holder),
        actor=station_officer,
        org=factories.org(STATION),
    )
