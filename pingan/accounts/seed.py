"""Seed steps for accounts: the documented demo accounts, staff across the tree, citizens
spread over the cities by census population, and partner organisations.

Every person is synthetic (``pingan.core.seeding``'s names, ID numbers and mobiles).
Each step creates only what is missing, found by natural keys (badge numbers, keyed
hashes of ID numbers and mobiles, partner usernames, posts per unit and role), so a
re-run adds nothing and a run at a larger scale adds the difference.
"""

from __future__ import annotations

import csv
import datetime as dt
import functools
import hashlib
import os
import secrets
from collections import Counter, defaultdict
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.utils import timezone

from pingan.accounts import actions
from pingan.accounts.actions import CitizenData, StaffData
from pingan.accounts.models import CitizenProfile, PartnerKind, Post, StaffProfile, User
from pingan.accounts.models import Kind as UserKind
from pingan.core import seeding
from pingan.core.catalog import staff_roles
from pingan.core.identity import blind_index, make_resident_id
from pingan.core.seeding import SeedContext
from pingan.orgs import queries as orgs
from pingan.orgs.models import Kind, Level, OrgUnit

PROVINCE = "37"
JINAN = "3701"
SMALL_CITIZENS = 4000
CHUNK = 5000
FIRST_BADGE = 200000

# --- The documented demo accounts -------------------------------------------------------


@dataclass(frozen=True)
class DemoStaff:
    key: str
    badge: str
    name: str
    org: str
    role: str


@dataclass(frozen=True)
class DemoCitizen:
    key: str
    name: str
    id_number: str
    phone: str
    home_org: str


DEMO_STAFF = (
    DemoStaff("admin", "000001", "王建国", PROVINCE, "administrator"),
    DemoStaff("auditor", "000002", "李静", PROVINCE, "auditor"),
    DemoStaff("jinan_counter", "370001", "张伟", "370102001", "counter_officer"),
    DemoStaff("jinan_chief", "370002", "刘洋", "370102001", "station_chief"),
    DemoStaff("qingdao_counter", "370201", "陈晨", "370202001", "counter_officer"),
    # Tuanyuan: a county criminal investigation brigade (may publish alerts) and the
    # province's DNA examiner (the only role that sees genotypes).
    DemoStaff("liaocheng_investigator", "371501", "孙刚", "371502-criminal", "investigator"),
    DemoStaff("dna_examiner", "370003", "周慧", "37-criminal", "dna_examiner"),
)
DEMO_CITIZENS = (
    # The sequence's parity carries the sex: 24 → female, 37 → male.
    DemoCitizen(
        "jinan_citizen", "赵敏", make_resident_id("370102", dt.date(1988, 6, 15), 24), "13905310001", "370102001"
    ),
    DemoCitizen(
        "qingdao_citizen", "孙浩", make_resident_id("370202", dt.date(1992, 11, 3), 37), "13905320001", "370202001"
    ),
)
UNAMBIGUOUS_CHARS = "abcdefghjkmnpqrstuvwxyz23456789"


def demo_password_generate() -> str:
    """Three groups of four unambiguous characters, e.g. ``k7mq-x2pd-9wza``."""
    return "-".join("".join(secrets.choice(UNAMBIGUOUS_CHARS) for _ in range(4)) for _ in range(3))


def demo_password_read(path: Path) -> str | None:
    """The password recorded in a credentials file, if the file exists and has one."""
    if not path.exists():
        return None
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("password:"):
            return line.split(":", 1)[1].strip() or None
    return None


