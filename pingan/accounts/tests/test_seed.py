from __future__ import annotations

import datetime as dt
import hashlib
import io
import json
import re
import stat
from collections import Counter
from pathlib import Path

import pytest
from django.contrib.auth import authenticate
from django.core.exceptions import ValidationError
from django.core.management import call_command
from django.db import transaction
from django.test import RequestFactory

from pingan.accounts import actions
from pingan.accounts import seed as accounts_seed
from pingan.accounts.actions import CitizenData, StaffData
from pingan.accounts.models import CitizenProfile, Kind, PartnerProfile, Post, StaffProfile, User
from pingan.core import access, seeding, timeline
from pingan.core.identity import make_resident_id, normalize_mobile, parse_resident_id
from pingan.core.models import SeedRun
from pingan.orgs.models import Level, OrgUnit
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def seed(credentials: Path, *args: str, only: str = "accounts.*") -> str:
    """Run ``manage.py seed``; by default without the tree step (the session's tree is loaded:
    ``pingan/orgs/tests/test_seed.py`` covers the grids, the first test below the whole run)."""
    out = io.StringIO()
    options = ["--only", only] if only else []
    call_command("seed", *args, *options, "--no-progress", "--credentials-file", str(credentials), stdout=out)
    return out.getvalue()


@pytest.fixture
def credentials(tmp_path: Path) -> Path:
    return tmp_path / "demo-credentials.txt"


def digest() -> str:
    """Everything the seed decides (names, ID numbers, mobiles, badges, posts, partners, grids),
    independent of primary keys, random usernames, encryption nonces and timestamps."""
    staff = sorted(
        (s.badge_number, s.user.name, s.home_org.code, sorted((p.org.code, p.role) for p in s.user.posts.all()))
        for s in StaffProfile.objects.select_related("user", "home_org").prefetch_related("user__posts__org")
    )
    citizens = sorted(
        (c.id_number, c.phone, c.user.name, c.birth_date.isoformat(), c.sex, c.county_code, c.home_org.code)
        for c in CitizenProfile.objects.select_related("user", "home_org")
    )
    partners = sorted(
        PartnerProfile.objects.values_list("user__username", "organisation", "partner_kind", "credit_code", "org__code")
    )
    grids = sorted(OrgUnit.objects.filter(level=Level.GRID).values_list("code", flat=True))
    payload = json.dumps([staff, citizens, [list(p) for p in partners], grids], ensure_ascii=False)
    return hashlib.sha256(payload.encode()).hexdigest()


def counts() -> dict[str, int]:
    return {
        "units": OrgUnit.objects.count(),
        "staff": StaffProfile.objects.count(),
        "posts": Post.objects.count(),
        "citizens": CitizenProfile.objects.count(),
        "partners": PartnerProfile.objects.count(),
        "users": User.objects.count(),
    }


def sign_in(identifier: str, password: str) -> User | None:
    return authenticate(RequestFactory().post("/accounts/login/"), username=identifier, password=password)


def credential_rows(path: Path) -> list[list[str]]:
    lines = path.read_text(encoding="utf-8").splitlines()
    start = lines.index("role\tunit\tsign-in\tpassword") + 1
    return [line.split("\t") for line in lines[start:] if line]


# --- The small scale ---------------------------------------------------------------------


