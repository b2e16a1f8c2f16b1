"""The permission matrix of every endpoint: anonymous, citizen (own / other), staff inside /
outside the jurisdiction, right / wrong role, auditor, provincial administrator — each
signed in by token and by session (``client_for``). Plus CSRF and the second factor."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from rest_framework.test import APIClient

from pingan.api.tests.conftest import error_of, session_client, token_client
from pingan.core.models import TimelineEvent
from pingan.testing import factories

pytestmark = pytest.mark.django_db

WHO = ["anonymous", "citizen_own", "citizen_other", "staff_in", "staff_out", "wrong_role", "auditor", "admin"]


@pytest.fixture
def people(officer, dispatcher, outsider, auditor, admin, resident, other_resident) -> dict[str, Any]:
    """``staff_in``: a Jinan counter officer (may unmask); ``wrong_role``: a Jinan dispatcher
    (may view, may not unmask); ``staff_out``: a Qingdao counter officer. The subject of the
    citizen endpoints is ``resident`` (Jinan), who is ``citizen_own``."""
    return {
        "anonymous": None,
        "citizen_own": resident,
        "citizen_other": other_resident,
        "staff_in": officer,
        "staff_out": outsider,
        "wrong_role": dispatcher,
        "auditor": auditor,
        "admin": admin,
    }


@pytest.fixture
def call(people, client_for) -> Callable[[str, str, str, dict | None], Any]:
    def send(who: str, method: str, path: str, data: dict | None = None) -> Any:
        user = people[who]
        client = APIClient() if user is None else client_for(user)
        if method == "get":
            return client.get(path, data or {})
        return client.post(path, data or {}, format="json")

    return send


def check(response: Any, expected: int) -> None:
    assert response.status_code == expected, (response.status_code, response.content[:300])
    if expected >= 400:
        error_of(response)


ORGS = dict.fromkeys(WHO, 200)
ME = {**dict.fromkeys(WHO, 200), "anonymous": 401}
STAFF_DETAIL = {**dict.fromkeys(WHO, 200), "anonymous": 401, "citizen_own": 403, "citizen_other": 403, "staff_out": 404}
CITIZEN_READ = STAFF_DETAIL
REVEAL = {**CITIZEN_READ, "wrong_role": 403, "auditor": 403, "admin": 403}
TIMELINE_SUBJECT = {**dict.fromkeys(WHO, 200), "anonymous": 401, "citizen_other": 404, "staff_out": 404}
TIMELINE_ORG = {**dict.fromkeys(WHO, 403), "anonymous": 401, "auditor": 200, "admin": 200}


@pytest.mark.parametrize("who", WHO)
def test_orgs_are_public(call, who):
    check(call(who, "get", "/api/v1/orgs/", {"level": "city"}), ORGS[who])
    check(call(who, "get", "/api/v1/orgs/370102001/"), ORGS[who])


@pytest.mark.parametrize("who", WHO)
def test_me(call, people, who):
    response = call(who, "get", "/api/v1/me/")
    check(response, ME[who])
    if response.status_code == 200:
        assert response.json()["id"] == people[who].pk


@pytest.mark.parametrize("who", WHO)
def test_staff_list(call, who):
    response = call(who, "get", "/api/v1/staff/")
    expected = {**STAFF_DETAIL, "staff_out": 200}[who]
    check(response, expected)
    if expected == 200:
        badges = {row["badge_number"] for row in response.json()["results"]}
        assert ("310001" in badges) == (who != "staff_out")
        assert ("320001" in badges) == (who in {"staff_out", "admin"})


@pytest.mark.parametrize("who", WHO)
def test_staff_detail(call, who):
    check(call(who, "get", "/api/v1/staff/310001/"), STAFF_DETAIL[who])


@pytest.mark.parametrize("who", WHO)
def test_citizen_detail(call, people, who):
    response = call(who, "get", f"/api/v1/citizens/{people['citizen_own'].citizen.pk}/")
    check(response, CITIZEN_READ[who])
    if response.status_code == 200:
        assert people["citizen_own"].citizen.id_number not in response.content.decode()


@pytest.mark.parametrize("who", WHO)
def test_citizen_lookup(call, people, who):
    response = call(who, "post", "/api/v1/citizens/lookup/", {"id_number": people["citizen_own"].citizen.id_number})
    check(response, CITIZEN_READ[who])


@pytest.mark.parametrize("who", WHO)
def test_citizen_reveal(call, people, who):
    profile = people["citizen_own"].citizen
    response = call(who, "post", f"/api/v1/citizens/{profile.pk}/reveal/")
    check(response, REVEAL[who])
    if response.status_code == 200:
        assert response.json()["id_number"] == profile.id_number
    if response.status_code == 403 and who in {"wrong_role", "auditor", "admin"}:
        assert error_of(response)["message"] == "您的岗位不能查看完整证件号码和手机号码。"
        assert TimelineEvent.objects.filter(action="access.denied", actor_id=people[who].pk).exists()


@pytest.mark.parametrize("who", WHO)
def test_timeline_of_a_citizen(call, people, who):
    profile = people["citizen_own"].citizen
    response = call(
        who, "get", "/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": profile.pk}
    )
    check(response, TIMELINE_SUBJECT[who])
    if response.status_code == 200:
        ips = {event["ip"] for event in response.json()["results"]}
        if who.startswith("citizen"):
            assert ips == {None}  # addresses are shown to staff only


@pytest.mark.parametrize("who", WHO)
def test_timeline_of_a_subtree(call, who):
    check(call(who, "get", "/api/v1/timeline/", {"org": "3701"}), TIMELINE_ORG[who])


def test_auditor_timeline_stops_at_their_jurisdiction(auditor):
    response = token_client(auditor).get("/api/v1/timeline/", {"org": "3702"})
    assert response.status_code == 403
    assert error_of(response)["message"] == "该单位不在您的管辖范围内，无法查看其时间线。"


# --- Nothing leaks -----------------------------------------------------------------------------------


def test_not_yours_and_not_there_are_the_same_404(outsider, resident):
    client = token_client(outsider)
    profile = resident.citizen
    hidden = client.get(f"/api/v1/citizens/{profile.pk}/")
    missing = client.get(f"/api/v1/citizens/{profile.pk + 10_000}/")
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json() == missing.json()
    timeline_hidden = client.get(
        "/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": profile.pk}
    )
    timeline_missing = client.get("/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": "0"})
    timeline_unknown_type = client.get("/api/v1/timeline/", {"subject_type": "secret.files", "subject_id": "1"})
    timeline_not_registered = client.get("/api/v1/timeline/", {"subject_type": "core.timelinehead", "subject_id": "0"})
    timeline_bad_id = client.get("/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": "x"})
    timeline_huge_id = client.get(
        "/api/v1/timeline/", {"subject_type": "accounts.citizenprofile", "subject_id": "9" * 30}
    )
    bodies = [
        response.json()
        for response in (
            timeline_hidden,
            timeline_missing,
            timeline_unknown_type,
            timeline_not_registered,
            timeline_bad_id,
            timeline_huge_id,
        )
    ]
    assert all(body == hidden.json() for body in bodies)
    # Only the real object's refusal is logged, on that object's own timeline.
    denial = TimelineEvent.objects.get(action="access.denied", actor_id=outsider.pk)
    assert denial.subject_type == "accounts.citizenprofile"
    assert denial.subject_id == str(profile.pk)


def test_org_timeline_is_for_staff_in_jurisdiction_only(officer, outsider, resident):
    params = {"subject_type": "orgs.orgunit", "subject_id": factories.org("370102001").pk}
    assert token_client(officer).get("/api/v1/timeline/", params).status_code == 200
    assert token_client(outsider).get("/api/v1/timeline/", params).status_code == 404
    assert token_client(resident).get("/api/v1/timeline/", params).status_code == 404


# --- CSRF and the second factor --------------------------------------------------------------------


def test_session_posts_need_the_csrf_token(officer, resident):
    client = session_client(officer)
    del client.defaults["HTTP_X_CSRFTOKEN"]
    response = client.post("/api/v1/citizens/lookup/", {"id_number": resident.citizen.id_number}, format="json")
    assert response.status_code == 403
    error = error_of(response)
    assert error["code"] == "permission_denied"
    assert "CSRF" in error["message"]
    assert not TimelineEvent.objects.filter(action="personal_data.read").exists()
    # Reads need no token.
    assert client.get("/api/v1/me/").status_code == 200


def test_token_posts_need_no_csrf_token(officer, resident):
    client = token_client(officer)
    client.handler.enforce_csrf_checks = True
    response = client.post("/api/v1/citizens/lookup/", {"id_number": resident.citizen.id_number}, format="json")
    assert response.status_code == 200


def test_staff_session_without_second_factor_is_not_signed_in(officer):
    client = APIClient()
    client.force_login(officer)  # password only: TOTP not passed
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert error_of(response)["code"] == "not_authenticated"


def test_staff_session_without_second_factor_in_demo_mode(officer, settings):
    settings.DEMO_MODE = True
    client = APIClient()
    client.force_login(officer)
    assert client.get("/api/v1/me/").status_code == 200
