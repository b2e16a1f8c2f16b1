"""Pages and published documents: the wallet, staff pages, keys.json, revoked.json, the verifier."""

from __future__ import annotations

import base64
import datetime as dt
import json
import re

import pytest
from django.urls import reverse
from django.utils import timezone

from pingan.core import timeline
from pingan.credentials import actions, keys, verify
from pingan.credentials.models import Credential
from pingan.credentials.tests.conftest import STATION, TRAFFIC, licence_claims
from pingan.testing import factories
from pingan.testing.signin import staff_login

pytestmark = pytest.mark.django_db


def payload_in(html: str) -> str:
    match = re.search(r"(PA1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)", html)
    assert match, "no payload on the page"
    return match.group(1)


# --- The citizen's wallet -----------------------------------------------------------------------


def test_the_wallet_lists_only_the_citizens_own_credentials(client, licence, permit, holder):
    other = factories.citizen(name="孙浩")
    theirs = actions.issue(
        kind="driving_licence", holder=other, claims=licence_claims(other), actor=None, org=factories.org(TRAFFIC)
    )
    client.force_login(holder)
    response = client.get(reverse("credentials:wallet"))
    assert response.status_code == 200
    html = response.content.decode()
    assert licence.serial in html
    assert permit.serial in html
    assert theirs.serial not in html
    assert "电子驾驶证" in html
    assert "电子居住证" in html
    assert 'class="cred-status cred-ok"' in html


