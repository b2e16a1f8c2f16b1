"""Seed steps of 团圆: synthetic missing, found and seeker records across Shandong (scaled),
the story of the boy taken in Liaocheng in 1997, planted true pairs and look-alikes (their
references in ``pingan.reunion.demo``, for the DNA seed that runs later), reunions in past
years (so the indicators have figures), reports waiting for verification, specialist
teams; and, after the alert subscribers exist, one recent missing child in Jinan with an
emergency alert.

Everything goes through the actions, back-dated (``context.backdated``); people are
synthetic (``pingan.core.seeding``). Records carry demo references (``XRDEMO…``), so a
re-run finds them and adds only what is missing.
"""

from __future__ import annotations

import datetime as dt
import math
import random
from dataclasses import dataclass
from typing import Any

from django.utils import timezone

from pingan.accounts.models import Post, User
from pingan.core import context, geo, seeding
from pingan.core.seeding import SeedContext
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level, OrgUnit
from pingan.reunion import actions, demo, validation
from pingan.reunion.models import Kind, PersonRecord, Relation, SpecialistTeam

BACKGROUND = {
    "small": {"missing": 80, "found": 60, "seeker": 30, "resolved": 25, "found_by_family": 15, "reported": 10},
    "city": {"missing": 300, "found": 220, "seeker": 100, "resolved": 80, "found_by_family": 50, "reported": 30},
    "province": {"missing": 900, "found": 700, "seeker": 300, "resolved": 250, "found_by_family": 150, "reported": 60},
}
# Places outside the province where seekers grew up or children were found (GB/T 2260 code,
# name, county seat latitude and longitude).
ELSEWHERE = (
    ("511302", "四川省南充市顺庆区", 30.796, 106.092),
    ("510104", "四川省成都市锦江区", 30.657, 104.080),
    ("410102", "河南省郑州市中原区", 34.748, 113.612),
    ("411302", "河南省南阳市宛城区", 32.994, 112.546),
    ("130102", "河北省石家庄市长安区", 38.047, 114.539),
    ("320102", "江苏省南京市玄武区", 32.048, 118.797),
    ("340102", "安徽省合肥市瑶海区", 31.858, 117.309),
    ("350102", "福建省福州市鼓楼区", 26.082, 119.298),
    ("530102", "云南省昆明市五华区", 25.043, 102.704),
    ("440103", "广东省广州市荔湾区", 23.126, 113.244),
)
DIALECTS = ("鲁西南口音", "胶东口音", "济南口音", "鲁北口音", "鲁中口音", "普通话")
PLACES = ("集市", "汽车站", "火车站附近", "村口", "学校门口", "商场", "公园", "家门口")
SPREAD_KM = 8.0


@dataclass
class Person:
    sex: str
    name: str
    birth: dt.date
    tags: list[str]
    marks: str
    dialect: str


def _person(rng: random.Random, *, sex: str | None = None, born_between: tuple[int, int]) -> Person:
    sex = sex or rng.choice(["M", "F"])
    year = rng.randint(*born_between)
    birth = dt.date(year, 1, 1) + dt.timedelta(days=rng.randrange(365))
    tags = rng.sample(validation.MARK_TAGS[:8], rng.choice([1, 1, 2]))
    where = rng.choice(["左臂", "右臂", "额头", "后背", "左腿", "右手", "颈部"])
    marks = f"{where}有{tags[0]}" + (f"，另有{tags[1]}" if len(tags) > 1 else "")
    return Person(sex, seeding.person_name(rng, sex), birth, tags, marks, rng.choice(DIALECTS))


def _jitter(rng: random.Random, latitude: float, longitude: float, km: float = SPREAD_KM) -> tuple[float, float]:
    north, east = rng.gauss(0, km), rng.gauss(0, km)
    latitude += math.degrees(north / geo.EARTH_RADIUS_KM)
    longitude += math.degrees(east / (geo.EARTH_RADIUS_KM * math.cos(math.radians(latitude))))
    return round(latitude, 5), round(longitude, 5)


