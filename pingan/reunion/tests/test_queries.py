"""Reads of 团圆 records: the permission matrix, the verification queue, cold cases, teams,
and the system reads of the DNA store."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth.models import AnonymousUser
from django.utils import timezone

from pingan.core import access, context, workflow
from pingan.orgs.models import OrgUnit
from pingan.reunion import actions, queries
from pingan.reunion.models import PersonRecord, Relative
from pingan.reunion.tests.conftest import COUNTY, OTHER_STATION, STATION, missing_data, relatives_data
from pingan.testing import factories

pytestmark = pytest.mark.django_db


# --- The permission matrix -----------------------------------------------------------------------
# A report made by the father at 古楼派出所 (东昌府区, Liaocheng).

MATRIX = [
    # (who, sees it, may verify it, finds it in "my work")
    ("anonymous", False, False, False),
    ("owner", True, False, False),
    ("other_citizen", False, False, False),
    ("station_community", True, True, True),
    ("station_counter", True, True, True),
    ("other_station_counter", False, False, False),  # same county, another station
    ("county_investigator", True, True, True),
    ("county_leader", True, True, False),  # may verify, is not waited for
    ("county_auditor", True, False, False),  # reads, never acts
    ("county_dispatcher", True, False, False),  # in jurisdiction, a role that does not act here
    ("other_city_investigator", False, False, False),
    ("province_admin", True, False, False),
    ("dna_examiner", True, False, False),  # sees records province-wide; only records reunions
]


def _user(who: str, owner):
    return {
        "anonymous": lambda: AnonymousUser(),
        "owner": lambda: owner,
        "other_citizen": lambda: factories.citizen("370102", name="赵敏"),
        "station_community": lambda: factories.staff(STATION, ["community_officer"]),
        "station_counter": lambda: factories.staff(STATION, ["counter_officer"]),
        "other_station_counter": lambda: factories.staff(OTHER_STATION, ["counter_officer"]),
        "county_investigator": lambda: factories.staff(f"{COUNTY}-criminal", ["investigator"]),
        "county_leader": lambda: factories.staff(COUNTY, ["bureau_leader"]),
        "county_auditor": lambda: factories.staff(COUNTY, ["auditor"]),
        "county_dispatcher": lambda: factories.staff(f"{COUNTY}-command", ["dispatcher"]),
        "other_city_investigator": lambda: factories.staff("3701-criminal", ["investigator"]),
        "province_admin": lambda: factories.staff("37", ["administrator"]),
        "dna_examiner": lambda: factories.staff("37-criminal", ["dna_examiner"]),
    }[who]()


@pytest.mark.parametrize(("who", "sees", "verifies", "inbox"), MATRIX, ids=[row[0] for row in MATRIX])
def test_permission_matrix(report, father, who, sees, verifies, inbox):
    record = report()
    user = _user(who, father)
    assert (record in queries.records_for(user)) is sees
    if sees:
        assert queries.record_get(user, record.reference) == record
    else:
        with pytest.raises(PersonRecord.DoesNotExist):
            queries.record_get(user, record.reference)
    assert bool(access.check(user, "view", record)) is sees
    may_verify = "verify" in {t.action for t in workflow.available_actions(record, user)}
    assert may_verify is verifies
    assert (record in queries.waiting_for(user)) is inbox


def test_a_citizen_lists_only_their_own_reports(report, father, stranger):
    mine = report()
    theirs = report(stranger, division_code="370102", latitude="36.66", longitude="117.03")
    assert list(queries.my_records(father)) == [mine]
    assert list(queries.my_records(stranger)) == [theirs]
    assert not queries.my_records(factories.staff(STATION, ["counter_officer"])).exists()


def test_reports_to_verify_come_first(report, register, community):
    found = register("found")
    waiting = report()
    officer = factories.staff(f"{COUNTY}-criminal", ["investigator"])
    assert list(queries.records_for(officer))[:2] == [waiting, found]
    assert list(queries.records_for(officer, state="reported")) == [waiting]
    assert list(queries.records_for(officer, kind="found")) == [found]
    assert list(queries.records_for(officer, search=waiting.reference.lower())) == [waiting]
    assert list(queries.records_for(officer, kind="nonsense")) == list(queries.records_for(officer))


def test_the_queue_page_query_count_does_not_grow(report, client, django_assert_max_num_queries):
    from pingan.testing.signin import staff_login

    officer = factories.staff(f"{COUNTY}-criminal", ["investigator"])
    staff_login(client, officer)
    for _ in range(3):
        report()
    client.get("/reunion/")  # warm caches (roles, workflow)
    with django_assert_max_num_queries(20) as few:
        assert client.get("/reunion/").status_code == 200
    for _ in range(12):
        report()
    with django_assert_max_num_queries(len(few.captured_queries)):
        assert client.get("/reunion/").status_code == 200


# --- Cold cases -------------------------------------------------------------------------------------


def _old_case(investigator, *, years: int, next_step: str = "", org: str | None = None) -> PersonRecord:
    event = timezone.localdate() - dt.timedelta(days=365 * years + 10)
    with context.backdated(timezone.now() - dt.timedelta(days=365 * years)):
        record = actions.record_register(
            actor=investigator,
            kind="missing",
            data=missing_data(
                event_date=event.isoformat(), event_time="", birth_date=(event - dt.timedelta(days=1500)).isoformat()
            ),
            relatives=relatives_data(),
            org=OrgUnit.objects.get(code=org) if org else None,
        )
    if next_step:
        actions.record_set_next_step(record=record, actor=investigator, next_step=next_step)
    return record


def test_cold_cases_per_county_with_age_last_action_and_next_step(investigator, register, settings):
    old = _old_case(investigator, years=24, next_step="父母已采血入库，持续比对")
    older_in_station = _old_case(investigator, years=30, org=STATION)
    recent = register("missing")  # an hour ago: not a cold case
    jinan = factories.staff("3701-criminal", ["investigator"])
    _old_case(jinan, years=5, org="370102")  # another city
    groups = queries.cold_cases_for(user=investigator)
    assert [group.county.code for group in groups] == [COUNTY]
    cases = groups[0].cases
    assert [case.record for case in cases] == [older_in_station, old]
    assert cases[1].age_years == 24
    assert cases[0].age_years == 30
    assert cases[1].next_step == "父母已采血入库，持续比对"
    assert cases[1].last_action_at is not None
    assert recent not in [case.record for case in cases]
    # The province sees both counties; a chosen county narrows it.
    admin = factories.staff("37", ["administrator"])
    assert {group.county.code for group in queries.cold_cases_for(user=admin)} == {COUNTY, "370102"}
    county = OrgUnit.objects.get(code=COUNTY)
    assert [g.county.code for g in queries.cold_cases_for(user=admin, county=county)] == [COUNTY]
    # The threshold is configurable; a closed record is no longer a cold case.
    settings.REUNION_COLD_CASE_YEARS = 25
    assert [case.record for group in queries.cold_cases_for(user=investigator) for case in group.cases] == [
        older_in_station
    ]
    actions.record_close(record=older_in_station, actor=investigator, reason="deceased")
    assert queries.cold_cases_for(user=investigator) == []
    # Citizens and other cities see none of it.
    assert queries.cold_cases_for(user=factories.citizen()) == []


def test_cold_case_counties_of_a_station_officer(community):
    codes = [unit.code for unit in queries.cold_case_counties(community)]
    assert codes == [COUNTY]


# --- Teams and the DNA store's reads ------------------------------------------------------------------


def test_teams_in_and_above_the_jurisdiction(investigator, leader):
    province_lead = factories.staff("37-criminal", ["investigator"])
    city = factories.staff("3715-criminal", ["investigator"])
    jinan = factories.staff("3701-criminal", ["investigator"])
    actions.team_create(actor=None, org=OrgUnit.objects.get(code="37"), name="省厅打拐寻亲专班", lead=province_lead)
    actions.team_create(actor=None, org=OrgUnit.objects.get(code="3715"), name="聊城打拐寻亲专班", lead=city)
    actions.team_create(
        actor=None, org=OrgUnit.objects.get(code=COUNTY), name="东昌府区团圆行动专班", lead=investigator
    )
    actions.team_create(actor=None, org=OrgUnit.objects.get(code="3701"), name="济南打拐寻亲专班", lead=jinan)
    assert [team.name for team in queries.teams_for(investigator)] == [
        "省厅打拐寻亲专班",
        "聊城打拐寻亲专班",
        "东昌府区团圆行动专班",
    ]
    assert len(queries.teams_for(province_lead)) == 4
    assert not queries.teams_for(factories.citizen()).exists()


def test_system_reads_for_the_dna_store(active_missing):
    record = queries.record_get_for_system(active_missing.reference.lower())
    assert record == active_missing
    relatives = queries.relatives_for_system(record)
    assert [r.relation for r in relatives] == ["father", "mother"]
    assert queries.relative_get_for_system(relatives[0].pk).record == record
    with pytest.raises(PersonRecord.DoesNotExist):
        queries.record_get_for_system("XR0000000000")
    with pytest.raises(Relative.DoesNotExist):
        queries.relative_get_for_system(10**9)


def test_reunions_are_seen_by_staff_and_the_family(active_missing, register, investigator, father, stranger):
    found = register("found", event_date=timezone.localdate().isoformat())
    reunion = actions.reunion_record(missing=active_missing, found=found, method="dna", actor=investigator)
    assert list(queries.reunions_for(investigator)) == [reunion]
    assert list(queries.reunions_for(father)) == [reunion]
    assert not queries.reunions_for(stranger).exists()
    assert queries.reunion_of(found) == reunion
