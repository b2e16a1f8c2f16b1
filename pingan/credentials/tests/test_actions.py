"""Issuing, presenting, status changes and key rotation through the public actions."""

from __future__ import annotations

import base64
import datetime as dt
import json

import pytest
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from pingan.core import access, context, timeline, workflow
from pingan.credentials import actions, keys, verify
from pingan.credentials.models import Credential, SigningKey
from pingan.credentials.tests.conftest import STATION, TRAFFIC, licence_claims
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def body_of(payload: str) -> dict:
    part = payload.split(".")[1]
    return json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))


def check(payload: str, **kwargs) -> verify.Result:
    return verify.verify(payload, keys.keyset(), **kwargs)


# --- Issuing -----------------------------------------------------------------------------------


def test_issue_stores_a_signed_credential_with_the_default_validity(licence, holder, traffic_officer):
    assert licence.state == "valid"
    assert licence.serial.startswith(f"DL-{timezone.localdate().year}-")
    assert len(licence.serial) == len("DL-2025-7KQ3M9XD")
    assert licence.holder == holder
    assert licence.org.code == TRAFFIC
    assert licence.issued_by == traffic_officer
    today = timezone.localdate()
    assert licence.valid_until == dt.date(today.year + 6, today.month, today.day) - dt.timedelta(days=1) or (
        today.month == 2 and today.day == 29
    )
    assert licence.claims["vehicle_class"] == "C1"
    assert licence.claims["id_number"] == holder.citizen.id_number
    assert actions.record_intact(licence)
    event = timeline.events_for(licence).get(action="credentials.issued")
    assert event.actor_id == traffic_officer.pk
    assert event.data["serial"] == licence.serial
    assert event.org_path == factories.org(TRAFFIC).path
    # The timeline names the claims, never their values.
    assert holder.citizen.id_number not in json.dumps(event.data, ensure_ascii=False)


def test_claims_are_encrypted_at_rest(licence, holder):
    with connection.cursor() as cursor:
        cursor.execute("SELECT claims_data FROM credentials_credential WHERE id = %s", [licence.pk])
        stored = cursor.fetchone()[0]
    assert holder.citizen.id_number not in stored
    assert "赵敏" not in stored
    assert "370100123456" not in stored  # the file number
    assert Credential.objects.get(pk=licence.pk).claims["name"] == "赵敏"


def test_private_keys_are_encrypted_at_rest(licence):
    key = SigningKey.objects.get(is_active=True)
    with connection.cursor() as cursor:
        cursor.execute("SELECT private_key FROM credentials_signingkey WHERE id = %s", [key.pk])
        stored = cursor.fetchone()[0]
    assert stored != key.private_key
    assert key.private_key not in stored


def test_issue_with_explicit_validity_and_source_is_idempotent(holder, station_officer):
    until = timezone.localdate() + dt.timedelta(days=30)
    first = actions.issue(
        kind="residence_permit",
        holder=holder,
        claims={**actions.identity_claims(holder), "address": "济南市历下区", "residence_since": "2021-01-01"},
        actor=station_officer,
        org=factories.org(STATION),
        source=("eservices.application", "42"),
        valid_until=until,
    )
    again = actions.issue(
        kind="residence_permit",
        holder=holder,
        claims={**actions.identity_claims(holder), "address": "济南市历下区", "residence_since": "2021-01-01"},
        actor=station_officer,
        org=factories.org(STATION),
        source=("eservices.application", "42"),
    )
    assert again.pk == first.pk
    assert first.valid_until == until
    assert (first.source_type, first.source_id) == ("eservices.application", "42")
    actions.revoke(first, actor=station_officer, reason="迁出本市")
    renewed = actions.issue(
        kind="residence_permit",
        holder=holder,
        claims={**actions.identity_claims(holder), "address": "济南市历下区", "residence_since": "2021-01-01"},
        actor=station_officer,
        org=factories.org(STATION),
        source=("eservices.application", "42"),
    )
    assert renewed.pk != first.pk