def credentials_write(path: Path, *, password: str, rows: Sequence[tuple[str, str, str, str]]) -> None:
    """Write the credentials file (mode 0600 from the start: never readable by others)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [
        "# Pingan demo accounts (synthetic people). Keep this file private.",
        f"# Written {timezone.localtime():%Y-%m-%d %H:%M} by `manage.py seed`.",
        "# Staff sign in with their badge number (警号); citizens with their ID number or mobile number.",
        "# `make run` serves in demo mode (PINGAN_DEMO=1); outside it staff also need a second factor (TOTP).",
        f"password: {password}",
        "",
        "role\tunit\tsign-in\tpassword",
        *("\t".join(row) for row in rows),
        "",
    ]
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("\n".join(lines))
    os.chmod(temporary, 0o600)
    os.replace(temporary, path)


def _find_citizen(id_number: str) -> User | None:
    profile = (
        CitizenProfile.objects.select_related("user")
        .filter(id_number_hash=blind_index(id_number, purpose="id_number"))
        .first()
    )
    return profile.user if profile else None


def _label(units: Mapping[str, OrgUnit], code: str) -> str:
    """A unit's name with its city's (解放路派出所 → 济南市公安局 解放路派出所)."""
    unit = units[code]
    return unit.name if unit.depth <= 1 else f"{units[code[:4]].name} {unit.name}"


def seed_demo_accounts(ctx: SeedContext) -> dict[str, Any]:
    """The documented demo accounts, with one random password kept in the credentials file."""
    path = ctx.credentials_file
    password = demo_password_read(path)
    fresh_password = password is None
    if password is None:
        password = demo_password_generate()
    codes = {d.org for d in DEMO_STAFF} | {d.home_org for d in DEMO_CITIZENS}
    codes |= {code[:4] for code in codes}  # their cities, to name the units in the file
    units = {unit.code: unit for unit in orgs.units().filter(code__in=codes)}
    roles = staff_roles()
    accounts: dict[str, User] = {}
    created = 0
    rows: list[tuple[str, str, str, str]] = []
    for demo in DEMO_STAFF:
        user = User.objects.filter(username=demo.badge).first()
        if user is None:
            user = actions.staff_create(
                badge_number=demo.badge, name=demo.name, home_org=units[demo.org], roles=[demo.role], password=password
            )
            created += 1
        elif user.kind != UserKind.STAFF:
            ctx.write(f"Demo account {demo.badge} skipped: the username belongs to a {user.kind} account")
            continue
        elif fresh_password:
            actions.password_set(user=user, password=password)
        if not user.posts.filter(org=units[demo.org], role=demo.role).exists():
            actions.post_add(user=user, org=units[demo.org], role=demo.role)
        accounts[demo.key] = user
        rows.append(
            (f"{roles[demo.role].name_zh} ({roles[demo.role].name_en})", _label(units, demo.org), demo.badge, password)
        )
    for demo in DEMO_CITIZENS:
        user = _find_citizen(demo.id_number)
        if user is None:
            try:
                user = actions.citizen_register(
                    name=demo.name,
                    id_number=demo.id_number,
                    phone=demo.phone,
                    password=password,
                    home_org=units[demo.home_org],
                )
            except ValidationError as error:  # e.g. someone registered with the demo mobile number
                ctx.write(f"Demo citizen {demo.key} skipped: {'; '.join(error.messages)}")
                continue
            created += 1
        elif fresh_password:
            actions.password_set(user=user, password=password)
        accounts[demo.key] = user
        sign_in = f"{demo.id_number} / {demo.phone}"
        rows.append(("群众 (citizen)", _label(units, demo.home_org), sign_in, password))
    if fresh_password:
        credentials_write(path, password=password, rows=rows)
        ctx.write(f"Demo accounts: password {password} (written to {path}; it is not shown again)")
    else:
        ctx.write(f"Demo accounts and their password: {path}")
    return {
        "created": {"demo accounts": created},
        "accounts": {key: user.pk for key, user in accounts.items()},
        "credentials_file": str(path),
    }


# --- The tree, as the steps below need it ------------------------------------------------

TREE_KEY = "accounts.tree"  # in ctx.shared; not a step name, so no step's result overwrites it


@dataclass
class Tree:
    units: dict[str, OrgUnit]
    cities: list[OrgUnit]
    counties: dict[str, list[OrgUnit]] = field(default_factory=lambda: defaultdict(list))  # city → county bureaus
    stations: dict[str, list[OrgUnit]] = field(default_factory=lambda: defaultdict(list))  # city → stations
    grids: dict[str, list[OrgUnit]] = field(default_factory=lambda: defaultdict(list))  # station → grids

    @classmethod
    def load(cls) -> Tree:
        units = {unit.code: unit for unit in orgs.units().order_by("path")}
        tree = cls(units=units, cities=[u for u in units.values() if u.level == Level.CITY and u.kind == Kind.BUREAU])
        for unit in units.values():
            city = unit.path.split("/")[1] if unit.depth else ""
            if unit.level == Level.COUNTY and unit.kind in (Kind.BUREAU, Kind.BRANCH):
                tree.counties[city].append(unit)
            elif unit.level == Level.STATION:
                tree.stations[city].append(unit)
            elif unit.level == Level.GRID:
                tree.grids[unit.path.split("/")[-3]].append(unit)
        return tree

    @classmethod
    def of(cls, ctx: SeedContext) -> Tree:
        """The tree, loaded once per seed run and shared by the steps below."""
        tree = ctx.shared.get(TREE_KEY)
        if not isinstance(tree, cls):
            tree = ctx.shared[TREE_KEY] = cls.load()
        return tree

    def home_of(self, unit: OrgUnit) -> OrgUnit:
        """Where an officer posted at ``unit`` belongs: a grid's community officer to its station."""
        return self.units[unit.path.split("/")[-3]] if unit.level == Level.GRID else unit


