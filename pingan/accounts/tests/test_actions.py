from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django_otp.plugins.otp_totp.models import TOTPDevice

from pingan.accounts import actions, queries
from pingan.accounts.models import CitizenProfile, User
from pingan.core import access, timeline
from pingan.core.identity import make_resident_id
from pingan.core.models import TimelineEvent
from pingan.testing import factories
from pingan.testing.signin import token_for, totp_device

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


# --- Staff management by administrators ---------------------------------------------------


def test_staff_create_by_an_administrator_within_jurisdiction():
    admin = factories.staff("3701", ["administrator"])
    created = actions.staff_create(
        badge_number="600001",
        name="新民警",
        home_org=factories.org("370102001"),
        roles=["counter_officer"],
        actor=admin,
    )
    event = timeline.events_for(created).get(action="accounts.staff_created")
    assert event.actor_id == admin.pk


@pytest.mark.parametrize(
    ("actor_org", "actor_roles", "status"),
    [("3702", ["administrator"], 404), ("3701", ["station_chief"], 403), ("3701", ["auditor"], 403)],
)
def test_staff_create_refusals_are_logged_and_write_nothing(actor_org, actor_roles, status):
    actor = factories.staff(actor_org, actor_roles)
    target = factories.org("370102001")
    with pytest.raises(access.AccessDenied) as denied:
        actions.staff_create(badge_number="600002", name="x", home_org=target, roles=["counter_officer"], actor=actor)
    assert denied.value.decision.status == status
    assert not User.objects.filter(username="600002").exists()
    denial = timeline.events_for(target).get(action="access.denied")
    assert denial.actor_id == actor.pk


def test_post_add_and_end_check_the_unit():
    admin = factories.staff("3701", ["administrator"])
    officer = factories.staff("370102001", ["counter_officer"])
    post = actions.post_add(user=officer, org=factories.org("370102002"), role="dispatcher", actor=admin)
    with pytest.raises(access.AccessDenied):
        actions.post_add(user=officer, org=factories.org("370202"), role="dispatcher", actor=admin)
    foreign = actions.post_add(user=officer, org=factories.org("370202"), role="investigator")  # the system may
    with pytest.raises(access.AccessDenied):
        actions.post_end(post=foreign, actor=admin)
    foreign.refresh_from_db()
    assert foreign.is_active
    assert not actions.post_end(post=post, actor=admin).is_active
    chief = factories.staff("370102001", ["station_chief"])
    with pytest.raises(access.AccessDenied) as denied:
        actions.post_add(user=officer, org=factories.org("370102001"), role="dispatcher", actor=chief)
    assert denied.value.decision.status == 403


# --- Sign-in records, TOTP, passwords ---------------------------------------------------------


def test_signin_failure_names_the_account_or_a_keyed_hash_never_the_number():
    citizen = factories.citizen("370102")
    actions.signin_record_failure(reason="bad_credentials", identifier=citizen.citizen.id_number)
    assert timeline.events_for(citizen).get(action="accounts.signin_failed").data == {
        "reason": "bad_credentials",
        "step": "password",
        "identifier_kind": "id_number",
    }
    stranger = make_resident_id("370102", dt.date(1980, 2, 3), 5)
    actions.signin_record_failure(reason="bad_credentials", identifier=stranger)
    actions.signin_record_failure(reason="bad_credentials", identifier=stranger.lower())
    events = TimelineEvent.objects.filter(subject_type="accounts.signin")
    assert events.count() == 2
    assert len({event.subject_id for event in events}) == 1  # the same person typing twice
    assert all(stranger not in event.subject_id + str(event.data) for event in events)


def test_totp_device_prepare_is_idempotent_and_staff_only():
    officer = factories.staff()
    first = actions.totp_device_prepare(user=officer)
    assert actions.totp_device_prepare(user=officer) == first
    assert not first.confirmed
    with pytest.raises(ValidationError):
        actions.totp_device_prepare(user=factories.citizen())


def test_totp_token_check_confirms_a_new_device_and_replaces_the_old(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 0
    officer = factories.staff()
    old = totp_device(officer)
    new = actions.totp_device_prepare(user=officer)
    wrong = f"{(int(token_for(new)) + 1) % 1_000_000:06d}"
    refused = actions.totp_token_check(user=officer, device=new, token=wrong)
    assert not refused.ok
    assert TOTPDevice.objects.filter(pk=old.pk).exists()
    accepted = actions.totp_token_check(user=officer, device=new, token=token_for(new))
    assert accepted.ok
    assert list(TOTPDevice.objects.filter(user=officer)) == [new]
    assert TOTPDevice.objects.get(pk=new.pk).confirmed
    # A token is good once.
    assert not actions.totp_token_check(user=officer, device=new, token=token_for(new)).ok


def test_totp_token_check_throttles_and_the_failure_sticks(settings):
    settings.OTP_TOTP_THROTTLE_FACTOR = 3600
    officer = factories.staff()
    device = totp_device(officer)
    wrong = f"{(int(token_for(device)) + 1) % 1_000_000:06d}"
    assert not actions.totp_token_check(user=officer, device=device, token=wrong).ok
    assert TOTPDevice.objects.get(pk=device.pk).throttling_failure_count == 1
    throttled = actions.totp_token_check(user=officer, device=device, token=token_for(device))
    assert not throttled.ok
    assert throttled.throttled_until is not None


def test_totp_token_check_refuses_another_users_device():
    officer, other = factories.staff(), factories.staff()
    with pytest.raises(ValueError, match="another user"):
        actions.totp_token_check(user=officer, device=totp_device(other), token="123456")


def test_totp_device_reset_by_self_or_administrator_only():
    officer = factories.staff("370102001")
    totp_device(officer)
    with pytest.raises(access.AccessDenied):
        actions.totp_device_reset(user=officer, actor=factories.staff("3702", ["administrator"]))
    with pytest.raises(access.AccessDenied):
        actions.totp_device_reset(user=officer, actor=factories.staff("370102001", ["station_chief"]))
    assert TOTPDevice.objects.filter(user=officer).exists()
    assert actions.totp_device_reset(user=officer, actor=factories.staff("3701", ["administrator"])) == 1
    assert not TOTPDevice.objects.filter(user=officer).exists()
    assert timeline.events_for(officer).filter(action="accounts.totp_reset").count() == 1


def test_password_change_needs_the_old_password_and_a_good_new_one():
    citizen = factories.citizen()
    with pytest.raises(ValidationError) as error:
        actions.password_change(user=citizen, old_password="wrong", new_password="a-good-new-passphrase")
    assert "old_password" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        actions.password_change(user=citizen, old_password=factories.PASSWORD, new_password="1234")
    assert "new_password1" in error.value.message_dict
    assert User.objects.get(pk=citizen.pk).check_password(factories.PASSWORD)
    actions.password_change(user=citizen, old_password=factories.PASSWORD, new_password="a-good-new-passphrase")
    assert User.objects.get(pk=citizen.pk).check_password("a-good-new-passphrase")


def test_reveal_can_include_the_name():
    citizen = factories.citizen("370102", name="李四")
    revealed = actions.personal_data_reveal(viewer=citizen, profile=citizen.citizen, fields=("name", "phone"))
    assert revealed == {"name": "李四", "phone": citizen.citizen.phone}
