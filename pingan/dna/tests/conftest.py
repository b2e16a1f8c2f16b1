"""Fixtures of the DNA store's tests: staff of each kind, 团圆 records made through the
reunion app's own actions, sampling points, and people simulated from the shipped
frequency table (true parents and child, a sibling, unrelated look-alikes)."""

from __future__ import annotations

import datetime as dt
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from django.core.cache import cache

from pingan.core import context
from pingan.dna import actions, screening
from pingan.dna import kinship as engine
from pingan.dna.kinship.frequencies import DEFAULT_SEARCH_MARKERS
from pingan.dna.kinship.simulate import PedigreeSimulator
from pingan.dna.models import PointKind, Profile, SamplingPoint
from pingan.reunion import actions as reunion_actions
from pingan.testing import factories

COUNTY = "371502"  # 东昌府区, Liaocheng
_numbers = itertools.count(1)


@pytest.fixture(autouse=True)
def _fresh(settings: Any) -> Iterator[None]:
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.NOTIFY_SMS_BACKEND = "pingan.notify.sms.LocmemBackend"
    cache.clear()
    screening.clear_cache()
    yield
    screening.clear_cache()


@pytest.fixture
def examiner() -> Any:
    return factories.staff("37-criminal", ["dna_examiner"], name="周检验")


@pytest.fixture
def investigator() -> Any:
    return factories.staff(f"{COUNTY}-criminal", ["investigator"], name="孙刚")


@pytest.fixture
def counter_officer() -> Any:
    return factories.staff("370102001", ["counter_officer"], name="张伟")


@pytest.fixture
def point() -> SamplingPoint:
    county = factories.org(COUNTY)
    return SamplingPoint.objects.create(
        code=f"PH{COUNTY}",
        name="东昌府区人民医院",
        kind=PointKind.HOSPITAL,
        address="东昌府区人民医院门诊楼一层",
        latitude=county.latitude,
        longitude=county.longitude,
        org=county,
        division_code=COUNTY,
    )


def _data(kind: str, *, sex: str = "M", born: dt.date = dt.date(1993, 3, 8)) -> dict[str, Any]:
    event = dt.date(1997, 6, 12) if kind == "missing" else dt.date(2025, 3, 10)
    data: dict[str, Any] = {
        "name": "林小军" if kind != "found" else "",
        "sex": sex,
        "circumstance": {"missing": "abducted", "found": "rescued", "seeker": "adopted"}[kind],
        "event_date": event,
        "place_text": "聊城市东昌府区古楼街道",
        "division_code": COUNTY,
        "marks": "左臂内侧褐色胎记",
        "mark_tags": ["胎记"],
        "latitude": 36.4562,
        "longitude": 115.9857,
    }
    if kind == "missing":
        data["birth_date"] = born
        data["reporter_relation"] = "father"
    else:
        age = event.year - born.year
        data["age_min"], data["age_max"] = age - 1, age + 1
    return data


@pytest.fixture
def make_record(investigator: Any) -> Callable[..., Any]:
    """A verified 团圆 record made by the Liaocheng investigator."""

    def make(kind: str = "missing", *, relations: tuple[str, ...] = ("father", "mother"), **data: Any) -> Any:
        relatives = []
        if kind == "missing":
            relatives = [
                {"relation": relation, "name": f"亲属{index}", "phone": f"139063500{index:02d}", "can_give_dna": True}
                for index, relation in enumerate(relations, start=1)
            ]
        with context.acting_as(investigator, channel="command"):
            return reunion_actions.record_register(
                actor=investigator,
                kind=kind,
                data={**_data(kind), **data},
                relatives=relatives,
                org=factories.org(COUNTY),
                channel="station",
            )

    return make


class People:
    """Simulated genotypes: ``family()`` gives mother, father, child and a full sibling;
    ``stranger()`` an unrelated person."""

    def __init__(self, seed: int = 7, markers: tuple[str, ...] = tuple(DEFAULT_SEARCH_MARKERS)) -> None:
        self.sim = PedigreeSimulator(screening.table(), markers, seed=seed)

    def _one(self, people: Any) -> engine.Profile:
        return self.sim.to_profiles(people)[0]

    def family(self) -> dict[str, engine.Profile]:
        mother, father = self.sim.founders(1), self.sim.founders(1)
        return {
            "mother": self._one(mother),
            "father": self._one(father),
            "child": self._one(self.sim.child(mother, father)),
            "full_sibling": self._one(self.sim.child(mother, father)),
        }

    def stranger(self) -> engine.Profile:
        return self._one(self.sim.founders(1))


@pytest.fixture
def people() -> People:
    return People()


def relative_id(record: Any, relation: str) -> int:
    from pingan.reunion import queries as reunion_queries

    return next(r.pk for r in reunion_queries.relatives_for_system(record) if r.relation == relation)


@pytest.fixture
def type_person(examiner: Any, point: SamplingPoint, django_capture_on_commit_callbacks: Any) -> Callable[..., Profile]:
    """Consent → sample → lab → profile for one person of a record; the new profile's
    search runs (the on-commit callbacks are executed) unless ``search=False``."""

    def type_(
        record: Any, relation: str, genotype: engine.Profile, *, search: bool = True, keep: bool = False
    ) -> Profile:
        rid = None if relation == "self" else relative_id(record, relation)
        with django_capture_on_commit_callbacks(execute=True):
            sample = actions.sample_register(
                record_reference=record.reference,
                relation=relation,
                relative_id=rid,
                point=point,
                actor=examiner,
                agreed=True,
                keep_after_reunion=keep,
            )
            actions.sample_receive(sample=sample, actor=examiner)
            profile = actions.profile_enter(sample=sample, data=genotype.to_json(), actor=examiner, search=search)
        return profile

    return type_


@pytest.fixture
def story(make_record: Callable[..., Any], type_person: Callable[..., Profile], people: People) -> dict[str, Any]:
    """A missing boy whose father and mother are typed, a seeker who is the boy, and a
    look-alike seeker who is someone else; the seeker's profile is searched at once."""
    family = people.family()
    missing = make_record("missing")
    seeker = make_record("seeker")
    lookalike = make_record("seeker")
    parents = [type_person(missing, "father", family["father"]), type_person(missing, "mother", family["mother"])]
    other = type_person(lookalike, "self", people.stranger())
    child = type_person(seeker, "self", family["child"])
    return {
        "missing": missing,
        "seeker": seeker,
        "lookalike": lookalike,
        "parents": parents,
        "child": child,
        "other": other,
        "family": family,
    }


def number() -> int:
    return next(_numbers)