@pytest.mark.parametrize(
    ("kind", "claims", "field", "message"),
    [
        ("passport", {}, "kind", "未知的证照类型"),
        ("driving_licence", {"vehicle_class": "C1"}, "name", "必填"),
        ("driving_licence", {"colour": "red"}, "colour", "不是「电子驾驶证」的内容项"),
        ("driving_licence", {"birth_date": "1988-02-30"}, "birth_date", "YYYY-MM-DD"),
        ("driving_licence", {"id_number": "370102198806150241"}, "id_number", "校验位"),
        ("driving_licence", {"sex": "X"}, "sex", "M（男）或 F（女）"),
        ("driving_licence", {"vehicle_class": "C" * 201}, "vehicle_class", "1至200"),
        ("driving_licence", {"vehicle_class": "C1\x00"}, "vehicle_class", "控制字符"),
        ("driving_licence", {"vehicle_class": 1}, "vehicle_class", "应为文本"),
    ],
)
def test_bad_claims_are_refused_by_field(holder, traffic_officer, kind, claims, field, message):
    base = licence_claims(holder) if kind == "driving_licence" else {}
    if field == "name":
        base = {}
    with pytest.raises(ValidationError) as caught:
        actions.issue(
            kind=kind, holder=holder, claims={**base, **claims}, actor=traffic_officer, org=factories.org(TRAFFIC)
        )
    assert message in " ".join(caught.value.message_dict[field])
    assert not Credential.objects.exists()


def test_the_id_number_must_be_the_holders(holder, traffic_officer):
    other = factories.citizen(name="孙浩")
    with pytest.raises(ValidationError) as caught:
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder, id_number=other.citizen.id_number),
            actor=traffic_officer,
            org=factories.org(TRAFFIC),
        )
    assert "与持证人的实名信息不一致" in caught.value.message_dict["id_number"][0]


def test_claims_must_be_a_mapping(holder, traffic_officer):
    with pytest.raises(ValidationError) as caught:
        actions.issue(
            kind="driving_licence", holder=holder, claims=["C1"], actor=traffic_officer, org=factories.org(TRAFFIC)
        )  # type: ignore[arg-type]
    assert "claims" in caught.value.message_dict


def test_the_holder_must_be_a_citizen(traffic_officer):
    with pytest.raises(ValidationError) as caught:
        actions.issue(kind="driving_licence", holder=traffic_officer, claims={}, actor=None, org=factories.org(TRAFFIC))
    assert "群众" in caught.value.message_dict["holder"][0]


def test_the_issuing_unit_must_be_the_right_department(holder):
    with pytest.raises(ValidationError) as caught:
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder),
            actor=None,
            org=factories.org("3701-criminal"),
        )
    assert "不是「电子驾驶证」的签发部门" in caught.value.message_dict["org"][0]
    grid = factories.org(STATION).children.filter(kind="grid").first()
    with pytest.raises(ValidationError) as caught:
        actions.issue(kind="residence_permit", holder=holder, claims={}, actor=None, org=grid)
    assert "警格" in caught.value.message_dict["org"][0]


def test_valid_until_must_not_be_in_the_past(holder, traffic_officer):
    with pytest.raises(ValidationError) as caught:
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder),
            actor=traffic_officer,
            org=factories.org(TRAFFIC),
            valid_until=timezone.localdate() - dt.timedelta(days=1),
        )
    assert "valid_until" in caught.value.message_dict


def test_staff_issue_only_within_their_jurisdiction(holder):
    qingdao = factories.staff("370202001", ["counter_officer"])
    with pytest.raises(access.AccessDenied) as caught:
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder),
            actor=qingdao,
            org=factories.org(TRAFFIC),
        )
    assert caught.value.decision.status == 403
    auditor = factories.staff("37", ["auditor"])
    with pytest.raises(access.AccessDenied):
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder),
            actor=auditor,
            org=factories.org(TRAFFIC),
        )
    with pytest.raises(access.AccessDenied):
        actions.issue(
            kind="driving_licence",
            holder=holder,
            claims=licence_claims(holder),
            actor=holder,
            org=factories.org(TRAFFIC),
        )
    assert not Credential.objects.exists()
    denials = timeline.events_for(("orgs.orgunit", str(factories.org(TRAFFIC).pk))).filter(action="access.denied")
    assert denials.count() == 3


def test_the_network_id_is_deidentified(holder):
    claims = actions.network_id_claims(holder)
    assert set(claims) == {"pseudonym", "masked_name", "birth_date"}
    assert claims["masked_name"] == "赵*"
    assert len(claims["pseudonym"]) == 32
    assert holder.citizen.id_number not in json.dumps(claims)
    credential = actions.issue(
        kind="network_id", holder=holder, claims=claims, actor=None, org=factories.org("37-household")
    )
    # Stable for the person, different from the account's own lookup hash.
    assert actions.network_id_claims(holder)["pseudonym"] == credential.claims["pseudonym"]
    assert credential.claims["pseudonym"] not in holder.citizen.id_number_hash
    payload = actions.present(credential, holder=holder, disclose=["id_valid", "over_18", "masked_name", "pseudonym"])
    body = body_of(payload)
    assert "birth_date" not in body["c"]
    assert body["p"] == {"id_valid": True, "over_18": True}
    text = base64.urlsafe_b64decode(payload.split(".")[1] + "==").decode()
    assert holder.citizen.id_number not in text
    assert "赵敏" not in text


