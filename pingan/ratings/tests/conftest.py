"""A test-only rateable subject type backed by a dict (no dependency on e-services)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from pingan.ratings import actions, subjects
from pingan.ratings.models import Rating, Rectification
from pingan.testing import factories

SUBJECT_TYPE = "testing.service"
STATION = "370102001"  # 解放路派出所, Jinan


class Services(dict):
    """subject id -> Rateable; ``add`` makes one."""

    def add(
        self,
        owner: Any,
        *,
        subject_id: str | None = None,
        org: str = STATION,
        finished: bool = True,
        label: str = "居民身份证换领",
        channel: str = "counter",
    ) -> str:
        subject_id = subject_id or f"S{len(self) + 1:04d}"
        self[subject_id] = subjects.Rateable(
            owner=owner.pk,
            org=factories.org(org),
            finished=finished,
            label=label,
            url=f"/services/applications/{subject_id}/",
            channel=channel,
        )
        return subject_id


@pytest.fixture
def services() -> Iterator[Services]:
    store = Services()
    with subjects.subject_types.unfrozen():
        subjects.register(SUBJECT_TYPE, store.get, demo_subjects=lambda limit: sorted(store)[:limit])
        yield store


@pytest.fixture(autouse=True)
def _quiet_outbox(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    cache.clear()


@pytest.fixture
def resident():
    return factories.citizen(name="刘晓燕", phone="13712345678")


@pytest.fixture
def chief():
    return factories.staff(STATION, ["station_chief"], name="李所长")


@pytest.fixture
def officer():
    return factories.staff(STATION, ["community_officer"], name="赵警官")


@pytest.fixture
def rate(services, resident) -> Callable[..., Rating]:
    """Rate a new finished service of ``resident`` (or ``owner``)."""

    def make(level: int = 5, *, owner: Any = None, comment: str = "", **service: Any) -> Rating:
        person = owner or resident
        subject_id = services.add(person, **service)
        if level <= 2 and not comment:
            comment = "排队时间太长，窗口只开了一个"
        return actions.rate(
            actor=person, subject_type=SUBJECT_TYPE, subject_id=subject_id, level=level, comment=comment
        )

    return make


@pytest.fixture
def bad(rate) -> Rectification:
    """An open rectification at the Jinan station."""
    return rate(2).rectification