def test_small_seed_builds_the_demo_province(credentials):
    output = seed(credentials, "--scale", "small", only="")
    assert "Seeded scale=small seed=1" in output

    staff = StaffProfile.objects.select_related("user")
    assert 300 <= staff.count() <= 800  # a few hundred
    assert all(re.fullmatch(r"\d{6}", s.badge_number) and s.user.username == s.badge_number for s in staff)
    posts = Post.objects.select_related("org")
    roles = Counter(post.role for post in posts)
    assert set(roles) == {
        "administrator",
        "auditor",
        "bureau_leader",
        "station_chief",
        "counter_officer",
        "community_officer",
        "dispatcher",
        "investigator",
        "dna_examiner",
    }
    assert all(post.org.level == Level.GRID for post in posts if post.role == "community_officer")
    assert all(post.org.department == "command" for post in posts if post.role == "dispatcher")
    assert all(post.org.department == "criminal" for post in posts if post.role == "investigator")
    for city in OrgUnit.objects.filter(level=Level.CITY, kind="bureau"):
        assert posts.filter(org=city, role="bureau_leader").count() == 2
        chiefs = posts.filter(role="station_chief", org__path__under=city.path)
        assert chiefs.count() >= 2
        for chief in chiefs:
            grids = chief.org.children.filter(level=Level.GRID)
            # One community officer per grid of a staffed station.
            assert posts.filter(role="community_officer", org__in=grids).count() == grids.count()

    # Citizens: a few thousand, spread over the cities by their 2020 census population.
    assert CitizenProfile.objects.count() == accounts_seed.SMALL_CITIZENS + len(accounts_seed.DEMO_CITIZENS)
    jinan = CitizenProfile.objects.filter(home_org__path__under="37/3701/").count() - 1  # the demo citizen
    qingdao = CitizenProfile.objects.filter(home_org__path__under="37/3702/").count() - 1
    laiwu_less = CitizenProfile.objects.filter(home_org__path__under="37/3712/").count()
    assert laiwu_less == 0  # 莱芜 is part of Jinan since 2019
    assert abs(jinan - accounts_seed.SMALL_CITIZENS * 9202432 / 101527453) <= 1
    assert abs(qingdao - accounts_seed.SMALL_CITIZENS * 10071722 / 101527453) <= 1
    registered_years = {
        created.year for created in CitizenProfile.objects.values_list("created_at", flat=True).order_by("?")[:300]
    }
    assert {2019, 2020, 2021, 2022, 2023, 2024} <= registered_years  # indicators have a history to show
    for profile in CitizenProfile.objects.select_related("home_org", "user").order_by("?")[:300]:
        parsed = parse_resident_id(profile.id_number)
        assert (parsed.birth_date, parsed.sex) == (profile.birth_date, profile.sex)
        assert normalize_mobile(profile.phone) == profile.phone
        city = profile.home_org.path.split("/")[1]
        assert profile.county_code[:4] in ({city, "3712"} if city == "3701" else {city})
        # Served by a police station (户籍 is kept there), so station staff find them.
        assert profile.home_org.level == Level.STATION
        assert dt.datetime(2019, 1, 1, tzinfo=dt.UTC) - dt.timedelta(hours=8) <= profile.created_at
        demo = profile.id_number in {d.id_number for d in accounts_seed.DEMO_CITIZENS}
        assert profile.user.has_usable_password() == demo

    # three per city from this app, plus the e-bike app's documented demo dealer
    partners = PartnerProfile.objects.exclude(user__username="jinan-ebike-dealer")
    assert partners.count() == 16 * 3
    assert set(partners.values_list("partner_kind", flat=True)) == {"security_company", "social_organisation", "dealer"}
    for code in partners.values_list("credit_code", flat=True):
        assert accounts_seed.credit_code_check(code[:17]) == code[17]
        assert accounts_seed.organisation_code_check(code[8:16]) == code[16]

    # every registered step ran once (this app's among them)
    assert set(SeedRun.objects.values_list("step", flat=True)) == {step.name for step in seeding.registered_steps()}
    assert {"accounts.demo", "accounts.staff", "accounts.citizens", "accounts.partners"} <= set(
        SeedRun.objects.values_list("step", flat=True)
    )


def test_demo_accounts_sign_in_with_the_password_written_once(credentials):
    output = seed(credentials, "--scale", "small", only="accounts.demo")
    assert stat.S_IMODE(credentials.stat().st_mode) == 0o600
    password = accounts_seed.demo_password_read(credentials)
    assert password
    assert f"password {password}" in output
    rows = credential_rows(credentials)
    assert len(rows) == len(accounts_seed.DEMO_STAFF) + len(accounts_seed.DEMO_CITIZENS)
    assert all(row[3] == password for row in rows)

    for demo in accounts_seed.DEMO_STAFF:
        user = sign_in(demo.badge, password)
        assert user is not None
        assert user.kind == Kind.STAFF
        assert (demo.org, demo.role) in {(p.org.code, p.role) for p in user.posts.select_related("org")}
        assert any(row[2] == demo.badge for row in rows)
    assert "济南市公安局 解放路派出所" in {row[1] for row in rows}
    for demo in accounts_seed.DEMO_CITIZENS:
        by_id, by_phone = sign_in(demo.id_number, password), sign_in(demo.phone, password)
        assert by_id is not None
        assert by_id == by_phone
        assert by_id.kind == Kind.CITIZEN
        assert by_id.citizen.home_org.code == demo.home_org
    admin_post = User.objects.get(username="000001").posts.get()
    assert (admin_post.org.depth, admin_post.role) == (0, "administrator")
    assert sign_in("000001", "wrong-password-123") is None

    # A second run says where the password is, never the password again.
    again = seed(credentials, "--scale", "small", only="accounts.demo")
    assert password not in again
    assert str(credentials) in again
    assert accounts_seed.demo_password_read(credentials) == password

    # A lost credentials file: a new password is set on the demo accounts and written.
    credentials.unlink()
    renewed = seed(credentials, "--scale", "small", only="accounts.demo")
    new_password = accounts_seed.demo_password_read(credentials)
    assert new_password not in {None, password}
    assert f"password {new_password}" in renewed
    assert sign_in("370001", new_password) is not None
    assert sign_in("370001", password) is None
    assert sign_in(accounts_seed.DEMO_CITIZENS[0].phone, new_password) is not None