def test_the_wallet_sends_others_where_they_belong(client, station_officer):
    response = client.get(reverse("credentials:wallet"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]
    staff_login(client, station_officer)
    response = client.get(reverse("credentials:wallet"))
    assert response.status_code == 302
    assert response["Location"] == reverse("credentials:staff_list")
    client.logout()
    client.force_login(factories.partner())
    assert client.get(reverse("credentials:wallet")).status_code == 403


def test_the_credential_page_shows_a_fresh_qr_without_inline_script(client, licence, holder):
    client.force_login(holder)
    response = client.get(licence.get_absolute_url())
    assert response.status_code == 200
    html = response.content.decode()
    assert 'src="data:image/svg+xml' in html
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None  # only external scripts (CSP)
    assert 'hx-get="/credentials/' in html
    assert "every 60s" in html
    assert "生成时间" in html
    payload = payload_in(html)
    result = verify.verify(payload, keys.keyset())
    assert result.valid
    # The default disclosure of a driving licence: its validity and the vehicle classes.
    assert result.disclosed == {"licence_valid": True, "vehicle_class": "C1"}
    assert response["Cache-Control"].startswith("max-age=0")
    assert timeline.events_for(licence).filter(action="credentials.presented", actor_id=holder.pk).count() == 1


def test_ticking_items_changes_what_the_qr_discloses(client, licence, holder):
    client.force_login(holder)
    url = reverse("credentials:qr", args=[licence.serial])
    response = client.get(url, {"sent": "1", "d": ["over_18", "name", "not_an_item"]}, headers={"HX-Request": "true"})
    assert response.status_code == 200
    html = response.content.decode()
    assert "<html" not in html  # the partial alone
    result = verify.verify(payload_in(html), keys.keyset())
    assert result.disclosed == {"over_18": True, "name": "赵敏"}
    nothing = client.get(url, {"sent": "1"})
    assert verify.verify(payload_in(nothing.content.decode()), keys.keyset()).disclosed == {}


def test_a_suspended_credential_shows_red_and_no_qr(client, licence, holder, traffic_officer):
    actions.suspend(licence, actor=traffic_officer, reason="暂扣")
    client.force_login(holder)
    html = client.get(licence.get_absolute_url()).content.decode()
    assert 'class="cred-status cred-bad"' in html
    assert "已暂停使用" in html
    assert "data:image/svg+xml" not in html
    assert not timeline.events_for(licence).filter(action="credentials.presented").exists()


def test_an_expired_credential_shows_red(client, holder):
    credential = actions.issue(
        kind="driving_licence",
        holder=holder,
        claims=licence_claims(holder),
        actor=None,
        org=factories.org(TRAFFIC),
        valid_until=timezone.localdate(),
    )
    Credential.objects.filter(pk=credential.pk).update(valid_until=timezone.localdate() - dt.timedelta(days=1))
    client.force_login(holder)
    html = client.get(reverse("credentials:wallet")).content.decode()
    assert "已过期" in html
    assert "cred-bad" in html


def test_another_citizens_credential_is_not_found(client, licence):
    client.force_login(factories.citizen(name="孙浩"))
    assert client.get(licence.get_absolute_url()).status_code == 404
    assert client.get(reverse("credentials:qr", args=[licence.serial])).status_code == 404
    assert client.get(reverse("credentials:detail", args=["DL-2025-NOTHERE0"])).status_code == 404


# --- Staff ----------------------------------------------------------------------------------------


def test_staff_see_credentials_of_their_jurisdiction_with_masked_claims(client, licence, permit, holder):
    qingdao_holder = factories.citizen("370202", name="孙浩", home_org_code="370202001")
    qingdao = actions.issue(
        kind="residence_permit",
        holder=qingdao_holder,
        claims={**actions.identity_claims(qingdao_holder), "address": "青岛市市南区", "residence_since": "2020-01-01"},
        actor=None,
        org=factories.org("370202001"),
    )
    chief = factories.staff(STATION, ["station_chief"])
    staff_login(client, chief)
    html = client.get(reverse("credentials:staff_list")).content.decode()
    assert permit.serial in html
    assert licence.serial not in html  # issued by the city traffic police, above the station
    assert qingdao.serial not in html
    assert "赵*" in html
    assert "赵敏" not in html

    response = client.get(reverse("credentials:staff_detail", args=[permit.serial]))
    assert response.status_code == 200
    html = response.content.decode()
    number = holder.citizen.id_number
    assert number not in html
    assert f"{number[:4]}**********{number[-4:]}" in html
    assert "1988-**-**" in html
    assert "赵敏" not in html
    assert 'data-action="suspend"' in html
    assert 'data-action="revoke"' in html
    read = timeline.events_for(permit).filter(action="personal_data.read").get()
    assert read.actor_id == chief.pk
    assert read.data["purpose"] == "view_masked"

    assert client.get(reverse("credentials:staff_detail", args=[qingdao.serial])).status_code == 404
    assert client.get(reverse("credentials:staff_detail", args=[licence.serial])).status_code == 404


def test_staff_list_filters_and_htmx_partial(client, licence, permit, traffic_officer):
    leader = factories.staff("3701", ["bureau_leader"])
    staff_login(client, leader)
    response = client.get(
        reverse("credentials:staff_list"), {"kind": "driving_licence"}, headers={"HX-Request": "true"}
    )
    html = response.content.decode()
    assert "<html" not in html
    assert licence.serial in html
    assert permit.serial not in html
    actions.revoke(permit, actor=leader, reason="注销")
    html = client.get(reverse("credentials:staff_list"), {"state": "revoked"}).content.decode()
    assert permit.serial in html
    assert licence.serial not in html
    html = client.get(
        reverse("credentials:staff_list"), {"q": licence.serial[:8].lower(), "kind": "bogus"}
    ).content.decode()
    assert licence.serial in html


def test_the_staff_list_makes_a_fixed_number_of_queries(client, holder, django_assert_max_num_queries):
    for _ in range(5):
        actions.issue(
            kind="driving_licence", holder=holder, claims=licence_claims(holder), actor=None, org=factories.org(TRAFFIC)
        )
    leader = factories.staff("3701", ["bureau_leader"])
    staff_login(client, leader)
    client.get(reverse("credentials:staff_list"))
    with django_assert_max_num_queries(12) as captured:
        client.get(reverse("credentials:staff_list"))
    few = len(captured.captured_queries)
    for _ in range(10):
        actions.issue(
            kind="driving_licence", holder=holder, claims=licence_claims(holder), actor=None, org=factories.org(TRAFFIC)
        )
    with django_assert_max_num_queries(few):
        client.get(reverse("credentials:staff_list"))


def test_staff_suspend_reinstate_and_revoke_through_the_page(client, permit, station_officer):
    staff_login(client, station_officer)
    url = reverse("credentials:staff_act", args=[permit.serial])
    response = client.post(url, {"action": "suspend", "version": permit.version, "reason": "核查居住信息"})
    assert response.status_code == 302
    permit.refresh_from_db()
    assert permit.state == "suspended"
    assert "已暂停使用" in client.get(response["Location"]).content.decode()
    response = client.post(url, {"action": "reinstate", "version": permit.version, "reason": "核查完毕"})
    assert response.status_code == 302
    permit.refresh_from_db()
    response = client.post(url, {"action": "revoke", "version": permit.version, "reason": "已迁出"})
    permit.refresh_from_db()
    assert permit.state == "revoked"
    assert permit.serial in keys.revocation_list_document()["body"]["revoked"][0]["id"]


def test_staff_act_refusals(client, permit, station_officer):
    staff_login(client, station_officer)
    url = reverse("credentials:staff_act", args=[permit.serial])
    response = client.post(url, {"action": "suspend", "version": permit.version, "reason": ""})
    assert response.status_code == 400
    assert "errorlist" in response.content.decode()
    assert client.post(url, {"action": "explode", "version": permit.version}).status_code == 400
    assert client.post(url, {"action": "suspend", "version": "x"}).status_code == 400
    response = client.post(url, {"action": "reinstate", "version": permit.version, "reason": "恢复"})
    assert response.status_code == 409
    stale = client.post(url, {"action": "suspend", "version": permit.version + 5, "reason": "暂停"})
    assert stale.status_code == 409
    permit.refresh_from_db()
    assert permit.state == "valid"


def test_auditors_read_but_never_act(client, permit):
    auditor = factories.staff("37", ["auditor"])
    staff_login(client, auditor)
    assert permit.serial in client.get(reverse("credentials:staff_list")).content.decode()
    html = client.get(reverse("credentials:staff_detail", args=[permit.serial])).content.decode()
    assert 'data-action="' not in html
    response = client.post(
        reverse("credentials:staff_act", args=[permit.serial]),
        {"action": "revoke", "version": permit.version, "reason": "审计"},
    )
    assert response.status_code == 403
    assert "此操作需要以下角色之一" in response.content.decode()
    permit.refresh_from_db()
    assert permit.state == "valid"


def test_a_role_that_may_not_act_sees_no_buttons(client, permit):
    officer = factories.staff(STATION, ["community_officer"])
    staff_login(client, officer)
    html = client.get(reverse("credentials:staff_detail", args=[permit.serial])).content.decode()
    assert "此证照目前无需您办理" in html
    response = client.post(
        reverse("credentials:staff_act", args=[permit.serial]),
        {"action": "suspend", "version": permit.version, "reason": "试试"},
    )
    assert response.status_code == 403


def test_citizens_cannot_open_staff_pages(client, permit, holder):
    client.force_login(holder)
    assert client.get(reverse("credentials:staff_list")).status_code == 403
    assert client.get(reverse("credentials:staff_detail", args=[permit.serial])).status_code == 403


# --- Published documents --------------------------------------------------------------------------


def test_keys_json_publishes_every_key(client, licence):
    actions.rotate_key(suite="ES256")
    response = client.get(reverse("credentials:keys"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "max-age=300" in response["Cache-Control"]
    document = response.json()
    assert [(key["suite"], key["status"]) for key in document["keys"]] == [("Ed25519", "retired"), ("ES256", "active")]
    for key in document["keys"]:
        assert set(key) == {"kid", "suite", "public_key", "valid_from", "retired_at", "status"}
    text = response.content.decode()
    assert "private" not in text
    assert len(verify.KeySet.from_json(document)) == 2


def test_revoked_json_is_a_signed_list(client, licence, traffic_officer):
    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    document = client.get(reverse("credentials:revoked")).json()
    keyset = verify.KeySet.from_json(client.get(reverse("credentials:keys")).json())
    listed = verify.load_revocation_list(document, keyset)
    assert listed.revoked == {licence.serial}
    assert "吊销" not in json.dumps(document, ensure_ascii=False)  # serials only, no reasons


# --- The verifier page ------------------------------------------------------------------------------


def test_the_verifier_shows_valid_and_only_the_disclosed_fields(client, licence, holder):
    payload = actions.present(licence, holder=holder, disclose=["over_18", "vehicle_class"])
    response = client.post(reverse("credentials:verify"), {"payload": payload})
    assert response.status_code == 200
    html = response.content.decode()
    assert "有效 VALID" in html
    assert "cred-result cred-ok" in html
    assert "年满18周岁" in html
    assert "准驾车型" in html
    assert "C1" in html
    assert "赵敏" not in html
    assert holder.citizen.id_number not in html
    assert licence.serial in html


def test_the_verifier_shows_invalid_in_red_with_the_reason(client, licence, holder, traffic_officer):
    payload = actions.present(licence, holder=holder, disclose=["vehicle_class"])
    actions.revoke(licence, actor=traffic_officer, reason="吊销")
    html = client.post(reverse("credentials:verify"), {"payload": payload}).content.decode()
    assert "无效 INVALID" in html
    assert "cred-result cred-bad" in html
    assert "证照已被撤销" in html
    result = html.split("</textarea>", 1)[-1]  # (the form echoes the payload, which is random base64)
    assert "C1" not in result

    prefix, body, signature = payload.split(".")
    raw = json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4)))
    raw["c"]["vehicle_class"] = "A1"
    forged = f"{prefix}.{base64.urlsafe_b64encode(json.dumps(raw).encode()).rstrip(b'=').decode()}.{signature}"
    html = client.post(reverse("credentials:verify"), {"payload": forged}).content.decode()
    assert "内容被篡改" in html
    assert "<dd>A1</dd>" not in html
    assert 'data-testid="disclosed"' not in html

    html = client.post(reverse("credentials:verify"), {"payload": "hello"}).content.decode()
    assert "格式错误" in html


def test_the_verifier_speaks_english(client, licence, holder):
    payload = actions.present(licence, holder=holder, disclose=[], now=timezone.now() - dt.timedelta(minutes=10))
    html = client.post(
        reverse("credentials:verify"), {"payload": payload}, headers={"Accept-Language": "en"}
    ).content.decode()
    assert "Presentation expired" in html


def test_the_verifier_refuses_empty_or_huge_input(client):
    assert client.get(reverse("credentials:verify")).status_code == 200
    response = client.post(reverse("credentials:verify"), {"payload": "  "})
    assert response.status_code == 400
    assert "请粘贴" in response.content.decode()
    assert client.post(reverse("credentials:verify"), {"payload": "P" * 5000}).status_code == 400


def test_the_menu_offers_the_wallet_to_citizens_and_the_verifier_to_anyone(client, holder):
    html = client.get(reverse("site:home")).content.decode()
    assert reverse("credentials:verify") in html
    assert f'href="{reverse("credentials:wallet")}"' not in html
    client.force_login(holder)
    html = client.get(reverse("site:home")).content.decode()
    assert f'href="{reverse("credentials:wallet")}"' in html