# --- Staff -----------------------------------------------------------------------------

SampledStations = dict[str, list[OrgUnit]]


def sample_stations(ctx: SeedContext, tree: Tree, per_city: int = 2) -> SampledStations:
    """The stations staffed at ``small``: the demo stations first, then random ones."""
    demo = {d.org for d in DEMO_STAFF}
    sample: SampledStations = {}
    for city in tree.cities:
        stations = tree.stations[city.code]
        chosen = [s for s in stations if s.code in demo]
        others = [s for s in stations if s.code not in demo]
        chosen += ctx.rng("stations", city.code).sample(others, max(0, min(per_city - len(chosen), len(others))))
        sample[city.code] = chosen
    return sample


def _staff_station(plan: Counter, tree: Tree, station: OrgUnit, *, counters: int) -> None:
    plan[(station.code, "station_chief")] = max(plan[(station.code, "station_chief")], 1)
    plan[(station.code, "counter_officer")] = max(plan[(station.code, "counter_officer")], counters)
    for grid in tree.grids[station.code]:
        plan[(grid.code, "community_officer")] = 1


def staff_plan(ctx: SeedContext, tree: Tree) -> Counter:
    """How many officers each (unit, role) should have at this scale."""
    plan: Counter = Counter()
    plan.update({(PROVINCE, "bureau_leader"): 2, (PROVINCE, "auditor"): 2, (PROVINCE, "administrator"): 1})
    plan.update({(f"{PROVINCE}-command", "dispatcher"): 2, (f"{PROVINCE}-criminal", "investigator"): 2})
    for city in tree.cities:
        code = city.code
        plan.update({(code, "bureau_leader"): 2, (code, "auditor"): 1, (code, "administrator"): 1})
        plan.update({(f"{code}-command", "dispatcher"): 4, (f"{code}-criminal", "investigator"): 4})
    for stations in sample_stations(ctx, tree).values():
        for station in stations:
            _staff_station(plan, tree, station, counters=2)
    # Each demo account fills a post the plan counts (e.g. the province's DNA examiner).
    for demo in DEMO_STAFF:
        plan[(demo.org, demo.role)] = max(plan[(demo.org, demo.role)], 1)
    if ctx.scale == "city":
        # One city fully staffed: every county bureau and station of Jinan.
        for county in tree.counties[JINAN]:
            plan[(county.code, "bureau_leader")] = max(plan[(county.code, "bureau_leader")], 2)
            plan[(f"{county.code}-command", "dispatcher")] = max(plan[(f"{county.code}-command", "dispatcher")], 3)
            plan[(f"{county.code}-criminal", "investigator")] = max(
                plan[(f"{county.code}-criminal", "investigator")], 4
            )
        for station in tree.stations[JINAN]:
            _staff_station(plan, tree, station, counters=3)
    elif ctx.scale == "province":
        # About one officer per 1,000 residents (× fraction) on top of the skeleton above.
        roles = ["community_officer", "counter_officer", "investigator", "dispatcher", "bureau_leader"]
        weights = [35, 20, 25, 15, 5]
        for city in tree.cities:
            rng = ctx.rng("extra-staff", city.code)
            stations, counties = tree.stations[city.code], tree.counties[city.code]
            for _ in range(round((city.population or 0) * ctx.fraction / 1000)):
                role = rng.choices(roles, weights)[0]
                if role == "community_officer":
                    station = rng.choice(stations)
                    unit = rng.choice(tree.grids[station.code] or [station])
                elif role == "counter_officer":
                    unit = rng.choice(stations)
                elif role == "bureau_leader":
                    unit = rng.choice(counties)
                else:
                    county = rng.choice(counties)
                    unit = tree.units.get(
                        f"{county.code}-{'criminal' if role == 'investigator' else 'command'}", county
                    )
                plan[(unit.code, role)] += 1
    return Counter({key: count for key, count in plan.items() if key[0] in tree.units})