def test_a_network_id_refuses_identifying_values(holder):
    claims = {**actions.network_id_claims(holder), "masked_name": holder.citizen.id_number}
    with pytest.raises(ValidationError) as caught:
        actions.issue(kind="network_id", holder=holder, claims=claims, actor=None, org=factories.org("37-household"))
    assert "不得含有身份证号码" in caught.value.message_dict["masked_name"][0]
    claims = {**actions.network_id_claims(holder), "masked_name": "赵敏"}
    with pytest.raises(ValidationError) as caught:
        actions.issue(kind="network_id", holder=holder, claims=claims, actor=None, org=factories.org("37-household"))
    assert "完整姓名" in caught.value.message_dict["masked_name"][0]


# --- Presenting and verifying --------------------------------------------------------------------


def test_issue_present_verify_round_trip(licence, holder):
    payload = actions.present(licence, holder=holder, disclose=["licence_valid", "vehicle_class", "over_18"])
    result = check(payload)
    assert result.valid, result.reason
    assert result.serial == licence.serial
    assert result.kind == "driving_licence"
    assert result.status == "valid"
    assert result.claims == {"vehicle_class": "C1"}
    assert result.predicates == {"licence_valid": True, "over_18": True}
    assert result.expires == licence.valid_until.isoformat()
    assert result.kid == SigningKey.objects.get(is_active=True).kid
    assert (result.expires_at - result.generated_at).total_seconds() == actions.PRESENTATION_SECONDS
    event = timeline.events_for(licence).get(action="credentials.presented")
    assert event.actor_id == holder.pk
    assert event.data["disclosed"] == ["licence_valid", "over_18", "vehicle_class"]


def test_undisclosed_fields_are_absent_from_the_payload(licence, holder):
    payload = actions.present(licence, holder=holder, disclose=["over_18"])
    body = body_of(payload)
    assert body["c"] == {}
    assert body["p"] == {"over_18": True}
    raw = base64.urlsafe_b64decode(payload.split(".")[1] + "==").decode()
    for secret in (holder.citizen.id_number, "赵敏", "1988-06-15", "C1", "370100123456"):
        assert secret not in raw
    assert check(payload).disclosed == {"over_18": True}


def test_nothing_disclosed_still_proves_the_credential(licence, holder):
    result = check(actions.present(licence, holder=holder, disclose=[]))
    assert result.valid
    assert result.disclosed == {}


def test_only_disclosable_items_may_be_disclosed(licence, holder):
    with pytest.raises(ValidationError) as caught:
        actions.present(licence, holder=holder, disclose=["vehicle_class", "blood_type"])
    assert "blood_type" in caught.value.message_dict["disclose"][0]
    with pytest.raises(ValidationError):
        actions.present(licence, holder=holder, disclose="vehicle_class")  # type: ignore[arg-type]


def test_the_age_predicate_is_computed_when_presented(holder, traffic_officer):
    teen = factories.citizen(name="李小明", birth=dt.date(2008, 6, 20))
    credential = actions.issue(
        kind="residence_permit",
        holder=teen,
        claims={**actions.identity_claims(teen), "address": "济南市历下区", "residence_since": "2020-01-01"},
        actor=None,
        org=factories.org(STATION),
    )
    before = dt.datetime(2026, 6, 19, 12, 0, tzinfo=verify.CHINA)
    on_birthday = dt.datetime(2026, 6, 20, 0, 0, 1, tzinfo=verify.CHINA)
    assert body_of(actions.present(credential, holder=teen, disclose=["over_18"], now=before))["p"] == {
        "over_18": False
    }
    assert body_of(actions.present(credential, holder=teen, disclose=["over_18"], now=on_birthday))["p"] == {
        "over_18": True
    }


def test_only_the_holder_presents(licence, traffic_officer):
    other = factories.citizen(name="孙浩")
    for user in (other, traffic_officer, None):
        with pytest.raises(access.AccessDenied) as caught:
            actions.present(licence, holder=user, disclose=["licence_valid"])
        assert caught.value.decision.status == 404
    assert not timeline.events_for(licence).filter(action="credentials.presented").exists()