def test_demo_accounts_never_take_over_someone_elses_identifiers(credentials):
    jinan = accounts_seed.DEMO_CITIZENS[0]
    someone = factories.citizen("370103", name="吴某", phone=jinan.phone)
    partner = User.objects.create(username="000002", kind=Kind.PARTNER, name="某公司")
    output = seed(credentials, "--scale", "small", only="accounts.demo")
    assert f"Demo citizen {jinan.key} skipped" in output
    assert "Demo account 000002 skipped" in output
    password = accounts_seed.demo_password_read(credentials)
    assert sign_in(jinan.phone, password) is None  # still the other person's account, untouched
    assert User.objects.get(pk=someone.pk).citizen.phone == jinan.phone
    assert User.objects.get(pk=partner.pk).password == partner.password  # not given the demo password
    assert sign_in("000001", password) is not None
    staff_badges = {"000001", "370001", "370002", "370201", "371501", "370003"}
    assert {row[2] for row in credential_rows(credentials)} == staff_badges | {
        f"{d.id_number} / {d.phone}" for d in accounts_seed.DEMO_CITIZENS[1:]
    }


def test_a_second_run_creates_nothing_and_keeps_what_users_added(credentials):
    seed(credentials, "--scale", "small")
    seeded_digest, seeded_counts = digest(), counts()
    again = seed(credentials, "--scale", "small")
    assert "3 already done" in again
    assert (digest(), counts()) == (seeded_digest, seeded_counts)

    # Officials and citizens add their own data; a re-check by natural keys must keep it.
    officer = factories.staff("370102001", ["counter_officer"], name="新来民警")
    citizen = factories.citizen("370102", name="钱多多")
    SeedRun.objects.filter(step="accounts.partners").delete()
    with_users = digest()
    rechecked = seed(credentials, "--scale", "small", "--recheck")
    for step in ("staff", "citizens", "partners"):
        assert f"{step} +0" in rechecked
    assert digest() == with_users
    assert counts()["users"] == seeded_counts["users"] + 2
    assert User.objects.filter(pk__in=[officer.pk, citizen.pk]).count() == 2


def test_same_seed_same_data_other_seed_other_people(credentials):
    digests = []
    for seed_value in ("1", "1"):
        with transaction.atomic():
            seed(credentials, "--scale", "small", "--seed", seed_value)
            digests.append(digest())
            transaction.set_rollback(True)
        credentials.unlink()
    assert digests[0] == digests[1]
    # Another seed draws other people (checked on the generators, without seeding again).
    tree = accounts_seed.Tree.load()
    people = []
    for seed_value in (1, 2):
        ctx = seeding.SeedContext(
            scale="small", seed=seed_value, fraction=0.0, step="accounts.citizens", progress_enabled=False
        )
        stream = accounts_seed.citizen_stream(ctx, tree, tree.cities[0], 0)
        people.append([next(stream)[0] for _ in range(20)])
    assert people[0] != people[1]


# --- Larger scales, with tiny fractions -------------------------------------------------------