def badge_numbers(taken: set[str]) -> Iterator[str]:
    """Unused 6-digit badge numbers from 200000 up (the demo accounts hold lower and 37xxxx ones)."""
    for number in range(FIRST_BADGE, 1_000_000):
        badge = f"{number:06d}"
        if badge not in taken:
            yield badge


def seed_staff(ctx: SeedContext) -> dict[str, Any]:
    tree = Tree.of(ctx)
    plan = staff_plan(ctx, tree)
    existing = Counter(
        {
            (row["org__code"], row["role"]): row["n"]
            for row in Post.objects.filter(is_active=True).values("org__code", "role").annotate(n=Count("id"))
        }
    )
    missing = sorted(
        ((tree.units[code].path, code, role, count - existing[(code, role)]) for (code, role), count in plan.items()),
    )
    rng = ctx.rng("people")
    taken = set(StaffProfile.objects.values_list("badge_number", flat=True))
    taken |= set(User.objects.filter(kind=UserKind.STAFF).values_list("username", flat=True))
    badges = badge_numbers(taken)
    rows: list[StaffData] = []
    for _path, code, role, count in missing:
        unit = tree.units[code]
        for _ in range(max(0, count)):
            sex = "M" if rng.random() < 0.85 else "F"
            rows.append(
                StaffData(
                    badge_number=next(badges),
                    name=seeding.person_name(rng, sex),
                    home_org=tree.home_of(unit),
                    posts=((unit, role),),
                )
            )
    with ctx.progress(total=len(rows), desc="staff", unit="officer") as bar:
        for start in range(0, len(rows), CHUNK):
            actions.staff_bulk_create(rows[start : start + CHUNK])
            bar.update(len(rows[start : start + CHUNK]))
    return {"created": {"staff": len(rows)}, "planned_posts": sum(plan.values())}


# --- Citizens --------------------------------------------------------------------------

# Cities merged into another: ID numbers issued there keep the old code (莱芜 → 济南, 2019).
MERGED_INTO = {"3712": JINAN}
FIRST_ID_YEAR = 1985  # resident ID cards were first issued in the mid-1980s


@functools.cache
def _division_codes() -> list[tuple[str, int | None, int | None]]:
    with Path(settings.DATA_DIR, "divisions", "gb2260-codes.csv").open(encoding="utf-8") as handle:
        return [
            (row["code"], int(row["start_year"]) if row["start_year"] else None, int(row["end_year"] or 0) or None)
            for row in csv.DictReader(handle)
            if row["code"].startswith("37") and not row["code"].endswith("00") and row["name"] not in ("市辖区", "市区")
        ]


@functools.cache
def id_county_codes(city_code: str, year: int) -> tuple[str, ...]:
    """County codes an ID number of someone from ``city_code`` could carry: the city's codes in
    use when it was first issued (abolished ones included, e.g. 莱芜's 3712xx for Jinan).

    Codes of the former prefectures (地区, 3721–3729) are left out: they do not map one to
    one onto today's cities, and keeping every city to its own codes means two cities'
    streams can never produce the same ID number. A year in which the city had no codes of
    its own (it was still a prefecture) falls back to its current codes."""
    prefixes = {city_code} | {old for old, new in MERGED_INTO.items() if new == city_code}
    mine = [(code, start, end) for code, start, end in _division_codes() if code[:4] in prefixes]
    in_use = tuple(
        code for code, start, end in mine if (start is None or start <= year) and (end is None or year <= end)
    )
    return in_use or tuple(code for code, _start, end in mine if end is None and code[:4] == city_code)


def citizen_targets(ctx: SeedContext, tree: Tree) -> dict[str, int]:
    """Citizens per city: a few thousand over the province by population at ``small``; the
    real 2020 population × fraction for Jinan (``city``) or every city (``province``)."""
    population = {city.code: city.population or 0 for city in tree.cities}
    total = sum(population.values()) or 1
    quotas = {code: SMALL_CITIZENS * pop / total for code, pop in population.items()}
    small = {code: int(quota) for code, quota in quotas.items()}
    # Largest remainders: the shares add up to exactly SMALL_CITIZENS.
    for code in sorted(quotas, key=lambda c: (small[c] - quotas[c], c))[: SMALL_CITIZENS - sum(small.values())]:
        small[code] += 1
    if ctx.scale == "small":
        return small
    grown = {code for code in population if ctx.scale == "province" or code == JINAN}
    return {
        code: max(small[code], round(population[code] * ctx.fraction)) if code in grown else small[code]
        for code in small
    }


