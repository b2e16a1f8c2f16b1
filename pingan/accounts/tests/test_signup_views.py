"""Citizen sign-up: identifiers checked by ``core.identity``, one account per person."""

from __future__ import annotations

import datetime as dt

import pytest
from django.contrib.auth import SESSION_KEY
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from pingan.accounts import queries
from pingan.accounts.models import CitizenProfile, User
from pingan.core.identity import id_check_char, make_resident_id
from pingan.testing import factories

pytestmark = pytest.mark.django_db

SIGNUP = "/accounts/signup/"
GOOD_ID = make_resident_id("370102", dt.date(1988, 8, 8), 123)


def form(**changes: str) -> dict[str, str]:
    data = {
        "name": "陈明",
        "id_number": GOOD_ID,
        "phone": "13812345678",
        "password1": factories.PASSWORD,
        "password2": factories.PASSWORD,
        "consent": "on",
    }
    data.update(changes)
    return {key: value for key, value in data.items() if value is not None}


def wrong_check_digit(number: str) -> str:
    return number[:17] + ("0" if number[17] != "0" else "1")


def field_errors(response, field: str) -> list[str]:
    return list(response.context["form"].errors.get(field, []))


def test_page_explains_what_is_stored_and_why(client):
    body = client.get(SIGNUP).content.decode()
    assert "个人信息保护说明" in body
    assert "加密保存" in body


def test_valid_sign_up_signs_in_and_opens_my_account(client):
    response = client.post(SIGNUP, form())
    assert response.status_code == 302
    assert response["Location"] == reverse("accounts:me")
    profile = CitizenProfile.objects.get()
    assert profile.user.name == "陈明"
    assert profile.id_number == GOOD_ID
    assert profile.home_org.code == "370102"
    assert client.session[SESSION_KEY] == str(profile.user_id)
    assert client.get(reverse("accounts:me")).status_code == 200


def test_residence_station_is_where_the_citizen_is_served(client):
    page = client.get(SIGNUP).content.decode()
    assert 'hx-get="/orgs/stations/"' in page
    assert "历下区" in page
    response = client.post(SIGNUP, form(county="370103", station="370103002"))
    assert response.status_code == 302
    assert CitizenProfile.objects.get().home_org.code == "370103002"


def test_county_alone_makes_the_county_bureau_the_home(client):
    client.post(SIGNUP, form(county="370202"))
    assert CitizenProfile.objects.get().home_org.code == "370202"


@pytest.mark.parametrize(
    ("county", "station"), [("370102", "370103002"), ("", "370103002"), ("370102", "9999"), ("999999", "")]
)
def test_station_must_belong_to_the_chosen_county(client, county, station):
    response = client.post(SIGNUP, form(county=county, station=station))
    assert response.status_code == 400
    assert not CitizenProfile.objects.exists()


def test_a_counter_officer_at_the_residence_station_finds_the_citizen(client):
    client.post(SIGNUP, form(county="370102", station="370102001"))
    officer = factories.staff("370102001", ["counter_officer"])
    assert queries.citizen_by_id_number(officer, GOOD_ID) is not None


def test_spaces_and_lowercase_are_normalised(client):
    spaced = " ".join([GOOD_ID[:6], GOOD_ID[6:14], GOOD_ID[14:].lower()])
    assert client.post(SIGNUP, form(id_number=spaced, phone="138-1234-5678")).status_code == 302
    profile = CitizenProfile.objects.get()
    assert profile.id_number == GOOD_ID
    assert profile.phone == "13812345678"


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("id_number", wrong_check_digit(GOOD_ID), "校验位不正确"),
        ("id_number", make_resident_id("999999", dt.date(1988, 8, 8), 1), "不是有效的县级行政区划代码"),
        ("id_number", "370102198808081", "应为18位"),
        ("id_number", "37010219880808123Y", "最后一位为数字或X"),
        ("phone", "12345678901", "手机号码"),
        ("phone", "1381234567a", "手机号码"),
        ("name", "", "必填"),
    ],
)
def test_each_bad_identifier_is_explained_on_its_field(client, field, value, message):
    response = client.post(SIGNUP, form(**{field: value}))
    assert response.status_code == 400
    errors = field_errors(response, field)
    assert any(message in error for error in errors), errors
    assert not User.objects.filter(kind="citizen").exists()


def test_future_birth_date_is_refused(client):
    tomorrow = timezone.localdate() + dt.timedelta(days=1)
    first17 = f"370102{tomorrow:%Y%m%d}001"
    response = client.post(SIGNUP, form(id_number=first17 + id_check_char(first17)))
    assert response.status_code == 400
    assert any("晚于今天" in error for error in field_errors(response, "id_number"))
    assert not CitizenProfile.objects.exists()


def test_several_problems_are_shown_at_once(client):
    response = client.post(SIGNUP, form(id_number=wrong_check_digit(GOOD_ID), phone="123", password2="different-pw-1"))
    assert response.status_code == 400
    errors = response.context["form"].errors
    assert {"id_number", "phone", "password2"} <= set(errors)


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"password2": "another-long-passphrase"}, "password2"),
        ({"password1": "12345678901", "password2": "12345678901"}, "password1"),
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"consent": None}, "consent"),
    ],
)
def test_password_rules_and_consent(client, changes, field):
    response = client.post(SIGNUP, form(**changes))
    assert response.status_code == 400
    assert field_errors(response, field)
    assert not CitizenProfile.objects.exists()


def test_double_submit_creates_one_account_and_signs_in(client):
    first = client.post(SIGNUP, form())
    assert first.status_code == 302
    # A second tab (or a double click) submitted before the first response set its cookie.
    second = Client().post(SIGNUP, form())
    assert second.status_code == 302
    assert second["Location"] == reverse("accounts:me")
    assert CitizenProfile.objects.count() == 1


def test_same_id_number_with_another_password_is_a_clear_message(client):
    client.post(SIGNUP, form())
    other = Client()
    response = other.post(SIGNUP, form(password1="another-long-passphrase", password2="another-long-passphrase"))
    assert response.status_code == 400
    assert any("已注册" in error for error in field_errors(response, "id_number"))
    assert CitizenProfile.objects.count() == 1
    assert SESSION_KEY not in other.session


def test_mobile_of_another_account_is_refused_on_the_phone_field(client):
    existing = factories.citizen("370102")
    response = client.post(SIGNUP, form(phone=existing.citizen.phone))
    assert response.status_code == 400
    assert any("已被其他账号使用" in error for error in field_errors(response, "phone"))
    assert CitizenProfile.objects.count() == 1


@pytest.mark.parametrize("field", ["name", "id_number", "phone", "password1"])
def test_oversize_values_are_400(client, field):
    response = client.post(SIGNUP, form(**{field: "9" * 100_000}))
    assert response.status_code == 400
    assert not CitizenProfile.objects.exists()


def test_signed_in_visitor_is_not_signed_up_again(client):
    resident = factories.citizen("370102")
    client.force_login(resident)
    response = client.post(SIGNUP, form())
    assert response.status_code == 302
    assert not CitizenProfile.objects.exclude(pk=resident.citizen.pk).exists()