def _height(age: float, sex: str) -> int:
    """A rough median height (cm) for an age, enough for synthetic records."""
    if age >= 18:
        return 172 if sex == "M" else 160
    return round(75 + 6.3 * min(age, 12) + (4.5 if sex == "M" else 3.0) * max(0, age - 12))


def _same_day(day: dt.date, year: int) -> dt.date:
    """``day`` in ``year`` (29 February becomes the 28th)."""
    return day.replace(year=year, day=min(day.day, 28) if day.month == 2 else day.day)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, minute)))


class Plan:
    """What the steps need of the tree and the staff, loaded once."""

    def __init__(self) -> None:
        counties = OrgUnit.objects.filter(
            level=Level.COUNTY, kind__in=(OrgKind.BUREAU, OrgKind.BRANCH), is_active=True
        ).order_by("path")
        self.counties = [unit for unit in counties if validation.valid_county_code(unit.code)]
        self.by_code = {unit.code: unit for unit in self.counties}
        self.investigators: dict[str, User] = {}
        posts = (
            Post.objects.filter(role="investigator", is_active=True, org__kind=OrgKind.DEPARTMENT)
            .select_related("user", "org")
            .order_by("org__path", "user__username")
        )
        for post in posts:
            key = post.org.jurisdiction_path
            self.investigators.setdefault(key, post.user)
        self.province_investigator = self.investigators.get("37/")

    def investigator_for(self, unit: OrgUnit) -> User | None:
        """The investigator of the county, else of the city, else of the province."""
        parts = unit.path.split("/")
        for depth in (3, 2, 1):
            found = self.investigators.get("/".join(parts[:depth]) + "/")
            if found is not None:
                return found
        return None


def _data(
    person: Person,
    *,
    kind: str,
    circumstance: str,
    event: dt.datetime,
    place: str,
    division: str,
    point: tuple[float, float] | None,
    known_birth: bool,
    age_spread: int = 0,
    height: int | None = None,
    relation: str = "",
    approx: bool = False,
    with_time: bool = True,
) -> dict[str, Any]:
    age = event.date().year - person.birth.year - ((event.month, event.day) < (person.birth.month, person.birth.day))
    data: dict[str, Any] = {
        "name": person.name if kind != Kind.FOUND else "",
        "sex": person.sex,
        "circumstance": circumstance,
        "event_date": event.date(),
        "event_date_approx": approx,
        "place_text": place,
        "division_code": division,
        "marks": person.marks,
        "mark_tags": person.tags,
        "dialect": person.dialect if kind != Kind.SEEKER else "",
        "height_cm": height,
        "reporter_relation": relation,
    }
    if with_time:
        data["event_time"] = f"{event.hour:02d}:{event.minute:02d}"
    if point is not None:
        data["latitude"], data["longitude"] = point
    if known_birth:
        data["birth_date"] = person.birth
    else:
        data["age_min"], data["age_max"] = max(0, age - age_spread), age + age_spread
    return data


def _relatives(rng: random.Random, child: Person, relations: tuple[str, ...], *, dead_father: bool) -> list[dict]:
    surname = child.name[0]
    result = []
    for relation in relations:
        sex = "F" if relation == Relation.MOTHER else "M" if relation == Relation.FATHER else rng.choice("MF")
        name = seeding.person_name(rng, sex)
        if relation in (Relation.FATHER, Relation.FULL_SIBLING):
            name = surname + name[1:]
        result.append({"relation": relation, "name": name, "phone": seeding.mobile(rng), "can_give_dna": True})
    if dead_father:
        result.insert(
            0,
            {
                "relation": Relation.FATHER,
                "name": surname + seeding.person_name(rng, "M")[1:],
                "deceased": True,
                "can_give_dna": False,
            },
        )
    return result


def _register(
    actor: User, *, moment: dt.datetime, reference: str, kind: str, data: dict, org: OrgUnit, relatives=()
) -> PersonRecord:
    existing = PersonRecord.objects.filter(reference=reference).first()
    if existing is not None:
        return existing
    with context.backdated(moment), context.acting_as(actor, channel="command"):
        return actions.record_register(
            actor=actor,
            kind=kind,
            data=data,
            relatives=list(relatives),
            org=org,
            channel="station" if kind == Kind.MISSING else "police",
            reference=reference,
        )


