"""Citizen lookup at the counter: masked, within jurisdiction, reveals logged."""

from __future__ import annotations

import datetime as dt

import pytest
from django.urls import reverse

from pingan.core import timeline
from pingan.core.identity import make_resident_id, mask_resident_id
from pingan.core.models import TimelineEvent

pytestmark = pytest.mark.django_db

LOOKUP = "/accounts/citizens/lookup/"
NOT_FOUND = "未找到该身份证号码对应的注册群众"


def reveal_url(profile) -> str:
    return reverse("accounts:citizen_reveal", args=[profile.pk])


def test_counter_officer_finds_a_citizen_masked_and_the_lookup_is_logged(client_for, counter, resident):
    response = client_for(counter).post(LOOKUP, {"id_number": resident.citizen.id_number})
    assert response.status_code == 200
    body = response.content.decode()
    assert mask_resident_id(resident.citizen.id_number) in body
    assert resident.citizen.phone not in body
    assert reveal_url(resident.citizen) in body
    read = timeline.events_for(resident.citizen).get(action="personal_data.read")
    assert read.actor_id == counter.pk
    assert read.data["purpose"] == "lookup"


def test_the_number_never_travels_in_a_url(client_for, counter, resident):
    response = client_for(counter).get(LOOKUP, {"id_number": resident.citizen.id_number})
    assert response.status_code == 200
    assert response.context["result"] is None


def test_out_of_jurisdiction_reads_like_not_found(client_for, outsider, counter, resident):
    outside = client_for(outsider).post(LOOKUP, {"id_number": resident.citizen.id_number})
    unknown = client_for(counter).post(LOOKUP, {"id_number": make_resident_id("370102", dt.date(1970, 1, 1), 999)})
    assert outside.status_code == unknown.status_code == 404
    assert NOT_FOUND in outside.content.decode()
    assert NOT_FOUND in unknown.content.decode()
    assert mask_resident_id(resident.citizen.id_number) not in outside.content.decode()
    assert not timeline.events_for(resident.citizen).filter(action="personal_data.read").exists()


@pytest.mark.parametrize("value", ["", "123", "370102199005170011", "9" * 100_000, "<script>alert(1)</script>"])
def test_malformed_numbers_are_400_with_a_message(client_for, counter, value):
    response = client_for(counter).post(LOOKUP, {"id_number": value})
    assert response.status_code == 400
    assert response.context["form"].errors["id_number"]


def test_reveal_shows_full_identifiers_and_is_logged(client_for, counter, resident):
    response = client_for(counter).post(reveal_url(resident.citizen), HTTP_HX_REQUEST="true")
    assert response.status_code == 200
    body = response.content.decode()
    assert resident.citizen.id_number in body
    assert resident.citizen.phone in body
    assert "李四" in body
    read = timeline.events_for(resident.citizen).get(action="personal_data.read")
    assert read.data == {"fields": ["name", "id_number", "phone"], "purpose": "unmask"}


def test_station_chief_may_reveal_too(client_for, chief, resident):
    assert client_for(chief).post(reveal_url(resident.citizen)).status_code == 200


def test_auditor_sees_masked_but_cannot_reveal(client_for, auditor, resident):
    client = client_for(auditor)
    found = client.post(LOOKUP, {"id_number": resident.citizen.id_number})
    assert found.status_code == 200
    assert reveal_url(resident.citizen) not in found.content.decode()
    refused = client.post(reveal_url(resident.citizen), HTTP_HX_REQUEST="true")
    assert refused.status_code == 403
    assert "不能查看完整证件号码" in refused.content.decode()
    assert resident.citizen.id_number not in refused.content.decode()
    denial = timeline.events_for(resident.citizen).get(action="access.denied")
    assert denial.actor_id == auditor.pk


def test_reveal_outside_jurisdiction_is_404(client_for, outsider, resident):
    response = client_for(outsider).post(reveal_url(resident.citizen))
    assert response.status_code == 404
    assert resident.citizen.id_number not in response.content.decode()


def test_reveal_is_post_only(client_for, counter, resident):
    assert client_for(counter).get(reveal_url(resident.citizen)).status_code == 405
    assert not TimelineEvent.objects.filter(action="personal_data.read").exists()