REGISTRATION_START = dt.datetime(2019, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))
REGISTRATION_SPAN_SECONDS = int(
    (
        dt.datetime.combine(seeding.REFERENCE_DAY, dt.time(), REGISTRATION_START.tzinfo) - REGISTRATION_START
    ).total_seconds()
)


def citizen_stream(
    ctx: SeedContext, tree: Tree, city: OrgUnit, index: int
) -> Iterator[tuple[CitizenData, OrgUnit, dt.datetime]]:
    """An endless, deterministic stream of synthetic residents of ``city`` (with the station
    that serves them and when they opened their account).

    One stream per city: a city's first N residents are the same whatever the other cities'
    sizes, so growing a scale adds residents without changing those already seeded. ID
    numbers and mobiles never repeat within a stream and cannot collide across cities (IDs
    carry the city's county codes; mobiles the city's number blocks)."""
    rng = ctx.rng("citizens", city.code)
    bureaus = {unit.code: unit for unit in tree.counties[city.code]}
    bureau_list = list(bureaus.values())
    stations_by_county: dict[str, list[OrgUnit]] = defaultdict(list)
    for station in tree.stations[city.code]:
        stations_by_county[station.path.split("/")[2]].append(station)
    seen_ids: set[str] = set()
    seen_phones: set[str] = set()
    while True:
        sex = "M" if rng.random() < 0.51 else "F"
        born = seeding.birth_date(rng)
        codes = id_county_codes(city.code, max(born.year, FIRST_ID_YEAR))
        county = rng.choice(codes)
        id_number = seeding.resident_id(rng, county_code=county, born=born, sex=sex)
        phone = seeding.mobile(rng, partition=index, partitions=len(tree.cities))
        name = seeding.person_name(rng, sex)
        bureau = bureaus.get(county) or rng.choice(bureau_list)
        # People are served by a police station of their county (户籍 is kept there).
        stations = stations_by_county.get(bureau.code)
        home = rng.choice(stations) if stations else bureau
        # Accounts opened since the platform went online (2019), as of the reference day.
        registered = REGISTRATION_START + dt.timedelta(seconds=rng.randrange(REGISTRATION_SPAN_SECONDS))
        if id_number in seen_ids or phone in seen_phones:
            continue
        seen_ids.add(id_number)
        seen_phones.add(phone)
        yield (
            CitizenData(
                name=name, id_number=id_number, phone=phone, birth_date=born, sex=sex, county_code=id_number[:6]
            ),
            home,
            registered,
        )


def _existing_hashes(field_name: str, hashes: Sequence[str]) -> set[str]:
    return set(CitizenProfile.objects.filter(**{f"{field_name}__in": hashes}).values_list(field_name, flat=True))


def seed_citizens(ctx: SeedContext) -> dict[str, Any]:
    tree = Tree.of(ctx)
    targets = citizen_targets(ctx, tree)
    created = 0
    with ctx.progress(total=sum(targets.values()), desc="citizens", unit="person") as bar:
        for index, city in enumerate(tree.cities):
            stream = citizen_stream(ctx, tree, city, index)
            remaining = targets[city.code]
            while remaining:
                batch = [next(stream) for _ in range(min(CHUNK, remaining))]
                remaining -= len(batch)
                id_hashes = [blind_index(row.id_number, purpose="id_number") for row, _home, _at in batch]
                phone_hashes = [blind_index(row.phone, purpose="phone") for row, _home, _at in batch]
                known_ids = _existing_hashes("id_number_hash", id_hashes)
                known_phones = _existing_hashes("phone_hash", phone_hashes)
                new = [
                    entry
                    for entry, id_hash, phone_hash in zip(batch, id_hashes, phone_hashes, strict=True)
                    if id_hash not in known_ids and phone_hash not in known_phones
                ]
                if new:
                    created += actions.citizens_bulk_insert(
                        [row for row, _home, _at in new],
                        home_orgs=[home for _row, home, _at in new],
                        registered_at=[at for _row, _home, at in new],
                    )
                bar.update(len(batch))
    return {"created": {"citizens": created}, "target": sum(targets.values())}


# --- Partners --------------------------------------------------------------------------