def test_city_scale_adds_a_fully_staffed_jinan_to_small(credentials):
    seed(credentials, "--scale", "small")
    small_citizens = set(CitizenProfile.objects.values_list("id_number_hash", flat=True))
    small_staff = set(StaffProfile.objects.values_list("badge_number", flat=True))
    qingdao_before = CitizenProfile.objects.filter(home_org__path__under="37/3702/").count()

    output = seed(credentials, "--scale", "city", "--fraction", "0.0001")
    assert "Seeded scale=city" in output
    assert small_citizens <= set(CitizenProfile.objects.values_list("id_number_hash", flat=True))
    assert small_staff <= set(StaffProfile.objects.values_list("badge_number", flat=True))
    assert CitizenProfile.objects.filter(home_org__path__under="37/3701/").count() == round(9202432 * 0.0001) + 1
    assert CitizenProfile.objects.filter(home_org__path__under="37/3702/").count() == qingdao_before
    posts = Post.objects.filter(is_active=True)
    for station in OrgUnit.objects.filter(level=Level.STATION, path__under="37/3701/"):
        assert posts.filter(org=station, role="station_chief").exists()
        assert posts.filter(org=station, role="counter_officer").count() >= 3
        for grid in station.children.all():
            assert posts.filter(org=grid, role="community_officer").exists()
    for county in OrgUnit.objects.filter(level=Level.COUNTY, path__under="37/3701/").exclude(kind="department"):
        assert posts.filter(org__code=f"{county.code}-criminal", role="investigator").count() >= 4
    unchanged = counts()
    seed(credentials, "--scale", "city", "--fraction", "0.0001", "--recheck")
    assert counts() == unchanged


def test_province_scale_follows_the_census(credentials):
    fraction = 0.0001
    output = seed(credentials, "--scale", "province", "--fraction", str(fraction))
    assert "Seeded scale=province" in output
    population = dict(OrgUnit.objects.filter(level=Level.CITY, kind="bureau").values_list("code", "population"))
    tree = accounts_seed.Tree.load()
    small = seeding.SeedContext(scale="small", seed=1, fraction=0.0, step="accounts.staff", progress_enabled=False)
    small_targets = accounts_seed.citizen_targets(small, tree)
    for code, people in population.items():
        seeded = CitizenProfile.objects.filter(home_org__path__under=f"37/{code}/").count() - (code in {"3701", "3702"})
        assert seeded == max(small_targets[code], round(people * fraction))
    # About one officer per 1,000 residents × fraction on top of the skeleton of ``small``.
    skeleton = sum(accounts_seed.staff_plan(small, tree).values())
    extra = sum(round(people * fraction / 1000) for people in population.values())
    assert extra > 0
    assert StaffProfile.objects.count() == skeleton + extra
    county_bureaus = OrgUnit.objects.filter(level=Level.COUNTY).exclude(kind="department").count()
    assert PartnerProfile.objects.count() == 3 * (16 + county_bureaus)


def test_citizen_streams_are_prefixes_of_each_other():
    tree = accounts_seed.Tree.load()
    city = tree.cities[0]
    ctx = seeding.SeedContext(scale="small", seed=1, fraction=0.0, step="accounts.citizens", progress_enabled=False)
    first = [next(stream)[0] for stream in [accounts_seed.citizen_stream(ctx, tree, city, 0)] for _ in range(50)]
    stream = accounts_seed.citizen_stream(ctx, tree, city, 0)
    longer = [next(stream)[0] for _ in range(80)]
    assert longer[:50] == first
    assert len({row.id_number for row in longer}) == len({row.phone for row in longer}) == 80


def test_id_numbers_carry_codes_in_use_when_issued():
    assert "371202" in accounts_seed.id_county_codes("3701", 2000)  # 莱芜 (merged into Jinan in 2019)
    assert "371202" not in accounts_seed.id_county_codes("3701", 2019)
    assert "370114" not in accounts_seed.id_county_codes("3701", 2000)  # 章丘区 exists since 2016
    assert "370181" in accounts_seed.id_county_codes("3701", 2000)  # 章丘市 before it
    assert accounts_seed.id_county_codes("3717", 1990)  # 菏泽地区 then: falls back to the city's codes
    assert all(code.startswith("3717") for code in accounts_seed.id_county_codes("3717", 1990))


def test_credit_codes_have_correct_check_characters():
    # The worked example of GB 32100-2015.
    assert accounts_seed.credit_code_check("91350100M000100Y4") == "3"
    assert accounts_seed.organisation_code_check("M000100Y") == "4"
    code = accounts_seed.credit_code(prefix="51", division_code="370102", key="p370102-soc")
    assert re.fullmatch(r"51370102\d{8}[\dX][0-9A-HJ-NPQRTUWXY]", code)