# --- The story -------------------------------------------------------------------------------


def _story(plan: Plan) -> int:
    investigator = User.objects.filter(username="371501", kind="staff").first()
    county = plan.by_code.get("371502")
    if investigator is None or county is None:
        return 0
    created = 0
    boy = Person(
        "M",
        "林小军",
        dt.date(1993, 3, 8),
        ["胎记", "双发旋"],
        "左臂内侧有一块硬币大小的褐色胎记，头顶双发旋",
        "鲁西南口音",
    )
    taken = _at(dt.date(1997, 6, 12), 15, 30)
    station_point = (36.4562, 115.9857)  # 古楼街道一带
    if not PersonRecord.objects.filter(reference=demo.STORY_MISSING_REF).exists():
        data = _data(
            boy,
            kind=Kind.MISSING,
            circumstance="abducted",
            event=taken,
            place="山东省聊城市东昌府区古楼街道 集市附近",
            division="371502",
            point=station_point,
            known_birth=True,
            height=100,
            relation=Relation.FATHER,
        )
        data["circumstances"] = "1997年6月12日下午，4岁的林小军随父亲赶集时走失，有目击者称被一名外地口音男子抱走。"
        data["public_description"] = "男孩，失踪时4岁，身穿蓝色背带裤，左臂内侧有褐色胎记。"
        relatives = [
            {"relation": Relation.FATHER, "name": "林建国", "phone": "13906350001", "can_give_dna": True},
            {"relation": Relation.MOTHER, "name": "王秀英", "phone": "13906350002", "can_give_dna": True},
        ]
        record = _register(
            investigator,
            moment=_at(dt.date(1997, 6, 12), 19, 0),
            reference=demo.STORY_MISSING_REF,
            kind=Kind.MISSING,
            data=data,
            org=county,
            relatives=relatives,
        )
        with context.backdated(_at(dt.date(2024, 5, 20), 10)), context.acting_as(investigator, channel="command"):
            actions.record_set_next_step(
                record=record,
                actor=investigator,
                next_step="父母血样已入打拐DNA数据库，持续开展全国比对；关注川渝地区自主寻亲登记。",
            )
        created += 1
    if not PersonRecord.objects.filter(reference=demo.STORY_SEEKER_REF).exists():
        man = Person("M", "陈军", boy.birth, ["胎记"], "左臂内侧有褐色胎记", "")
        data = _data(
            man,
            kind=Kind.SEEKER,
            circumstance="adopted",
            event=_at(dt.date(1997, 8, 1), 12),
            place="四川省南充市顺庆区（幼年被送至当地一户人家抚养）",
            division="511302",
            point=(30.796, 106.092),
            known_birth=False,
            age_spread=1,
            height=173,
            approx=True,
            with_time=False,
        )
        data["circumstances"] = (
            "自述约四五岁时被人从北方带到四川，记得家乡有集市、说话带山东口音，由养父母抚养长大，现欲寻找亲生父母。"
        )
        _register(
            investigator,
            moment=_at(dt.date(2025, 3, 10), 9, 30),
            reference=demo.STORY_SEEKER_REF,
            kind=Kind.SEEKER,
            data=data,
            org=county,
        )
        created += 1
    return created


# --- Planted pairs and look-alikes --------------------------------------------------------------


