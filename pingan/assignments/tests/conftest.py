from __future__ import annotations

import pytest

from pingan.assignments import actions
from pingan.assignments.models import Assignment
from pingan.testing import factories


@pytest.fixture
def leader():
    """A Jinan city bureau leader."""
    return factories.staff("3701", ["bureau_leader"], name="王局长")


@pytest.fixture
def chief():
    """The chief of 解放路派出所 (Lixia district, Jinan)."""
    return factories.staff("370102001", ["station_chief"], name="李所长")


@pytest.fixture
def officer():
    return factories.staff("370102001", ["community_officer"], name="赵警官")


@pytest.fixture
def task(leader) -> Assignment:
    return actions.assignment_create(
        actor=leader,
        title="走访辖区独居老人",
        org=factories.org("370102001"),
        working_days=5,
        description="逐户走访并登记需求",
    )