# --- The bulk actions the seed uses -----------------------------------------------------------


def staff_row(badge: str, *, name: str = "王强", role: str = "counter_officer") -> StaffData:
    station = OrgUnit.objects.get(code="370102001")
    return StaffData(badge_number=badge, name=name, home_org=station, posts=((station, role),))


def test_staff_bulk_create_creates_accounts_profiles_posts_and_one_event():
    before = timeline.TimelineEvent.objects.count()
    created = actions.staff_bulk_create([staff_row("654321"), staff_row("654322", role="station_chief")])
    assert created == 2
    user = User.objects.get(username="654322")
    assert (user.kind, user.staff.badge_number, user.has_usable_password()) == (Kind.STAFF, "654322", False)
    assert list(user.posts.values_list("org__code", "role")) == [("370102001", "station_chief")]
    event = timeline.TimelineEvent.objects.order_by("-id").first()
    assert timeline.TimelineEvent.objects.count() == before + 1
    assert (event.action, event.data["count"], event.org_path) == (
        "accounts.staff_bulk_created",
        2,
        "37/3701/370102/370102001/",
    )


@pytest.mark.parametrize(
    ("rows", "code"),
    [
        (lambda: [staff_row("12345")], "badge"),
        (lambda: [staff_row("654321"), staff_row("654321")], "badge_taken"),
        (lambda: [staff_row("000001")], "badge_taken"),
        (lambda: [staff_row("654321", role="sheriff")], "role"),
        (lambda: [staff_row("654321", name="  ")], "name"),
    ],
)
def test_staff_bulk_create_refuses_bad_rows_and_writes_nothing(rows, code):
    factories.staff("370102001", badge="000001")
    users = User.objects.count()
    with pytest.raises(ValidationError) as error:
        actions.staff_bulk_create(rows())
    assert error.value.code == code
    assert User.objects.count() == users


def test_staff_bulk_create_refuses_an_actor_who_is_not_an_administrator():
    officer = factories.staff("370102001", ["counter_officer"])
    with pytest.raises(access.AccessDenied):
        actions.staff_bulk_create([staff_row("654321")], actor=officer)
    assert not User.objects.filter(username="654321").exists()
    admin = factories.staff("37", ["administrator"])
    assert actions.staff_bulk_create([staff_row("654321")], actor=admin) == 1


def test_citizens_bulk_insert_stores_what_citizen_register_stores():
    county = OrgUnit.objects.get(code="370102")
    number = make_resident_id("370102", seeding.REFERENCE_DAY.replace(year=1980), 11)
    row = CitizenData(
        name="周敏", id_number=number, phone="13905319999", birth_date=parse_resident_id(number).birth_date,
        sex="M", county_code="370102",
    )  # fmt: skip
    assert actions.citizens_bulk_insert([row], home_orgs=[county]) == 1
    assert actions.citizens_bulk_insert([], home_orgs=[]) == 0
    profile = CitizenProfile.objects.select_related("user").get(county_code="370102", birth_date=row.birth_date)
    assert (profile.id_number, profile.phone, profile.user.name, profile.home_org) == (
        number,
        "13905319999",
        "周敏",
        county,
    )
    assert (profile.user.kind, profile.user.is_active, profile.user.has_usable_password()) == (
        Kind.CITIZEN,
        True,
        False,
    )
    assert None not in (profile.user.date_joined, profile.created_at)
    from pingan.accounts.backends import find_user

    assert find_user(number) == profile.user == find_user("13905319999")
    # The same person through the one-by-one path is refused as already registered.
    with pytest.raises(ValidationError):
        actions.citizen_register(name="周敏", id_number=number, phone="13905310000", password=None)


def test_password_set_checks_the_validators_and_records_it():
    user = factories.staff("370102001")
    with pytest.raises(ValidationError):
        actions.password_set(user=user, password="123")
    actions.password_set(user=user, password="k7mq-x2pd-9wza")
    user.refresh_from_db()
    assert user.check_password("k7mq-x2pd-9wza")
    assert timeline.events_for(user).filter(action="accounts.password_set").count() == 1