def _planted(ctx: SeedContext, plan: Plan) -> int:
    count = demo.PLANTED_COUNT.get(ctx.scale, demo.PLANTED_COUNT["small"])
    created = 0
    for index in range(count):
        rng = ctx.rng("planted", index)
        county = rng.choice(plan.counties)
        actor = plan.investigator_for(county)
        if actor is None:
            continue
        missing_ref = demo.reference(demo.PLANTED_MISSING_FROM + index)
        found_ref = demo.reference(demo.PLANTED_FOUND_FROM + index)
        lookalike_ref = demo.reference(demo.LOOKALIKE_FROM + index)
        child = _person(rng, born_between=(1980, 2014))
        age = rng.randint(2, 10)
        event_day = child.birth + dt.timedelta(days=365 * age + rng.randrange(300))
        event = _at(event_day, rng.randint(8, 18), rng.choice([0, 15, 30, 45]))
        point = _jitter(rng, county.latitude, county.longitude)
        relations = demo.planted_relations(index)
        if not PersonRecord.objects.filter(reference=missing_ref).exists():
            data = _data(
                child,
                kind=Kind.MISSING,
                circumstance=rng.choice(["abducted", "lost"]),
                event=event,
                place=f"{county.name.removesuffix('公安局').removesuffix('公安分局')}{rng.choice(PLACES)}",
                division=county.code,
                point=point,
                known_birth=True,
                height=_height(age, child.sex),
                relation=relations[0],
            )
            _register(
                actor,
                moment=event + dt.timedelta(hours=3),
                reference=missing_ref,
                kind=Kind.MISSING,
                data=data,
                org=actions.handling_unit(division_code=county.code, latitude=point[0], longitude=point[1]) or county,
                relatives=_relatives(rng, child, relations, dead_father=Relation.FATHER not in relations),
            )
            created += 1
        # The same person found: a rescued child soon after, or an adult seeker years later.
        soon = child.birth.year >= 2000
        if not PersonRecord.objects.filter(reference=found_ref).exists():
            if soon:
                found_day = event_day + dt.timedelta(days=rng.randint(20, 600))
                found_day = max(event_day, min(found_day, timezone.localdate() - dt.timedelta(days=1)))
                other = rng.choice([c for c in plan.counties if c.path[:8] != county.path[:8]])
                where = _jitter(rng, other.latitude, other.longitude)
                found_age = (found_day - child.birth).days / 365.25
                data = _data(
                    child,
                    kind=Kind.FOUND,
                    circumstance="rescued",
                    event=_at(found_day, 11),
                    place=f"{other.name.removesuffix('公安局').removesuffix('公安分局')}解救地点",
                    division=other.code,
                    point=where,
                    known_birth=False,
                    age_spread=1,
                    height=_height(found_age, child.sex) + rng.randint(-4, 4),
                )
                org = actions.handling_unit(division_code=other.code, latitude=where[0], longitude=where[1]) or other
                finder = plan.investigator_for(other) or actor
                moment = _at(found_day, 15)
            else:
                code, place, latitude, longitude = rng.choice(ELSEWHERE)
                seen = event_day + dt.timedelta(days=rng.randint(10, 200))
                data = _data(
                    Person(
                        child.sex, seeding.person_name(rng, child.sex), child.birth, child.tags[:1], child.marks, ""
                    ),
                    kind=Kind.SEEKER,
                    circumstance=rng.choice(["adopted", "abducted"]),
                    event=_at(seen, 12),
                    place=f"{place}（幼年生活地）",
                    division=code,
                    point=_jitter(rng, latitude, longitude, 5),
                    known_birth=False,
                    age_spread=1,
                    height=_height(30, child.sex) + rng.randint(-5, 5),
                    approx=True,
                    with_time=False,
                )
                org = county
                finder = actor
                moment = _at(dt.date(2024, 1, 1) + dt.timedelta(days=rng.randrange(400)), 10)
            _register(
                finder, moment=moment, reference=found_ref, kind=Kind.FOUND if soon else Kind.SEEKER, data=data, org=org
            )
            created += 1
        if not PersonRecord.objects.filter(reference=lookalike_ref).exists():
            other_person = _person(rng, sex=child.sex, born_between=(child.birth.year, child.birth.year))
            other_person.tags = child.tags[:1] + other_person.tags[:1]
            found_day = event_day + dt.timedelta(days=rng.randint(30, 900))
            found_day = min(found_day, timezone.localdate() - dt.timedelta(days=1))
            near = _jitter(rng, point[0], point[1], 40)
            age_then = (found_day - other_person.birth).days / 365.25
            data = _data(
                other_person,
                kind=Kind.FOUND,
                circumstance=rng.choice(["suspected", "wandering", "unable"]),
                event=_at(found_day, 10),
                place=f"{county.name.removesuffix('公安局').removesuffix('公安分局')}附近",
                division=county.code,
                point=near,
                known_birth=False,
                age_spread=1,
                height=_height(max(age_then, 1), other_person.sex),
            )
            org = actions.handling_unit(division_code=county.code, latitude=near[0], longitude=near[1]) or county
            _register(actor, moment=_at(found_day, 16), reference=lookalike_ref, kind=Kind.FOUND, data=data, org=org)
            created += 1
    return created


