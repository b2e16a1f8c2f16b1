"""The 团圆 indicators: people found, families reunited, median days from report to reunion."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.utils import timezone

from pingan.core import context
from pingan.core.catalog import catalog_path
from pingan.indicators import engine, periods
from pingan.indicators.declarations import Kind, Unit, load_file
from pingan.orgs.models import OrgUnit
from pingan.reunion import actions
from pingan.reunion import indicators as queries
from pingan.reunion.tests.conftest import missing_data, relatives_data
from pingan.testing import factories

pytestmark = pytest.mark.django_db

YEAR = 2021


def declared(code: str):
    return load_file(catalog_path("indicators", f"{code}.yaml"))


def at(month: int, day: int, hour: int = 10) -> dt.datetime:
    return timezone.make_aware(dt.datetime(YEAR, month, day, hour))


def reunite(investigator, *, reported: dt.datetime, reunited: dt.datetime, org: str | None = None) -> None:
    """A missing child reported at ``reported`` and found and reunited at ``reunited``."""
    unit = OrgUnit.objects.get(code=org) if org else None
    with context.backdated(reported):
        missing = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(event_date=reported.date().isoformat(), event_time="08:00"),
            relatives=relatives_data(),
            org=unit,
        )
    with context.backdated(reunited - dt.timedelta(hours=2)):
        found = actions.record_register(
            actor=investigator,
            kind="found",
            data={
                "sex": "M",
                "age_min": "5",
                "age_max": "7",
                "circumstance": "rescued",
                "event_date": reunited.date().isoformat(),
                "place_text": "某地",
            },
            org=unit,
        )
    with context.backdated(reunited):
        actions.reunion_record(missing=missing, found=found, method="dna", actor=investigator)


def found_by_family(investigator, *, reported: dt.datetime, closed: dt.datetime) -> None:
    with context.backdated(reported):
        record = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(event_date=reported.date().isoformat(), event_time="08:00"),
            relatives=relatives_data(),
        )
    with context.backdated(closed):
        actions.record_close(record=record, actor=investigator, reason="found_by_family")


def test_the_declarations_load():
    assert declared("reunion_people_found").numerator == "reunion.people_found"
    days = declared("reunion_days_to_reunion")
    assert (days.unit, days.kind, days.numerator, days.denominator) == (
        Unit.DAYS,
        Kind.FLOW,
        "reunion.median_days_weighted",
        "reunion.families_reunited",
    )
    assert declared("reunion_families_reunited").unit == Unit.COUNT


def test_found_reunited_and_median_days(investigator):
    jinan = factories.staff("3701-criminal", ["investigator"])
    reunite(investigator, reported=at(1, 1), reunited=at(1, 3))  # 2 days
    reunite(investigator, reported=at(2, 1), reunited=at(2, 11))  # 10 days
    reunite(investigator, reported=at(1, 1), reunited=at(12, 31, 12))  # 364 days
    reunite(jinan, reported=at(3, 1), reunited=at(3, 5), org="370102")  # 4 days, Jinan
    reunite(investigator, reported=at(3, 1), reunited=timezone.make_aware(dt.datetime(YEAR + 1, 1, 2, 12)))  # next year
    found_by_family(investigator, reported=at(5, 1), closed=at(5, 2))
    year = periods.parse(str(YEAR))
    province, liaocheng = factories.org("37"), factories.org("3715")

    assert queries.families_reunited(under=province, start=year.start, end=year.end, group_by_depth=1) == {
        "37/3715/": 3,
        "37/3701/": 1,
    }
    assert queries.people_found(under=province, start=year.start, end=year.end, group_by_depth=None) == {"37/": 5}
    assert queries.people_found(under=liaocheng, start=year.start, end=year.end, group_by_depth=None) == {"37/3715/": 4}
    days = engine.compute(declared("reunion_days_to_reunion"), org=liaocheng, period=year)
    assert days.current.value == Decimal(10)  # median of 2, 10, 364
    assert engine.compute(declared("reunion_days_to_reunion"), org=province, period=year).current.value == Decimal(7)
    assert engine.compute(declared("reunion_families_reunited"), org=province, period=year).current.value == 4
    assert engine.compute(declared("reunion_people_found"), org=province, period=year).current.value == 5
    # A period without reunions: the median is "not available", not 0 days.
    quiet = engine.compute(declared("reunion_days_to_reunion"), org=province, period=periods.parse(str(YEAR - 1)))
    assert quiet.current.value is None
