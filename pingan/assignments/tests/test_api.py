from __future__ import annotations

import uuid

import pytest

from pingan.api.tests.conftest import error_of, session_client, token_client
from pingan.assignments import actions
from pingan.assignments.models import Assignment
from pingan.testing import factories

pytestmark = pytest.mark.django_db

LIST = "/api/v1/assignments/"


@pytest.fixture(params=["token", "session"])
def client_for(request):
    return token_client if request.param == "token" else session_client


@pytest.fixture
def assigned(task, leader):
    actions.assignment_advance(assignment=task, action="assign", actor=leader, expected_version=task.version)
    return task


def detail(item: Assignment) -> str:
    return f"{LIST}{item.reference}/"


def test_permission_matrix(client_for, assigned, chief, officer):
    cases = [
        (factories.citizen(), 403, 403),
        (factories.staff("370202001", ["station_chief"]), 200, 404),
        (factories.staff("3701", ["auditor"]), 200, 200),
        (officer, 200, 200),
        (chief, 200, 200),
    ]
    for user, list_status, detail_status in cases:
        client = client_for(user)
        listed = client.get(LIST)
        assert listed.status_code == list_status, user
        if list_status == 200:
            references = [row["reference"] for row in listed.json()["results"]]
            assert (assigned.reference in references) == (detail_status == 200)
        assert client.get(detail(assigned)).status_code == detail_status, user


def test_anonymous_is_401():
    from rest_framework.test import APIClient

    response = APIClient().get(LIST)
    assert response.status_code == 401
    error_of(response)


def test_transition_with_if_match_and_conflict(client_for, assigned, officer):
    client = client_for(officer)
    read = client.get(detail(assigned))
    etag = read["ETag"]
    accepted = client.post(f"{detail(assigned)}transition/", {"action": "accept"}, format="json", HTTP_IF_MATCH=etag)
    assert accepted.status_code == 200
    assert accepted.json()["state"] == "in_progress"
    stale = client.post(
        f"{detail(assigned)}transition/",
        {"action": "request_info", "data": {"question": "问?"}},
        format="json",
        HTTP_IF_MATCH=etag,
    )
    assert stale.status_code == 409
    assert error_of(stale)["code"]
    missing = client.post(f"{detail(assigned)}transition/", {"action": "report"}, format="json")
    assert missing.status_code == 428
    bad_input = client.post(
        f"{detail(assigned)}transition/",
        {"action": "report", "data": {}},
        format="json",
        HTTP_IF_MATCH=accepted["ETag"],
    )
    assert bad_input.status_code == 400
    assert "summary" in error_of(bad_input)["fields"]


def test_guard_refusal_is_409_with_the_reason(client_for, assigned, chief):
    client = client_for(chief)
    for action, data in (("accept", None), ("report", {"summary": "完成"})):
        etag = client.get(detail(assigned))["ETag"]
        assert (
            client.post(
                f"{detail(assigned)}transition/", {"action": action, "data": data}, format="json", HTTP_IF_MATCH=etag
            ).status_code
            == 200
        )
    etag = client.get(detail(assigned))["ETag"]
    refused = client.post(f"{detail(assigned)}transition/", {"action": "approve"}, format="json", HTTP_IF_MATCH=etag)
    assert refused.status_code == 409
    assert "交办单位" in error_of(refused)["message"]


def test_create_is_idempotent_and_scoped(client_for, leader):
    client = client_for(leader)
    key = str(uuid.uuid4())
    body = {"title": "检查消防通道", "org": "370102001", "working_days": 5}
    first = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    again = client.post(LIST, body, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert first.status_code == 201
    assert again.status_code == 201
    assert again.json()["reference"] == first.json()["reference"]
    assert Assignment.objects.filter(title="检查消防通道").count() == 1
    outside = client.post(LIST, body | {"org": "370202001"}, format="json")
    assert outside.status_code == 403
    unknown = client.post(LIST, body | {"org": "000"}, format="json")
    assert unknown.status_code == 400
    assert "org" in error_of(unknown)["fields"]


def test_filters_are_validated(client_for, assigned, chief):
    client = client_for(chief)
    assert client.get(LIST, {"state": "assigned"}).json()["count"] == 1
    assert client.get(LIST, {"state": "closed"}).json()["count"] == 0
    assert client.get(LIST, {"state": "nonsense"}).status_code == 400
    assert client.get(LIST, {"under": "9999"}).status_code == 400
    assert client.get(LIST, {"under": "370102"}).json()["count"] == 1


def test_inbox_api(client_for, assigned, officer):
    client = client_for(officer)
    body = client.get("/api/v1/inbox/").json()
    assert body["total"] >= 1
    assert any(entry["reference"] == assigned.reference for entry in body["entries"])
    assert {kind["key"] for kind in body["kinds"]} >= {"notices", "assignments"}
    assert client.get("/api/v1/inbox/", {"kind": "nope"}).status_code == 400
    assert client_for(factories.citizen()).get("/api/v1/inbox/").status_code == 403