# --- Background records ---------------------------------------------------------------------------


def _background(ctx: SeedContext, plan: Plan) -> dict[str, int]:
    wanted = BACKGROUND.get(ctx.scale, BACKGROUND["small"])
    today = timezone.localdate()
    now = timezone.now()
    created = {"records": 0, "reunions": 0, "closed": 0, "reported": 0}
    number = demo.BACKGROUND_FROM
    with ctx.progress(total=sum(wanted.values()), desc="reunion records", unit="rec") as bar:
        for kind in ("missing", "found", "seeker", "resolved", "found_by_family", "reported"):
            for index in range(wanted[kind]):
                rng = ctx.rng("background", kind, index)
                county = rng.choice(plan.counties)
                actor = plan.investigator_for(county)
                refs = [demo.reference(number), demo.reference(number + 1)]
                number += 2
                bar.update(1)
                if actor is None or _made(kind, refs):
                    continue
                point = _jitter(rng, county.latitude, county.longitude)
                place = f"{county.name.removesuffix('公安局').removesuffix('公安分局')}{rng.choice(PLACES)}"
                org = actions.handling_unit(division_code=county.code, latitude=point[0], longitude=point[1]) or county
                if kind == "missing":
                    person = _person(rng, born_between=(1975, 2018))
                    age = rng.randint(1, 14)
                    day = min(
                        person.birth + dt.timedelta(days=365 * age + rng.randrange(300)), today - dt.timedelta(days=2)
                    )
                    event = _at(day, rng.randint(7, 19))
                    data = _data(
                        person,
                        kind=Kind.MISSING,
                        circumstance=rng.choice(["abducted", "lost", "runaway", "unknown"]),
                        event=event,
                        place=place,
                        division=county.code,
                        point=point,
                        known_birth=True,
                        height=_height(age, person.sex),
                        relation=rng.choice([Relation.FATHER, Relation.MOTHER]),
                    )
                    record = _register(
                        actor,
                        moment=event + dt.timedelta(hours=5),
                        reference=refs[0],
                        kind=Kind.MISSING,
                        data=data,
                        org=org,
                        relatives=_relatives(rng, person, (Relation.FATHER, Relation.MOTHER), dead_father=False),
                    )
                    if rng.random() < 0.6 and not record.next_step and record.state == "active":
                        with (
                            context.backdated(
                                max(event + dt.timedelta(days=30), now - dt.timedelta(days=rng.randint(30, 900)))
                            ),
                            context.acting_as(actor, channel="command"),
                        ):
                            actions.record_set_next_step(record=record, actor=actor, next_step=rng.choice(NEXT_STEPS))
                    created["records"] += 1
                elif kind in ("found", "seeker"):
                    person = _person(rng, born_between=(1970, 2016))
                    if kind == "seeker":
                        person.birth = _same_day(person.birth, min(person.birth.year, today.year - 28))
                        code, where, latitude, longitude = rng.choice(ELSEWHERE)
                        day = person.birth + dt.timedelta(days=365 * rng.randint(2, 8))
                        data = _data(
                            person,
                            kind=Kind.SEEKER,
                            circumstance=rng.choice(["adopted", "abducted", "lost", "unknown"]),
                            event=_at(day, 12),
                            place=f"{where}（幼年生活地）",
                            division=code,
                            point=_jitter(rng, latitude, longitude, 5),
                            known_birth=False,
                            age_spread=1,
                            height=_height(30, person.sex),
                            approx=True,
                            with_time=False,
                        )
                        moment = now - dt.timedelta(days=rng.randint(10, 2500))
                    else:
                        day = min(
                            person.birth + dt.timedelta(days=365 * rng.randint(1, 60)), today - dt.timedelta(days=1)
                        )
                        age = (day - person.birth).days / 365.25
                        data = _data(
                            person,
                            kind=Kind.FOUND,
                            circumstance=rng.choice(["rescued", "suspected", "wandering", "unable"]),
                            event=_at(day, 10),
                            place=place,
                            division=county.code,
                            point=point,
                            known_birth=False,
                            age_spread=2,
                            height=_height(age, person.sex),
                        )
                        moment = _at(day, 15)
                    _register(actor, moment=moment, reference=refs[0], kind=kind, data=data, org=org)
                    created["records"] += 1
                elif kind == "resolved":
                    created["reunions"] += _resolved(
                        rng, plan, refs, county=county, org=org, point=point, place=place, actor=actor, now=now
                    )
                    created["records"] += 2
                elif kind == "found_by_family":
                    person = _person(rng, born_between=(2005, 2019))
                    day = today - dt.timedelta(days=rng.randint(20, 1500))
                    event = _at(day, rng.randint(7, 19))
                    age = (day - person.birth).days / 365.25
                    data = _data(
                        person,
                        kind=Kind.MISSING,
                        circumstance=rng.choice(["lost", "runaway"]),
                        event=event,
                        place=place,
                        division=county.code,
                        point=point,
                        known_birth=True,
                        height=_height(age, person.sex),
                        relation=Relation.MOTHER,
                    )
                    record = _register(
                        actor,
                        moment=event + dt.timedelta(hours=2),
                        reference=refs[0],
                        kind=Kind.MISSING,
                        data=data,
                        org=org,
                        relatives=_relatives(rng, person, (Relation.MOTHER,), dead_father=False),
                    )
                    if record.state == "active":
                        with (
                            context.backdated(event + dt.timedelta(days=rng.randint(1, 6))),
                            context.acting_as(actor, channel="command"),
                        ):
                            actions.record_close(
                                record=record, actor=actor, reason="found_by_family", note="家属在亲戚家找到孩子"
                            )
                        created["closed"] += 1
                    created["records"] += 1
                else:
                    made = _reported(rng, county, point, place, refs[0], now=now)
                    created["reported"] += made
                    created["records"] += made
    return created


