"""Sign-in mechanics: identifier keys, lockout keys, where people land."""

from __future__ import annotations

import pytest
from django.test import RequestFactory
from hypothesis import HealthCheck, given, strategies
from hypothesis import settings as hypothesis_settings

from pingan.accounts import signin
from pingan.testing import factories

pytestmark = pytest.mark.django_db


def test_a_known_account_is_keyed_by_its_username_whatever_was_typed():
    citizen = factories.citizen()
    assert signin.resolve(citizen.citizen.id_number) == (citizen, citizen.username)
    assert signin.resolve(citizen.citizen.phone) == (citizen, citizen.username)
    officer = factories.staff()
    assert signin.resolve(f"  {officer.username} ") == (officer, officer.username)


def test_unknown_identifiers_get_a_stable_keyed_hash():
    user, key = signin.resolve("370102199005170016")
    assert user is None
    assert key.startswith("x-")
    assert len(key) == 34
    assert "370102" not in key
    assert signin.resolve("370102199005170016")[1] == key
    assert signin.resolve("someone-else")[1] != key


def test_keys_are_cached_on_the_request(django_assert_num_queries):
    request = RequestFactory().post("/accounts/login/")
    with django_assert_num_queries(1):
        signin.resolve("no-such-user", request)
        signin.resolve("no-such-user", request)


def test_axes_key_reads_credentials_then_the_form():
    citizen = factories.citizen()
    assert signin.axes_username(None, {"username": citizen.citizen.phone}) == citizen.username
    request = RequestFactory().post("/accounts/login/", {"username": citizen.citizen.id_number})
    assert signin.axes_username(request, None) == citizen.username
    assert signin.axes_username(None, None).startswith("x-")


@pytest.mark.parametrize(
    ("value", "kind"),
    [("370102199005170016", "id_number"), ("13912345678", "mobile"), ("100001", "badge"), ("partner7", "username")],
)
def test_identifier_kinds(value, kind):
    assert signin.identifier_kind(value) == kind


@hypothesis_settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture], deadline=None)
@given(strategies.text(max_size=400))
def test_any_text_resolves_to_a_bounded_key_without_error(text):
    _user, key = signin.resolve(text)
    assert signin.resolve(text)[1] == key
    assert 0 < len(key) <= 150
    assert "\x00" not in key


def test_landing_pages():
    assert signin.home_url_for(factories.staff()) == "/inbox/"
    assert signin.home_url_for(factories.citizen()) == "/accounts/me/"
    assert signin.home_url_for(factories.partner()) == "/"


@pytest.mark.parametrize(
    ("candidate", "expected"),
    [
        ("/accounts/me/", "/accounts/me/"),
        ("https://evil.example/", ""),
        ("//evil.example/", ""),
        ("javascript:alert(1)", ""),
        ("/" + "a" * 3000, ""),
        ("", ""),
    ],
)
def test_only_local_next_urls_are_followed(candidate, expected):
    request = RequestFactory().get("/")
    assert signin.safe_next(request, candidate) == expected
