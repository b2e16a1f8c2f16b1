"""Who sees which credentials (the shared permission matrix) and how claims are masked."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import AnonymousUser

from pingan.core import access
from pingan.credentials import catalog, queries
from pingan.credentials.apps import ACT_ROLES
from pingan.credentials.models import Credential
from pingan.credentials.tests.conftest import STATION
from pingan.testing import factories

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("who", "sees_licence", "sees_permit", "acts_on_permit"),
    [
        ("anonymous", False, False, False),
        ("holder", True, True, False),
        ("other_citizen", False, False, False),
        ("partner", False, False, False),
        ("station_counter", False, True, True),  # the permit's station; the licence is the city traffic police's
        ("station_community", False, True, False),  # sees, but the role may not act
        ("traffic_counter", True, True, True),  # a department post covers the Jinan bureau's subtree
        ("qingdao_counter", False, False, False),
        ("jinan_leader", True, True, True),
        ("province_auditor", True, True, False),  # reads everything below, never acts
        ("province_admin", True, True, False),
    ],
)
def test_the_permission_matrix(
    who, sees_licence, sees_permit, acts_on_permit, licence, permit, holder, traffic_officer
):
    users = {
        "anonymous": lambda: AnonymousUser(),
        "holder": lambda: holder,
        "other_citizen": lambda: factories.citizen(name="孙浩"),
        "partner": lambda: factories.partner(),
        "station_counter": lambda: factories.staff(STATION, ["counter_officer"]),
        "station_community": lambda: factories.staff(STATION, ["community_officer"]),
        "traffic_counter": lambda: traffic_officer,
        "qingdao_counter": lambda: factories.staff("370202001", ["counter_officer"]),
        "jinan_leader": lambda: factories.staff("3701", ["bureau_leader"]),
        "province_auditor": lambda: factories.staff("37", ["auditor"]),
        "province_admin": lambda: factories.staff("37", ["administrator"]),
    }
    user = users[who]()
    visible = set(queries.credentials_for(user).values_list("serial", flat=True))
    assert (licence.serial in visible) is sees_licence
    assert (permit.serial in visible) is sees_permit
    assert bool(access.check(user, "act", permit, role=ACT_ROLES)) is acts_on_permit
    if not sees_permit:
        with pytest.raises(Credential.DoesNotExist):
            queries.credential_get(user, permit.serial)


def test_the_wallet_is_the_holders_own_valid_first(licence, permit, holder, traffic_officer):
    from pingan.credentials import actions

    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    assert [c.serial for c in queries.wallet_for(holder)] == [permit.serial, licence.serial]
    assert queries.wallet_for(traffic_officer) == []


def test_filters(licence, permit, traffic_officer):
    assert list(queries.credentials_for(traffic_officer, kind="residence_permit")) == [permit]
    assert list(queries.credentials_for(traffic_officer, search=licence.serial.lower()[:9])) == [licence]
    assert not queries.credentials_for(traffic_officer, state="revoked").exists()


@pytest.mark.parametrize(
    ("mask", "value", "shown"),
    [
        ("none", "C1", "C1"),
        ("name", "赵敏", "赵*"),
        ("resident_id", "370102198806150242", "3701**********0242"),
        ("year", "1988-06-15", "1988-**-**"),
        ("full", "1988-06-15", "********"),
        ("partial", "山东省济南市历下区解放路1号", "山东省********路1号"),
        ("partial", "AB", "A*"),
        ("partial", "", ""),
    ],
)
def test_masks(mask, value, shown):
    claim = catalog.Claim(code="x", label_zh="x", label_en="x", type="text", mask=mask)
    assert queries.mask_value(claim, value) == shown


def test_claim_rows_mask_for_staff_and_not_for_the_holder(licence, holder):
    masked = {row.code: row.value for row in queries.claim_rows(licence, masked=True)}
    full = {row.code: row.value for row in queries.claim_rows(licence, masked=False)}
    assert masked["id_number"] != holder.citizen.id_number
    assert full["id_number"] == holder.citizen.id_number
    assert masked["vehicle_class"] == full["vehicle_class"] == "C1"
    assert masked["sex"] in {"男", "女"}
