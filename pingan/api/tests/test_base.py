"""The building blocks other apps use: scoped querysets, idempotent creates, optimistic
concurrency, the bounded JSON parser and strict pagination."""

from __future__ import annotations

import datetime as dt
import json
import threading

import pytest
from django.db import connection
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from pingan.accounts.models import StaffProfile, User
from pingan.api import base, checks
from pingan.api.models import IdempotencyRecord
from pingan.api.tests.conftest import JINAN_STATION, error_of, token_client
from pingan.core.models import TimelineEvent
from pingan.core.tests.workflowapp.models import Ticket
from pingan.testing import factories

pytestmark = [pytest.mark.django_db, pytest.mark.urls("pingan.api.tests.urls")]

NEW_STAFF = {"badge_number": "360001", "name": "新民警", "org": JINAN_STATION}


# --- Scoped querysets -------------------------------------------------------------------------------


def test_a_view_without_a_query_function_fails_the_system_check():
    from pingan.api.tests.urls import TicketViewSet, UnscopedViewSet

    errors = checks.unscoped_viewsets([UnscopedViewSet, TicketViewSet, base.ReadOnlyViewSet])
    assert [error.id for error in errors] == ["pingan.api.E001"]
    assert "UnscopedViewSet" in errors[0].msg


def test_the_registered_endpoints_pass_the_system_check():
    assert checks.check_api_views() == []


def test_a_view_without_a_query_function_refuses_to_run(admin, caplog):
    response = token_client(admin).get("/test-api/unscoped/")
    assert response.status_code == 500
    assert error_of(response)["code"] == "server_error"
    assert "declare `query = staticmethod" in caplog.text


def test_call_query_passes_the_user_either_way(officer):
    def positional(user, *, role=None):
        return (user, role)

    def keyword_only(*, user, role=None):
        return (user, role)

    assert base.call_query(positional, officer, role="x", ignored=1) == (officer, "x")
    assert base.call_query(keyword_only, officer, role="x") == (officer, "x")


def test_scoped_viewset_shows_only_the_users_objects(officer, outsider, resident):
    ticket = Ticket.objects.create(org=factories.org(JINAN_STATION), owner=resident, title="户口迁移")
    assert token_client(officer).get(f"/test-api/tickets/{ticket.pk}/").status_code == 200
    assert token_client(resident).get(f"/test-api/tickets/{ticket.pk}/").status_code == 200
    response = token_client(outsider).get(f"/test-api/tickets/{ticket.pk}/")
    assert response.status_code == 404
    assert error_of(response)["code"] == "not_found"


# --- Idempotency ------------------------------------------------------------------------------------------


def test_a_retry_with_the_same_key_returns_the_first_response(admin):
    client = token_client(admin)
    first = client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201
    retry = client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert retry.status_code == 201
    assert retry.json() == first.json()
    assert retry["Idempotent-Replayed"] == "true"
    assert StaffProfile.objects.filter(badge_number="360001").count() == 1
    assert TimelineEvent.objects.filter(action="accounts.staff_created", actor_id=admin.pk).count() == 1


def test_without_a_key_a_retry_is_a_new_request(admin):
    client = token_client(admin)
    assert client.post("/test-api/staff/", NEW_STAFF, format="json").status_code == 201
    again = client.post("/test-api/staff/", NEW_STAFF, format="json")
    assert again.status_code == 400
    assert "360001" in error_of(again)["message"]


def test_the_same_key_with_another_body_is_422(admin):
    client = token_client(admin)
    client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="k-2")
    other = client.post(
        "/test-api/staff/", {**NEW_STAFF, "badge_number": "360002"}, format="json", HTTP_IDEMPOTENCY_KEY="k-2"
    )
    assert other.status_code == 422
    assert error_of(other)["code"] == "idempotency_key_reused"
    assert not User.objects.filter(username="360002").exists()


def test_keys_belong_to_one_user(admin):
    other_admin = factories.staff("37", ["administrator"], badge="340002")
    token_client(admin).post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="shared")
    response = token_client(other_admin).post(
        "/test-api/staff/", {**NEW_STAFF, "badge_number": "360003"}, format="json", HTTP_IDEMPOTENCY_KEY="shared"
    )
    assert response.status_code == 201
    assert response.json()["badge_number"] == "360003"


def test_a_failed_request_leaves_no_key_behind(admin):
    client = token_client(admin)
    bad = client.post("/test-api/staff/", {**NEW_STAFF, "org": "0000"}, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.exists()
    fixed = client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="k-3")
    assert fixed.status_code == 201


def test_a_key_expires_after_24_hours(admin):
    client = token_client(admin)
    client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="k-4")
    record = IdempotencyRecord.objects.get(key="k-4")
    assert dt.timedelta(hours=23, minutes=59) < record.expires_at - record.created_at <= dt.timedelta(hours=24)
    IdempotencyRecord.objects.filter(pk=record.pk).update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    again = client.post(
        "/test-api/staff/", {**NEW_STAFF, "badge_number": "360004"}, format="json", HTTP_IDEMPOTENCY_KEY="k-4"
    )
    assert again.status_code == 201
    assert IdempotencyRecord.objects.get(key="k-4").pk != record.pk


@pytest.mark.parametrize("key", ["", "has space", "中文键", "x" * 201])
def test_malformed_keys_are_400(admin, key):
    response = token_client(admin).post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in error_of(response)["fields"]
    assert not StaffProfile.objects.filter(badge_number="360001").exists()


