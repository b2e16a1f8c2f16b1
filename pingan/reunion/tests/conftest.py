"""Fixtures of the 团圆 tests: staff inside and outside 东昌府区 (Liaocheng), families, a
valid report and helpers that make records through the real actions."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.cache import cache
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from pingan.core import context
from pingan.reunion import actions
from pingan.reunion.models import PersonRecord
from pingan.testing import factories

COUNTY = "371502"  # 东昌府区公安分局, Liaocheng
STATION = "371502001"  # 古楼派出所
OTHER_STATION = "371502002"  # 柳园派出所, same county
JINAN_STATION = "370102001"  # 解放路派出所, another city
GULOU = (36.112343, 115.986228)  # the 古楼 station's coordinates: the nearest station to this point is 古楼

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x00" * 64


def png(name: str = "photo.png", content: bytes = PNG) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, content, content_type="image/png")


@pytest.fixture(autouse=True)
def _reunion_env(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    cache.clear()


@pytest.fixture
def father():
    return factories.citizen("371502", name="林建国", birth=dt.date(1965, 2, 3), home_org_code=STATION)


@pytest.fixture
def stranger():
    return factories.citizen("370102", name="赵敏", birth=dt.date(1988, 6, 15), home_org_code=JINAN_STATION)


@pytest.fixture
def investigator():
    """The county criminal brigade: jurisdiction 东昌府区, may publish alerts."""
    return factories.staff(f"{COUNTY}-criminal", ["investigator"], name="孙刚")


@pytest.fixture
def community():
    return factories.staff(STATION, ["community_officer"], name="社区民警")


@pytest.fixture
def counter():
    return factories.staff(STATION, ["counter_officer"], name="窗口民警")


@pytest.fixture
def leader():
    return factories.staff(COUNTY, ["bureau_leader"], name="局领导")


@pytest.fixture
def outsider():
    """An investigator of another city (Jinan): outside 东昌府区."""
    return factories.staff("3701-criminal", ["investigator"], name="济南侦查员")


@pytest.fixture
def examiner():
    return factories.staff("37-criminal", ["dna_examiner"], name="周慧")


def missing_data(**changes: Any) -> dict[str, Any]:
    """A valid online report of a missing six-year-old last seen an hour ago near 古楼."""
    now = timezone.localtime(context.now())
    seen = now - dt.timedelta(hours=1)
    data: dict[str, Any] = {
        "name": "林小军",
        "sex": "M",
        "birth_date": (now.date() - dt.timedelta(days=365 * 6 + 30)).isoformat(),
        "circumstance": "lost",
        "event_date": seen.date().isoformat(),
        "event_time": seen.strftime("%H:%M"),
        "place_text": "东昌府区古楼街道集市",
        "division_code": COUNTY,
        "latitude": str(GULOU[0]),
        "longitude": str(GULOU[1]),
        "height_cm": "118",
        "marks": "左臂内侧有褐色胎记",
        "mark_tags": ["胎记"],
        "reporter_relation": "father",
        "public_description": "身穿蓝色上衣",
        "consent": True,
    }
    data.update(changes)
    return data


def relatives_data(**changes: Any) -> list[dict[str, Any]]:
    rows = [
        {"relation": "father", "name": "林建国", "phone": "13906350001", "can_give_dna": True},
        {"relation": "mother", "name": "王秀英", "phone": "13906350002", "can_give_dna": True},
    ]
    rows[0].update(changes)
    return rows


def found_data(**changes: Any) -> dict[str, Any]:
    """A boy of about six found wandering near 古楼 yesterday."""
    today = timezone.localdate(context.now())
    data: dict[str, Any] = {
        "sex": "M",
        "age_min": "5",
        "age_max": "7",
        "circumstance": "wandering",
        "event_date": (today - dt.timedelta(days=1)).isoformat(),
        "place_text": "东昌府区柳园街道",
        "division_code": COUNTY,
        "latitude": "36.081288",
        "longitude": "115.938476",
        "height_cm": "117",
        "marks": "左臂有胎记",
        "mark_tags": ["胎记"],
    }
    data.update(changes)
    return data


@pytest.fixture
def report(father) -> Callable[..., PersonRecord]:
    """A family's online report (in ``reported``)."""

    def make(reporter: Any = None, *, key: str = "", relatives: list | None = None, **changes: Any) -> PersonRecord:
        return actions.record_report(
            reporter=reporter or father,
            kind="missing",
            data=missing_data(**changes),
            relatives=relatives_data() if relatives is None else relatives,
            idempotency_key=key,
        )

    return make


@pytest.fixture
def active_missing(report, community) -> PersonRecord:
    record = report()
    return actions.record_verify(record=record, actor=community, note="已到家中核实")


@pytest.fixture
def register(investigator) -> Callable[..., PersonRecord]:
    """A record registered by the county investigator (active at once)."""

    def make(kind: str = "found", actor: Any = None, **changes: Any) -> PersonRecord:
        data = found_data(**changes) if kind == "found" else missing_data(**changes)
        if kind == "seeker":
            data = found_data(
                **{
                    "name": "陈军",
                    "circumstance": "adopted",
                    "age_min": "3",
                    "age_max": "5",
                    "event_date": "1997-08-01",
                    "place_text": "四川省南充市顺庆区",
                    "division_code": "511302",
                    "latitude": "30.796",
                    "longitude": "106.092",
                    **changes,
                }
            )
        relatives = relatives_data() if kind == "missing" else []
        return actions.record_register(actor=actor or investigator, kind=kind, data=data, relatives=relatives)

    return make