def _made(kind: str, refs: list[str]) -> bool:
    """Did an earlier run make this background item? (Reports by their idempotency key.)"""
    if kind == "reported":
        return PersonRecord.objects.filter(idempotency_key=f"seed-{refs[0]}").exists()
    wanted = refs if kind == "resolved" else refs[:1]
    return PersonRecord.objects.filter(reference__in=wanted).count() == len(wanted)


NEXT_STEPS = (
    "组织父母补采血样，送省厅DNA实验室入库比对",
    "走访当年目击者，核实可疑人员线索",
    "协调外省公安机关核查疑似被拐人员",
    "比对全国身份不明人员信息库，跟进特征相近线索",
    "对接宝贝回家志愿者，收集寻亲线索",
)


def _resolved(
    rng: random.Random,
    plan: Plan,
    refs: list[str],
    *,
    county: OrgUnit,
    org: OrgUnit,
    point,
    place,
    actor: User,
    now: dt.datetime,
) -> int:
    """A missing child, the same child found later, and the reunion recorded (2019–now)."""
    reunite_by = plan.province_investigator or actor
    person = _person(rng, born_between=(2000, 2018))
    reunion_day = dt.date(2019, 1, 1) + dt.timedelta(
        days=rng.randrange(max(1, (timezone.localdate() - dt.date(2019, 1, 10)).days))
    )
    gap = rng.choice([rng.randint(3, 60), rng.randint(60, 700), rng.randint(700, 6000)])
    event_day = max(person.birth + dt.timedelta(days=400), reunion_day - dt.timedelta(days=gap))
    event = _at(event_day, rng.randint(7, 19))
    age = (event_day - person.birth).days / 365.25
    missing = _register(
        actor,
        moment=event + dt.timedelta(hours=4),
        reference=refs[0],
        kind=Kind.MISSING,
        data=_data(
            person,
            kind=Kind.MISSING,
            circumstance=rng.choice(["abducted", "lost"]),
            event=event,
            place=place,
            division=county.code,
            point=point,
            known_birth=True,
            height=_height(age, person.sex),
            relation=Relation.FATHER,
        ),
        org=org,
        relatives=_relatives(rng, person, (Relation.FATHER, Relation.MOTHER), dead_father=False),
    )
    found_day = max(event_day + dt.timedelta(days=1), reunion_day - dt.timedelta(days=rng.randint(1, 20)))
    other = rng.choice(plan.counties)
    where = _jitter(rng, other.latitude, other.longitude)
    found_age = (found_day - person.birth).days / 365.25
    finder = plan.investigator_for(other) or actor
    found = _register(
        finder,
        moment=_at(found_day, 14),
        reference=refs[1],
        kind=Kind.FOUND,
        data=_data(
            person,
            kind=Kind.FOUND,
            circumstance=rng.choice(["rescued", "suspected"]),
            event=_at(found_day, 10),
            place=f"{other.name.removesuffix('公安局').removesuffix('公安分局')}",
            division=other.code,
            point=where,
            known_birth=False,
            age_spread=1,
            height=_height(found_age, person.sex),
        ),
        org=actions.handling_unit(division_code=other.code, latitude=where[0], longitude=where[1]) or other,
    )
    if missing.state != "active" or found.state != "active":
        return 0
    with context.backdated(_at(max(reunion_day, found_day), 16)), context.acting_as(reunite_by, channel="command"):
        actions.reunion_record(
            missing=missing,
            found=found,
            method=rng.choice(["dna", "dna", "attributes", "clue"]),
            evidence="",
            actor=reunite_by,
            note="经比对确认，已护送回家团聚",
        )
    return 1