@pytest.mark.django_db(transaction=True)
@pytest.mark.postgres_only
def test_concurrent_requests_with_one_key_create_once(admin):
    """Two connections at once with one key: one creates, the other waits and replays it."""
    if connection.vendor != "postgresql":
        pytest.skip("needs real concurrent connections (run with DATABASE_URL=postgres://...)")
    _, token = AuthToken.objects.create(user=admin)
    barrier = threading.Barrier(2)
    responses: list = []

    def send() -> None:
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
        barrier.wait()
        try:
            responses.append(client.post("/test-api/staff/", NEW_STAFF, format="json", HTTP_IDEMPOTENCY_KEY="race"))
        finally:
            connection.close()

    threads = [threading.Thread(target=send) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(response.status_code for response in responses) == [201, 201]
    assert responses[0].json() == responses[1].json()
    assert sorted(response.has_header("Idempotent-Replayed") for response in responses) == [False, True]
    assert StaffProfile.objects.filter(badge_number="360001").count() == 1


# --- Optimistic concurrency (with the workflow engine's test item) ----------------------------------------


@pytest.fixture
def ticket(resident):
    return Ticket.objects.create(org=factories.org(JINAN_STATION), owner=resident, title="户口迁移")


def test_reads_carry_the_version_as_etag(officer, ticket):
    response = token_client(officer).get(f"/test-api/tickets/{ticket.pk}/")
    assert response["ETag"] == '"0"'


def test_a_write_with_the_current_version_succeeds(officer, ticket):
    client = token_client(officer)
    response = client.post(
        f"/test-api/tickets/{ticket.pk}/transition/",
        {"action": "open", "data": {"note": "受理"}},
        format="json",
        HTTP_IF_MATCH='"0"',
    )
    assert response.status_code == 200
    assert response.json()["state"] == "open"
    assert response["ETag"] == '"1"'


def test_a_stale_version_is_a_409_and_changes_nothing(officer, ticket):
    client = token_client(officer)
    opened = client.post(
        f"/test-api/tickets/{ticket.pk}/transition/",
        {"action": "open", "data": {"note": "受理"}},
        format="json",
        HTTP_IF_MATCH='W/"0"',
    )
    assert opened.status_code == 200
    stale = client.post(
        f"/test-api/tickets/{ticket.pk}/transition/",
        {"action": "ask", "data": {"question": "请补充户口簿"}},
        format="json",
        HTTP_IF_MATCH='"0"',
    )
    assert stale.status_code == 409
    assert error_of(stale)["code"] == "conflict"
    ticket.refresh_from_db()
    assert ticket.state == "open"
    assert ticket.version == 1


def test_the_version_may_come_in_the_body(officer, ticket):
    response = token_client(officer).post(
        f"/test-api/tickets/{ticket.pk}/transition/",
        {"action": "open", "data": {"note": "受理"}, "version": 0},
        format="json",
    )
    assert response.status_code == 200


def test_a_write_without_a_version_is_428(officer, ticket):
    response = token_client(officer).post(
        f"/test-api/tickets/{ticket.pk}/transition/", {"action": "open", "data": {"note": "受理"}}, format="json"
    )
    assert response.status_code == 428
    assert error_of(response)["code"] == "version_required"


@pytest.mark.parametrize(("header", "body"), [("seven", {}), ('"-1"', {}), (None, {"version": "7"})])
def test_malformed_versions_are_400(officer, ticket, header, body):
    extra = {"HTTP_IF_MATCH": header} if header is not None else {}
    response = token_client(officer).post(
        f"/test-api/tickets/{ticket.pk}/transition/", {"action": "open", **body}, format="json", **extra
    )
    assert response.status_code == 400
    assert set(error_of(response)["fields"]) <= {"If-Match", "version"}


def test_require_version():
    class Item:
        version = 3

    base.require_version(Item(), 3)
    base.require_version(Item(), None)
    with pytest.raises(base.StaleVersion):
        base.require_version(Item(), 2)


# --- JSON in, bounded -----------------------------------------------------------------------------------------


def test_oversized_bodies_are_413(officer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = token_client(officer)
    body = json.dumps({"id_number": "x" * 2000})
    response = client.post("/api/v1/citizens/lookup/", body, content_type="application/json")
    assert response.status_code == 413
    assert error_of(response)["code"] == "request_too_large"


def test_oversized_bodies_without_a_declared_length_are_413(officer, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    client = token_client(officer)
    body = json.dumps({"id_number": "x" * 2000})
    response = client.generic(
        "POST", "/api/v1/citizens/lookup/", body, content_type="application/json", CONTENT_LENGTH=""
    )
    assert response.status_code in {400, 413}
    error_of(response)


@pytest.mark.parametrize(
    ("body", "content_type", "status", "code"),
    [
        ("id_number=1", "application/x-www-form-urlencoded", 415, "unsupported_media_type"),
        ("<xml/>", "application/xml", 415, "unsupported_media_type"),
        ("{", "application/json", 400, "parse_error"),
        ('{"id_number": NaN}', "application/json", 400, "parse_error"),
        ("[" * 100_000 + "]" * 100_000, "application/json", 400, "parse_error"),
        (b"\xff\xfe{}", "application/json", 400, "parse_error"),
        ("{}", "application/json; charset=klingon", 400, "invalid"),  # unknown charset: Django reads UTF-8
        ("[]", "application/json", 400, "invalid"),
        ('"text"', "application/json", 400, "invalid"),
    ],
)
def test_bad_bodies_are_4xx_in_the_error_format(officer, body, content_type, status, code):
    client = token_client(officer)
    response = client.generic("POST", "/api/v1/citizens/lookup/", body, content_type=content_type)
    assert response.status_code == status
    assert error_of(response)["code"] == code


def test_deeply_nested_json_is_refused_cleanly(officer):
    assert base.JSONParser.media_type == "application/json"
    response = token_client(officer).generic(
        "POST", "/api/v1/citizens/lookup/", '{"a":' * 50_000 + "1" + "}" * 50_000, content_type="application/json"
    )
    assert response.status_code == 400