SECURITY_WORDS = ("安泰", "安信", "盾卫", "金盾", "恒安", "卫华", "安邦", "平泰")
SOCIAL_NAMES = ("平安志愿者协会", "见义勇为协会", "平安联防协会", "禁毒志愿者协会", "反诈宣传志愿服务队")
DEALER_WORDS = ("顺达", "畅骑", "捷行", "安途", "通达", "快驰")
KIND_SUFFIX = {
    PartnerKind.SECURITY_COMPANY: "sec",
    PartnerKind.SOCIAL_ORGANISATION: "soc",
    PartnerKind.DEALER: "ebike",
}
USCC_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
USCC_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)


def place_name(unit: OrgUnit) -> str:
    """济南市公安局 → 济南; 历下区公安分局 → 历下区."""
    name = unit.name.removesuffix("公安分局").removesuffix("公安局")
    return name.removesuffix("市") if unit.level == Level.CITY else name


def credit_code(*, prefix: str, division_code: str, key: str) -> str:
    """A well-formed synthetic unified social credit code (GB 32100, check characters right).

    ``prefix`` is the registration authority and category (91 company, 92 sole trader,
    51 social organisation); the organisation code (GB 11714) comes from a hash of ``key``.
    """
    digits = str(int(hashlib.sha256(key.encode()).hexdigest(), 16))[:8]
    body = f"{prefix}{division_code.ljust(6, '0')}{digits}{organisation_code_check(digits)}"
    return body + credit_code_check(body)


def organisation_code_check(first8: str) -> str:
    """GB 11714 check character of an organisation code (digits and capital letters)."""
    total = sum(int(c, 36) * w for c, w in zip(first8, (3, 7, 9, 10, 5, 8, 4, 2), strict=True))
    check = 11 - total % 11
    return {10: "X", 11: "0"}.get(check, str(check))


def credit_code_check(first17: str) -> str:
    """GB 32100 check character of a unified social credit code."""
    total = sum(USCC_CHARS.index(c) * w for c, w in zip(first17, USCC_WEIGHTS, strict=True))
    return USCC_CHARS[(31 - total % 31) % 31]


def partner_units(ctx: SeedContext, tree: Tree) -> list[OrgUnit]:
    """Where partners are registered: every city bureau; Jinan's (``city``) or every
    (``province``) county bureau as well."""
    units = list(tree.cities)
    if ctx.scale == "city":
        units += tree.counties[JINAN]
    elif ctx.scale == "province":
        units += [county for city in tree.cities for county in tree.counties[city.code]]
    return units


def seed_partners(ctx: SeedContext) -> dict[str, Any]:
    tree = Tree.of(ctx)
    units = partner_units(ctx, tree)
    existing = set(User.objects.filter(kind=UserKind.PARTNER).values_list("username", flat=True))
    created = 0
    for unit in ctx.progress(units, desc="partners", unit="unit"):
        rng = ctx.rng("partners", unit.code)
        place = place_name(unit)
        names = {
            PartnerKind.SECURITY_COMPANY: (f"{place}{rng.choice(SECURITY_WORDS)}保安服务有限公司", "91"),
            PartnerKind.SOCIAL_ORGANISATION: (f"{place}{rng.choice(SOCIAL_NAMES)}", "51"),
            PartnerKind.DEALER: (f"{place}{rng.choice(DEALER_WORDS)}电动车商行", "92"),
        }
        for kind, (organisation, prefix) in names.items():
            username = f"p{unit.code}-{KIND_SUFFIX[kind]}"
            if username in existing:
                continue
            actions.partner_create(
                username=username,
                organisation=organisation,
                partner_kind=kind,
                credit_code=credit_code(prefix=prefix, division_code=unit.division_code or unit.code, key=username),
                org=unit,
            )
            created += 1
    return {"created": {"partners": created}}


STEPS: Mapping[str, tuple[int, Any, str, bool]] = {
    "accounts.demo": (20, seed_demo_accounts, "documented demo accounts and their credentials file", True),
    "accounts.staff": (30, seed_staff, "staff with posts across the tree", False),
    "accounts.citizens": (40, seed_citizens, "citizens by city population", False),
    "accounts.partners": (50, seed_partners, "security companies, social organisations, e-bike dealers", False),
}


def register_steps() -> None:
    for name, (order, function, description, always) in STEPS.items():
        seeding.register(name, order=order, run=function, description=description, always=always)