def _reported(rng: random.Random, county: OrgUnit, point, place: str, reference: str, *, now: dt.datetime) -> int:
    """An online report by a citizen of the county, waiting for verification."""
    reporter = (
        User.objects.filter(kind="citizen", citizen__home_org__path__under=county.path).order_by("pk").first()
        or User.objects.filter(kind="citizen", citizen__home_org__path__under=county.path[:8]).order_by("pk").first()
    )
    if reporter is None:
        return 0
    key = f"seed-{reference}"
    if PersonRecord.objects.filter(reported_by=reporter, idempotency_key=key).exists():
        return 0
    person = _person(rng, born_between=(2010, 2020))
    moment = now - dt.timedelta(hours=rng.randint(2, 40))
    event = moment - dt.timedelta(hours=rng.randint(2, 20))
    age = (event.date() - person.birth).days / 365.25
    data = _data(
        person,
        kind=Kind.MISSING,
        circumstance=rng.choice(["lost", "runaway", "unknown"]),
        event=timezone.localtime(event),
        place=place,
        division=county.code,
        point=point,
        known_birth=True,
        height=_height(age, person.sex),
        relation=Relation.MOTHER,
    )
    data["consent"] = True
    with context.backdated(moment), context.acting_as(reporter, channel="web"):
        actions.record_report(
            reporter=reporter,
            kind=Kind.MISSING,
            data=data,
            relatives=[
                {"relation": Relation.MOTHER, "name": seeding.person_name(rng, "F"), "phone": seeding.mobile(rng)}
            ],
            idempotency_key=key,
        )
    return 1


# --- Teams -------------------------------------------------------------------------------------------


def _teams(plan: Plan) -> int:
    created = 0
    for path, lead in sorted(plan.investigators.items()):
        unit = OrgUnit.objects.filter(path=path).first()
        if unit is None or unit.level not in (Level.PROVINCE, Level.CITY, Level.COUNTY):
            continue
        short = unit.name.removesuffix("公安局").removesuffix("公安分局").removesuffix("公安厅")
        name = f"{short}打拐寻亲专班" if unit.level != Level.COUNTY else f"{short}团圆行动专班"
        if SpecialistTeam.objects.filter(org=unit, name=name).exists():
            continue
        members = list(
            User.objects.filter(posts__org__path__under=path, posts__role="investigator", posts__is_active=True)
            .exclude(pk=lead.pk)
            .distinct()
            .order_by("username")[:4]
        )
        actions.team_create(
            actor=None,
            org=unit,
            name=name,
            lead=lead,
            members=members,
            duty="负责辖区失踪、被拐人员查找，积案攻坚，DNA采血组织和跨区域协查。",
        )
        created += 1
    return created