def test_a_presentation_goes_stale(licence, holder):
    generated = timezone.now() - dt.timedelta(minutes=4)
    payload = actions.present(licence, holder=holder, disclose=["licence_valid"], now=generated)
    assert check(payload).code == "presentation_expired"
    assert check(payload, now=generated + dt.timedelta(minutes=2)).valid


def test_an_expired_credential_presents_as_expired(holder, traffic_officer):
    credential = actions.issue(
        kind="driving_licence",
        holder=holder,
        claims=licence_claims(holder),
        actor=traffic_officer,
        org=factories.org(TRAFFIC),
        valid_until=timezone.localdate(),
    )
    tomorrow = timezone.now() + dt.timedelta(days=1)
    payload = actions.present(credential, holder=holder, disclose=["licence_valid"], now=tomorrow)
    assert body_of(payload)["p"] == {"licence_valid": False}
    assert check(payload, now=tomorrow).code == "credential_expired"


def test_a_row_altered_in_the_database_is_not_presented(licence, holder):
    Credential.objects.filter(pk=licence.pk).update(valid_until=dt.date(2099, 1, 1))
    altered = Credential.objects.get(pk=licence.pk)
    assert not actions.record_intact(altered)
    with pytest.raises(ValidationError, match="校验未通过"):
        actions.present(altered, holder=holder, disclose=["licence_valid"])
    assert timeline.events_for(licence).filter(action="credentials.integrity_failed").exists()


# --- Status changes -------------------------------------------------------------------------------


def test_suspend_reinstate_revoke(licence, holder, traffic_officer):
    actions.suspend(licence, actor=traffic_officer, reason="涉嫌违法，暂扣调查")
    assert licence.state == "suspended"
    assert licence.status_reason == "涉嫌违法，暂扣调查"
    payload = actions.present(licence, holder=holder, disclose=["licence_valid"])
    assert body_of(payload)["p"] == {"licence_valid": False}
    assert check(payload).code == "suspended"

    actions.reinstate(licence, actor=traffic_officer, reason="调查结束")
    assert Credential.objects.get(pk=licence.pk).state == "valid"
    assert check(actions.present(licence, holder=holder, disclose=["licence_valid"])).valid

    valid_payload = actions.present(licence, holder=holder, disclose=["licence_valid"])
    actions.revoke(licence, actor=traffic_officer, reason="驾驶证被依法吊销")
    assert Credential.objects.get(pk=licence.pk).state == "revoked"
    assert check(actions.present(licence, holder=holder, disclose=[])).code == "revoked"
    # A presentation made before the revocation is caught by the revocation list.
    assert check(valid_payload).valid
    document = keys.revocation_list_document()
    assert check(valid_payload, revoked=document).code == "revoked"
    steps = list(timeline.events_for(licence).filter(action__startswith="workflow.").values_list("action", flat=True))
    assert steps == ["workflow.suspend", "workflow.reinstate", "workflow.revoke"]


def test_revoked_is_final_and_wrong_states_are_refused(licence, traffic_officer):
    with pytest.raises(workflow.IllegalTransition):
        actions.reinstate(licence, actor=traffic_officer, reason="无")
    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    for change in (actions.suspend, actions.reinstate, actions.revoke):
        with pytest.raises(workflow.IllegalTransition):
            change(licence, actor=traffic_officer, reason="再次操作")


def test_a_reason_is_required(licence, traffic_officer):
    with pytest.raises(workflow.InputInvalid) as caught:
        actions.revoke(licence, actor=traffic_officer, reason=" ")
    assert "reason" in caught.value.errors
    assert Credential.objects.get(pk=licence.pk).state == "valid"


def test_status_changes_need_a_role_in_jurisdiction(licence, holder):
    outside = factories.staff("370202001", ["counter_officer"])
    with pytest.raises(access.AccessDenied) as caught:
        actions.suspend(licence, actor=outside, reason="越权")
    assert caught.value.decision.status == 404
    wrong_role = factories.staff(TRAFFIC, ["investigator"])
    with pytest.raises(access.AccessDenied) as caught:
        actions.suspend(licence, actor=wrong_role, reason="越权")
    assert caught.value.decision.status == 403
    auditor = factories.staff("37", ["auditor"])
    with pytest.raises(access.AccessDenied) as caught:
        actions.revoke(licence, actor=auditor, reason="越权")
    assert caught.value.decision.status == 403
    with pytest.raises(access.AccessDenied):
        actions.revoke(licence, actor=holder, reason="不想要了")
    chief = factories.staff("3701", ["bureau_leader"])
    actions.suspend(licence, actor=chief, reason="上级决定")
    assert licence.state == "suspended"
    actions.revoke(licence, actor=None, reason="系统：驾驶人死亡注销")
    assert licence.state == "revoked"


