"""Token authentication (knox) and the ``api_token`` command."""

from __future__ import annotations

import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from pingan.api.tests.conftest import error_of, token_client
from pingan.core.models import TimelineEvent

pytestmark = pytest.mark.django_db


def with_header(value: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=value)
    return client


def test_a_valid_token_signs_in(officer):
    response = token_client(officer).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json()["staff"]["badge_number"] == "310001"


@pytest.mark.parametrize(
    "header",
    [
        "Token ",
        "Token a b",
        "Token " + "0" * 64,
        "Token zz",
        "Token " + "é" * 10,
        "Token " + "a" * 201,
        "Token abc\x00def",
    ],
)
def test_bad_tokens_are_401(header):
    response = with_header(header).get("/api/v1/orgs/")  # even on a public endpoint
    assert response.status_code == 401
    assert error_of(response)["code"] == "authentication_failed"


def test_other_schemes_are_ignored():
    assert with_header("Bearer whatever").get("/api/v1/orgs/", {"level": "city"}).status_code == 200
    assert with_header("Bearer whatever").get("/api/v1/me/").status_code == 401


def test_tokens_are_stored_hashed(officer):
    instance, token = AuthToken.objects.create(user=officer)
    assert token not in instance.digest
    assert not AuthToken.objects.filter(digest=token).exists()
    assert instance.token_key == token[:15]


def test_an_expired_token_is_refused_and_deleted(officer):
    instance, token = AuthToken.objects.create(user=officer, expiry=dt.timedelta(days=1))
    AuthToken.objects.filter(pk=instance.pk).update(expiry=timezone.now() - dt.timedelta(seconds=1))
    response = with_header(f"Token {token}").get("/api/v1/me/")
    assert response.status_code == 401
    assert not AuthToken.objects.filter(pk=instance.pk).exists()


def test_an_inactive_account_token_is_refused(officer):
    client = token_client(officer)
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    assert client.get("/api/v1/me/").status_code == 401


def test_token_calls_are_attributed_on_the_timeline(officer, resident):
    profile = resident.citizen
    token_client(officer).get(f"/api/v1/citizens/{profile.pk}/")
    event = TimelineEvent.objects.get(action="personal_data.read")
    assert (event.actor_id, event.actor_label, event.channel) == (officer.pk, "窗口民警（警号 310001）", "api")


# --- manage.py api_token --------------------------------------------------------------------------------------


def run(*args: str) -> tuple[str, str]:
    out, err = io.StringIO(), io.StringIO()
    call_command("api_token", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_api_token_prints_a_working_token_once(officer):
    token, note = run("310001")
    assert "shown only once" in note
    assert "never expires" in note
    assert with_header(f"Token {token}").get("/api/v1/me/").json()["id"] == officer.pk
    instance = AuthToken.objects.get(user=officer)
    assert instance.expiry is None
    assert token not in instance.digest
    event = TimelineEvent.objects.get(action="api.token_created")
    assert (event.subject_id, event.channel, event.actor_id) == (str(officer.pk), "command", None)
    assert token not in str(event.data)


def test_api_token_with_expiry(officer):
    _token, note = run("310001", "--expiry-days", "30")
    expiry = AuthToken.objects.get(user=officer).expiry
    assert dt.timedelta(days=29, hours=23) < expiry - timezone.now() <= dt.timedelta(days=30)
    assert "expires" in note


def test_api_token_revoke_all(officer):
    token, _ = run("310001")
    run("310001")
    out, _ = run("310001", "--revoke-all")
    assert out == "revoked 2 token(s) of 310001"
    assert with_header(f"Token {token}").get("/api/v1/me/").status_code == 401
    assert TimelineEvent.objects.filter(action="api.tokens_revoked").count() == 1


@pytest.mark.parametrize(
    ("args", "message"), [(["999999"], "no account"), (["310001", "--expiry-days", "0"], "between")]
)
def test_api_token_refusals(officer, args, message):
    with pytest.raises(CommandError, match=message):
        run(*args)
    assert not AuthToken.objects.exists()


def test_api_token_refuses_citizens_and_inactive_accounts(officer, resident):
    with pytest.raises(CommandError, match="citizen"):
        run(resident.username)
    officer.is_active = False
    officer.save(update_fields=["is_active"])
    with pytest.raises(CommandError, match="inactive"):
        run("310001")
    assert not AuthToken.objects.exists()
