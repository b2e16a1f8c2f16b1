"""Security headers, cookies, CSRF and password hashing as deployed."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.hashers import identify_hasher
from django.test import Client

from pingan.accounts.models import CitizenProfile
from pingan.testing import factories

pytestmark = pytest.mark.django_db

PAGES = ["/accounts/login/", "/accounts/signup/", "/"]


def directives(header: str) -> dict[str, list[str]]:
    result = {}
    for part in header.split(";"):
        words = part.split()
        if words:
            result[words[0]] = words[1:]
    return result


@pytest.mark.parametrize("path", PAGES)
def test_content_security_policy_forbids_inline_script(client, path):
    response = client.get(path)
    assert response.status_code == 200
    policy = directives(response["Content-Security-Policy"])
    assert policy["script-src"] == ["'self'"]
    assert "'unsafe-inline'" not in policy["script-src"]
    assert "'unsafe-eval'" not in policy["script-src"]
    assert "'unsafe-inline'" not in policy.get("style-src", [])
    assert policy["frame-ancestors"] == ["'none'"]
    assert policy["object-src"] == ["'none'"]


@pytest.mark.parametrize("path", PAGES)
def test_pages_carry_no_inline_script_or_style(client, path):
    body = client.get(path).content.decode()
    assert "<script>" not in body
    assert "style=" not in body
    assert "onclick=" not in body


@pytest.mark.parametrize("path", PAGES)
def test_framing_sniffing_and_referrer_headers(client, path):
    response = client.get(path)
    assert response["X-Frame-Options"] == "DENY"
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"


def test_signed_in_pages_are_not_cached(client):
    client.force_login(factories.citizen())
    assert "no-store" in client.get("/accounts/me/")["Cache-Control"]


def test_session_cookie_is_http_only_same_site_and_expires(client):
    resident = factories.citizen()
    response = client.post("/accounts/login/", {"username": resident.citizen.phone, "password": factories.PASSWORD})
    cookie = response.cookies[settings.SESSION_COOKIE_NAME]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["max-age"] == ""  # gone when the browser closes
    assert client.session.get_expiry_age() == settings.SESSION_COOKIE_AGE  # and on the server after this


def test_csrf_cookie_is_http_only(client):
    csrf = client.get("/accounts/login/").cookies[settings.CSRF_COOKIE_NAME]
    assert csrf["httponly"] is True
    assert csrf["samesite"] == "Lax"


def test_sign_in_without_a_csrf_token_is_refused():
    resident = factories.citizen()
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/login/", {"username": resident.citizen.phone, "password": factories.PASSWORD})
    assert response.status_code == 403
    assert "页面已过期" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_sign_up_without_a_csrf_token_is_refused():
    client = Client(enforce_csrf_checks=True)
    response = client.post("/accounts/signup/", {"name": "x"})
    assert response.status_code == 403
    assert not CitizenProfile.objects.exists()


def test_sign_in_with_the_csrf_token_works():
    resident = factories.citizen()
    client = Client(enforce_csrf_checks=True)
    token = client.get("/accounts/login/").context["csrf_token"]
    response = client.post(
        "/accounts/login/",
        {"username": resident.citizen.phone, "password": factories.PASSWORD, "csrfmiddlewaretoken": str(token)},
    )
    assert response.status_code == 302


def test_production_settings_hash_passwords_with_argon2(tmp_path: Path):
    """Import the settings as a server would (not under pytest) and read the hashers."""
    environment = {
        **os.environ,
        "PINGAN_VAR_DIR": str(tmp_path),
        "PINGAN_TESTING": "0",
        "PYTHONPATH": str(settings.BASE_DIR),
    }
    script = (
        "import sys, pingan.settings as s; "
        "assert 'pytest' not in sys.modules and not s.TESTING; "
        "print(s.PASSWORD_HASHERS[0]); print(s.SESSION_COOKIE_HTTPONLY, s.DEMO_MODE)"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, check=True, timeout=60
    )
    hasher, flags = result.stdout.splitlines()
    assert hasher == "django.contrib.auth.hashers.Argon2PasswordHasher"
    assert flags == "True False"


def test_argon2_hashes_a_password_when_it_is_the_first_hasher(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.Argon2PasswordHasher"]
    user = factories.citizen()
    assert identify_hasher(user.password).algorithm == "argon2"