def test_a_stale_version_is_a_conflict(licence, traffic_officer):
    version = licence.version
    actions.suspend(licence, actor=traffic_officer, reason="暂扣")
    with pytest.raises(workflow.Conflict):
        actions.reinstate(licence, actor=traffic_officer, reason="恢复", expected_version=version)


def test_the_revocation_list_is_signed_and_lists_revoked_and_suspended(
    licence, permit, traffic_officer, station_officer
):
    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    actions.suspend(permit, actor=station_officer, reason="核查")
    document = keys.revocation_list_document()
    assert [entry["id"] for entry in document["body"]["revoked"]] == [licence.serial]
    assert [entry["id"] for entry in document["body"]["suspended"]] == [permit.serial]
    listed = verify.load_revocation_list(document, keys.keyset())
    assert listed.revoked == {licence.serial}
    assert listed.suspended == {permit.serial}


# --- Keys ------------------------------------------------------------------------------------------


def test_rotation_keeps_old_presentations_and_credentials_valid(licence, holder):
    old = SigningKey.objects.get(is_active=True)
    before = actions.present(licence, holder=holder, disclose=["licence_valid"])
    new = actions.rotate_key()
    assert new.kid != old.kid
    old.refresh_from_db()
    assert not old.is_active
    assert old.retired_at is not None
    document = keys.keyset_document()
    assert [(k["kid"], k["status"]) for k in document["keys"]] == [(old.kid, "retired"), (new.kid, "active")]
    assert document["keys"][0]["retired_at"].endswith("Z")
    # Signed before the rotation: still valid with the retired key.
    assert check(before).valid
    assert check(before).kid == old.kid
    # The issued credential was signed by the old key and still presents; new presentations use the new key.
    assert licence.issuer_kid == old.kid
    after = actions.present(licence, holder=holder, disclose=["licence_valid"])
    assert body_of(after)["kid"] == new.kid
    assert check(after).valid
    # And new issues use the active key.
    fresh = actions.issue(
        kind="driving_licence", holder=holder, claims=licence_claims(holder), actor=None, org=factories.org(TRAFFIC)
    )
    assert fresh.issuer_kid == new.kid
    assert timeline.events_for(new).filter(action="credentials.key_rotated").get().data["retired"] == old.kid


def test_rotation_to_a_second_suite(licence, holder):
    key = actions.rotate_key(suite="ES256")
    assert key.suite == "ES256"
    payload = actions.present(licence, holder=holder, disclose=["vehicle_class"])
    assert len(payload.split(".")[2]) == 86
    assert check(payload).valid
    assert actions.record_intact(licence)  # signed by the Ed25519 key, still checked
    with pytest.raises(ValidationError):
        actions.rotate_key(suite="SM2")


def test_a_presentation_signed_with_a_key_retired_before_it_was_made_is_refused(licence, holder):
    old = SigningKey.objects.get(is_active=True)
    actions.rotate_key()
    # Forge what the retired key would sign now (it is still on the server, but no longer active).
    body = body_of(actions.present(licence, holder=holder, disclose=[]))
    body.update(kid=old.kid, gen=body["gen"] + 2, pex=body["pex"] + 2)  # keys.json times are whole seconds
    payload = keys.sign_presentation(body, old)
    assert check(payload, now=body["gen"]).code == "key_retired"


def test_only_administrators_rotate(traffic_officer):
    with pytest.raises(access.AccessDenied):
        actions.rotate_key(actor=traffic_officer)
    admin = factories.staff("37", ["administrator"])
    with context.acting_as(admin):
        assert actions.rotate_key(actor=admin).is_active
    assert SigningKey.objects.filter(is_active=True).count() == 1


def test_the_first_key_is_made_on_first_use():
    assert not SigningKey.objects.exists()
    key = keys.active_key()
    assert key.suite == "Ed25519"
    assert keys.active_key() == key
    assert timeline.events_for(key).filter(action="credentials.key_created").exists()