def seed_records(ctx: SeedContext) -> dict[str, Any]:
    plan = Plan()
    if not plan.counties:
        ctx.write("reunion: no org tree; skipped")
        return {"created": {"records": 0}}
    story = _story(plan)
    planted = _planted(ctx, plan)
    background = _background(ctx, plan)
    teams = _teams(plan)
    ctx.write(
        f"reunion: story {story}, planted {planted}, background {background['records']} records "
        f"({background['reunions']} reunions, {background['reported']} awaiting verification), {teams} teams"
    )
    return {
        "created": {
            "records": story + planted + background["records"],
            "reunions": background["reunions"],
            "teams": teams,
        },
        "story": [demo.STORY_MISSING_REF, demo.STORY_SEEKER_REF],
        "planted_pairs": len(demo.planted_pairs()),
    }


# --- The demo alert (after the subscribers exist) ------------------------------------------------------


def seed_alert(ctx: SeedContext) -> dict[str, Any]:
    """A child missing in Jinan's 历下区 an hour ago, reported, verified by the station and
    published by the city's investigator: the alert reaches the subscribers within 100 km."""
    if PersonRecord.objects.filter(reference=demo.ALERT_MISSING_REF).exists():
        return {"created": {"alerts": 0}}
    county = OrgUnit.objects.filter(code="370102").first()
    publisher = (
        Post.objects.filter(org__code="3701-criminal", role="investigator", is_active=True)
        .select_related("user")
        .order_by("user__username")
        .first()
    )
    if county is None or publisher is None:
        ctx.write("reunion: no Jinan investigator to publish the demo alert; skipped")
        return {"created": {"alerts": 0}}
    rng = ctx.rng("alert")
    officer = publisher.user
    now = timezone.now()
    child = Person(
        "F",
        "周雨萱",
        timezone.localdate() - dt.timedelta(days=365 * 6 + 40),
        ["痣"],
        "右眼角下方有一颗小黑痣",
        "济南口音",
    )
    event = timezone.localtime(now - dt.timedelta(minutes=50))
    point = (36.6657, 117.0322)  # 泉城广场一带
    data = _data(
        child,
        kind=Kind.MISSING,
        circumstance="lost",
        event=event,
        place="济南市历下区泉城广场",
        division="370102",
        point=point,
        known_birth=True,
        height=118,
        relation=Relation.MOTHER,
    )
    data["public_description"] = "女孩，6岁，扎马尾，身穿粉色上衣、白色裙子，背卡通书包。"
    record = _register(
        officer,
        moment=now - dt.timedelta(minutes=30),
        reference=demo.ALERT_MISSING_REF,
        kind=Kind.MISSING,
        data=data,
        org=actions.handling_unit(division_code="370102", latitude=point[0], longitude=point[1]) or county,
        relatives=[
            {
                "relation": Relation.MOTHER,
                "name": "李" + seeding.person_name(rng, "F")[1:],
                "phone": seeding.mobile(rng),
            }
        ],
    )
    with context.acting_as(officer, channel="command"):
        alert = actions.alert_publish_for(record=record, actor=officer)
    ctx.write(f"reunion: demo alert {alert.reference} for {record.reference} (reach {alert.delivered_count})")
    return {"created": {"alerts": 1}, "alert": alert.reference}


def register_steps() -> None:
    seeding.register(
        "reunion.records",
        order=80,
        run=seed_records,
        description="团圆: missing, found and seeker records, the 1997 Liaocheng story, planted pairs, reunions, teams",
    )
    seeding.register(
        "reunion.alert",
        order=88,
        run=seed_alert,
        description="团圆: a child missing in Jinan an hour ago, with an emergency alert (after the subscribers)",
    )
