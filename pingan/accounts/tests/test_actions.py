from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from pingan.accounts import actions, queries
from pingan.accounts.models import CitizenProfile
from pingan.core import access, timeline
from pingan.core.identity import make_resident_id
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_citizen_register_encrypts_identifiers_and_finds_by_hash():
    user = factories.citizen("370102", name="李四")
    profile = user.citizen
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM accounts_citizenprofile WHERE id = %s", [profile.pk])
        stored_id, stored_phone = cursor.fetchone()
    assert profile.id_number not in stored_id
    assert profile.phone not in stored_phone
    assert CitizenProfile.objects.get(pk=profile.pk).id_number == profile.id_number
    assert profile.home_org.code == "370102"
    admin = factories.staff("37", ["administrator"])
    assert queries.citizen_by_id_number(admin, profile.id_number) == profile


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("id_number", "370102199005170011", "check_digit"),
        ("id_number", "999999199005170011", "county"),
        ("phone", "12345", "format"),
    ],
)
def test_citizen_register_refuses_bad_identifiers(field, value, code):
    data = {"name": "王五", "id_number": make_resident_id("370102", dt.date(1985, 1, 2), 7), "phone": "13912345678"}
    if field == "id_number" and code == "check_digit":
        good = data["id_number"]
        value = good[:17] + ("0" if good[17] != "0" else "1")
    data[field] = value
    with pytest.raises(ValidationError) as error:
        actions.citizen_register(**data, password=None)
    assert field in error.value.message_dict
    assert not CitizenProfile.objects.exists()


def test_one_account_per_id_number_and_phone():
    user = factories.citizen("370102")
    with pytest.raises(ValidationError) as error:
        actions.citizen_register(name="重复", id_number=user.citizen.id_number, phone="13700000000", password=None)
    assert "id_number" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.citizen_register(
            name="重复",
            id_number=make_resident_id("370102", dt.date(1970, 1, 1), 3),
            phone=user.citizen.phone,
            password=None,
        )
    assert "phone" in error.value.message_dict


def test_staff_posts_give_jurisdiction():
    officer = factories.staff("370102001", ["counter_officer", "community_officer"])
    assert {post.role for post in officer.access_posts()} == {"counter_officer", "community_officer"}
    assert access.jurisdiction_paths(officer) == ["37/3701/370102/370102001/"]
    with pytest.raises(ValidationError):
        factories.staff("370102001", ["no_such_role"])
    with pytest.raises(ValidationError):
        actions.staff_create(badge_number="12ab", name="x", home_org=factories.org("37"))


def test_reveal_is_logged_and_refused_outside_role():
    citizen = factories.citizen("370102")
    counter = factories.staff("370102", ["counter_officer"])
    leader = factories.staff("370102", ["bureau_leader"])
    revealed = actions.personal_data_reveal(viewer=counter, profile=citizen.citizen)
    assert revealed["id_number"] == citizen.citizen.id_number
    reads = timeline.events_for(citizen.citizen).filter(action="personal_data.read")
    assert reads.count() == 1
    assert reads.get().actor_id == counter.pk
    with pytest.raises(access.AccessDenied) as denied:
        actions.personal_data_reveal(viewer=leader, profile=citizen.citizen)
    assert denied.value.decision.status == 403
    outsider = factories.staff("370202", ["counter_officer"])
    with pytest.raises(access.AccessDenied) as denied:
        actions.personal_data_reveal(viewer=outsider, profile=citizen.citizen)
    assert denied.value.decision.status == 404
    assert timeline.events_for(citizen.citizen).filter(action="access.denied").count() == 2


def test_holders_of_walks_up_to_the_nearest_chief():
    chief = factories.staff("370102001", ["station_chief"])
    leader = factories.staff("370102", ["bureau_leader"])
    assert queries.holders_of(org_path="37/3701/370102/370102001/37010200101/", roles={"station_chief"}) == [chief]
    assert queries.holders_of(org_path="37/3701/370102/370102002/", roles={"station_chief", "bureau_leader"}) == [
        leader
    ]
