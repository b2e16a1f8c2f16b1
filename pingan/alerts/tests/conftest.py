"""Fixtures of the alert tests: staff who may and may not publish, subscribers at known
distances from an origin in Jinan, and a publish helper with a controllable clock."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pingan.alerts import actions
from pingan.alerts.models import Alert, Subscription
from pingan.core import geo
from pingan.testing import factories

JINAN = geo.Point(36.65, 117.12)  # the origin of the test alerts (历下区, Jinan)
COUNTY = "370102"  # 历下区公安分局
# Points at known great-circle distances from JINAN (see test_distances_of_the_fixture_points).
PLACES = {
    "taian": geo.Point(36.20, 117.09),  # ~50 km
    "zibo": geo.Point(36.81, 118.05),  # ~85 km
    "weifang": geo.Point(36.71, 119.16),  # ~183 km
    "rizhao": geo.Point(35.42, 119.53),  # ~255 km
    "yantai": geo.Point(37.46, 121.45),  # ~395 km
    "shanghai": geo.Point(31.23, 121.47),  # ~720 km: never reached
}

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def png(name: str = "photo.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.fixture(autouse=True)
def _alerts_env(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    cache.clear()


@pytest.fixture
def investigator():
    """A criminal investigation brigade investigator of 历下区公安分局 (county level): may publish."""
    return factories.staff(f"{COUNTY}-criminal", ["investigator"], name="孙刚")


@pytest.fixture
def station_investigator():
    """An investigator posted at a police station (station level): may not publish."""
    return factories.staff("370102001", ["investigator"], name="钱所侦")


@pytest.fixture
def counter_officer():
    return factories.staff("370102001", ["counter_officer"], name="张伟")


@pytest.fixture
def qingdao_investigator():
    """A county-level investigator in Qingdao: outside Jinan's jurisdiction."""
    return factories.staff("370202-criminal", ["investigator"], name="陈晨")


@pytest.fixture
def county():
    return factories.org(COUNTY)


@pytest.fixture
def subscriber() -> Callable[..., Any]:
    """A citizen subscribed at one of PLACES (or a point)."""

    def make(place: str | geo.Point, *, name: str = "张三") -> Any:
        user = factories.citizen(name=name)
        point = PLACES[place] if isinstance(place, str) else place
        actions.subscription_set(user=user, point=point)
        return user

    return make


@pytest.fixture
def external() -> Callable[..., Subscription]:
    """A partner-app subscriber (no account) at one of PLACES."""

    def make(place: str, ref: str | None = None) -> Subscription:
        point = PLACES[place]
        ref = ref or f"test-{place}-{Subscription.objects.count()}"
        actions.subscriptions_bulk_create(points=[(ref, point.latitude, point.longitude)])
        return Subscription.objects.get(external_ref=ref)

    return make


@pytest.fixture
def publish(investigator, county) -> Callable[..., Alert]:
    """Publish an alert about a test subject; ``missing_for`` before ``now``."""

    def make(
        *,
        subject_id: str = "XR0001",
        missing_for: dt.timedelta = dt.timedelta(minutes=20),
        now: dt.datetime | None = None,
        actor: Any = None,
        **extra: Any,
    ) -> Alert:
        now = now or timezone.now()
        fields: dict[str, Any] = {
            "subject_type": "testing.case",
            "subject_id": subject_id,
            "title": "紧急寻找走失儿童：王**，男，6岁",
            "body": "王**，男，6岁，身高约115厘米，上身穿红色外套。今日14时许在泉城广场附近走失。",
            "origin": JINAN,
            "missing_since": now - missing_for,
            "org": county,
            "actor": actor or investigator,
            "now": now,
        }
        fields.update(extra)
        return actions.alert_publish(**fields)

    return make
