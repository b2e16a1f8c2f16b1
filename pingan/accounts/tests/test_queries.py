"""Reads of accounts: scoped by jurisdiction, no query per row."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from pingan.accounts import actions, queries
from pingan.accounts.models import CitizenProfile, StaffProfile
from pingan.testing import factories
from pingan.testing.signin import totp_device

from .conftest import JINAN_STATION, JINAN_STATION_2, qingdao_station_code

pytestmark = pytest.mark.django_db


def test_staff_directory_is_scoped_and_filtered(city_admin, counter, community, outsider, auditor):
    everyone = {member.badge_number for member in queries.staff_directory_for(city_admin)}
    assert {counter.username, community.username, auditor.username, city_admin.username} <= everyone
    assert outsider.username not in everyone
    by_role = queries.staff_directory_for(city_admin, role="community_officer")
    assert [member.badge_number for member in by_role] == [community.username]
    in_unit = queries.staff_directory_for(city_admin, unit=factories.org(JINAN_STATION))
    assert {member.badge_number for member in in_unit} == {counter.username, community.username}
    assert not queries.staff_directory_for(factories.citizen()).exists()
    assert not queries.staff_directory_for(None).exists()


def test_staff_directory_loads_active_posts_in_a_fixed_number_of_queries(city_admin):
    for number in range(6):
        member = factories.staff(JINAN_STATION, ["counter_officer"])
        ended = actions.post_add(user=member, org=factories.org(JINAN_STATION_2), role="dispatcher")
        if number % 2:
            actions.post_end(post=ended)
    city_admin.access_posts()  # the viewer's posts are read once per request, whatever the list
    with CaptureQueriesContext(connection) as queries_run:
        rows = list(queries.staff_directory_for(city_admin, role="counter_officer"))
        roles = [sorted(post.role for post in member.user.active_posts) for member in rows]
    assert len(queries_run.captured_queries) == 2  # the staff, then their active posts with units
    assert roles.count(["counter_officer", "dispatcher"]) == 3
    assert roles.count(["counter_officer"]) == 3


def test_staff_get_hides_what_is_out_of_view(city_admin, outsider, counter):
    assert queries.staff_get(city_admin, counter.username).user == counter
    with pytest.raises(StaffProfile.DoesNotExist):
        queries.staff_get(city_admin, outsider.username)


def test_citizen_get_is_scoped(counter, outsider, resident):
    assert queries.citizen_get(counter, resident.citizen.pk) == resident.citizen
    assert queries.citizen_get(resident, resident.citizen.pk) == resident.citizen
    with pytest.raises(CitizenProfile.DoesNotExist):
        queries.citizen_get(outsider, resident.citizen.pk)
    with pytest.raises(CitizenProfile.DoesNotExist):
        queries.citizen_get(factories.citizen("370202", home_org_code=qingdao_station_code()), resident.citizen.pk)


def test_totp_device_of_returns_only_confirmed_devices(counter):
    assert queries.totp_device_of(counter) is None
    actions.totp_device_prepare(user=counter)
    assert queries.totp_device_of(counter) is None
    device = totp_device(counter)
    assert queries.totp_device_of(counter) == device
    assert queries.totp_device_of(None) is None
