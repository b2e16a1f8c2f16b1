"""Fixtures for the core machinery's tests.

``pingan.core`` may not import domain apps (import-linter contract), so people and units
are made through the app registry rather than ``pingan.testing.factories``.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model

from pingan.core.tests.workflowapp.models import Ticket

STATION = "370102001"  # a Jinan station
_numbers = itertools.count(1)


def org(code: str) -> Any:
    return apps.get_model("orgs", "OrgUnit").objects.get(code=code)


def other_station() -> Any:
    """A station in Qingdao: outside the Jinan station's jurisdiction."""
    return apps.get_model("orgs", "OrgUnit").objects.filter(level="station", path__under="37/3702/").first()


def make_staff(org_code: str = STATION, roles: Sequence[str] = ("counter_officer",), name: str = "测试民警") -> Any:
    user = get_user_model().objects.create_user(username=f"{900000 + next(_numbers)}", kind="staff", name=name)
    post = apps.get_model("accounts", "Post")
    for role in roles:
        post.objects.create(user=user, org=org(org_code), role=role)
    return user


def make_citizen(name: str = "张三") -> Any:
    return get_user_model().objects.create_user(username=f"c{next(_numbers)}", kind="citizen", name=name)


@pytest.fixture
def officer() -> Any:
    return make_staff(STATION, ["counter_officer"], name="窗口民警")


@pytest.fixture
def officer2() -> Any:
    return make_staff(STATION, ["counter_officer"], name="另一位窗口民警")


@pytest.fixture
def chief() -> Any:
    return make_staff(STATION, ["station_chief"], name="所长")


@pytest.fixture
def chief2() -> Any:
    return make_staff(STATION, ["station_chief"], name="副所长")


@pytest.fixture
def outsider() -> Any:
    """A counter officer and chief at a Qingdao station: no jurisdiction over Jinan tickets."""
    return make_staff(other_station().code, ["counter_officer", "station_chief"], name="青岛民警")


@pytest.fixture
def auditor() -> Any:
    return make_staff("370102", ["auditor"], name="审计员")


@pytest.fixture
def citizen() -> Any:
    return make_citizen("张三")


@pytest.fixture
def other_citizen() -> Any:
    return make_citizen("李四")


@pytest.fixture
def make_ticket(citizen: Any) -> Callable[..., Ticket]:
    def make(**fields: Any) -> Ticket:
        fields.setdefault("org", org(STATION))
        fields.setdefault("owner", citizen)
        fields.setdefault("title", "户口迁移咨询")
        return Ticket.objects.create(**fields)

    return make
