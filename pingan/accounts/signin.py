"""Sign-in mechanics shared by the views, the lockout handler and the decorators.

- Who an identifier names (badge number, ID number, mobile, username) and the key that
  stands for it in the lockout table and on the timeline: the account's username when the
  account exists (an opaque id for citizens), else a keyed hash. A raw ID number or mobile
  number is never stored by the lockout machinery or the timeline.
- The half-way state of a staff sign-in: password accepted, second factor (TOTP) still due.
  Nothing is signed in until the second factor passes; the session only remembers whom
  the password was for, for a few minutes.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.db.models import Max
from django.http import HttpRequest
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme

from pingan.accounts.backends import find_user
from pingan.accounts.models import Kind, User
from pingan.core.identity import blind_index

PENDING_KEY = "accounts.pending_signin"
# Long enough to open an authenticator app; short enough that a forgotten half sign-in expires.
PENDING_SECONDS = 300
# Wrong TOTP tokens tolerated for one password entry before the password is asked again
# (on top of django-otp's exponential throttling per device).
PENDING_MAX_FAILURES = 5
IDENTIFIER_MAX_LENGTH = 150


def identifier_kind(identifier: str) -> str:
    """What kind of identifier was typed (for the record; never the value itself)."""
    value = (identifier or "").strip()
    if len(value) == 18:
        return "id_number"
    if len(value) == 11 and value.isdigit():
        return "mobile"
    if len(value) == 6 and value.isdigit():
        return "badge"
    return "username"


def resolve(identifier: str, request: HttpRequest | None = None) -> tuple[User | None, str]:
    """The account an identifier names (if any) and the key standing for it.

    Cached on the request: the lockout machinery asks several times per attempt.
    """
    value = (identifier or "").strip()[: IDENTIFIER_MAX_LENGTH * 2]
    cache: dict[str, tuple[User | None, str]] | None = getattr(request, "_pingan_signin_keys", None)
    if cache is not None and value in cache:
        return cache[value]
    # A NUL byte names no account, and PostgreSQL refuses it in a query.
    user = find_user(value) if value and "\x00" not in value else None
    key = user.get_username() if user is not None else "x-" + blind_index(value.upper(), purpose="signin")[:32]
    if request is not None:
        if cache is None:
            cache = {}
            request._pingan_signin_keys = cache  # type: ignore[attr-defined]
        cache[value] = (user, key)
    return user, key


def axes_username(request: HttpRequest | None, credentials: dict[str, Any] | None) -> str:
    """``AXES_USERNAME_CALLABLE``: lockouts count per account, whichever identifier was typed.

    A citizen trying their ID number and then their mobile number fills one counter, and
    the lockout table holds no raw ID or mobile number.
    """
    identifier = None
    if credentials:
        identifier = credentials.get("username")
    elif request is not None:
        identifier = request.POST.get("username")
    return resolve(str(identifier or ""), request)[1]


def lockout_until(request: HttpRequest, credentials: dict[str, Any] | None) -> dt.datetime:
    """When a locked-out account may try again from this address."""
    from axes.helpers import get_client_ip_address, get_cool_off
    from axes.models import AccessAttempt

    key = axes_username(request, credentials)
    address = getattr(request, "axes_ip_address", None) or get_client_ip_address(request)
    attempts = AccessAttempt.objects.filter(username=key, ip_address=address)
    latest = attempts.aggregate(latest=Max("attempt_time"))["latest"]
    cool_off = get_cool_off(request) or dt.timedelta(minutes=15)
    return (latest or timezone.now()) + cool_off


def second_factor_required(user: Any) -> bool:
    """Staff must pass TOTP after the password, except in demo mode."""
    return getattr(user, "kind", None) == Kind.STAFF and not settings.DEMO_MODE


def second_factor_missing(request: HttpRequest) -> bool:
    """A signed-in staff member whose session has not passed the second factor."""
    user = request.user
    if not user.is_authenticated or not second_factor_required(user):
        return False
    is_verified = getattr(user, "is_verified", None)
    return not (callable(is_verified) and is_verified())


# --- The half-way state ------------------------------------------------------------


def pending_start(request: HttpRequest, user: User, *, next_url: str) -> None:
    # A new key: whoever knew the anonymous session id learns nothing about this one.
    request.session.cycle_key()
    request.session[PENDING_KEY] = {
        "user": user.pk,
        "backend": getattr(user, "backend", "pingan.accounts.backends.PingAnBackend"),
        "at": time.time(),
        "next": next_url,
        "failures": 0,
    }


def pending_get(request: HttpRequest) -> dict[str, Any] | None:
    pending = request.session.get(PENDING_KEY)
    if not isinstance(pending, dict):
        return None
    if time.time() - float(pending.get("at", 0)) > PENDING_SECONDS:
        request.session.pop(PENDING_KEY, None)
        return None
    return pending


def pending_user(request: HttpRequest) -> User | None:
    pending = pending_get(request)
    if pending is None:
        return None
    return User.objects.filter(pk=pending["user"], kind=Kind.STAFF, is_active=True).first()


def pending_failed(request: HttpRequest) -> bool:
    """Count a wrong token; True when the password must be entered again."""
    pending = pending_get(request)
    if pending is None:
        return True
    pending["failures"] = int(pending.get("failures", 0)) + 1
    if pending["failures"] >= PENDING_MAX_FAILURES:
        request.session.pop(PENDING_KEY, None)
        return True
    request.session[PENDING_KEY] = pending
    return False


def pending_clear(request: HttpRequest) -> dict[str, Any] | None:
    return request.session.pop(PENDING_KEY, None)


# --- Where to go after signing in ----------------------------------------------------


def home_url_for(user: Any) -> str:
    """Staff land on their "my work" inbox, citizens on their account, others on the home page."""
    kind = getattr(user, "kind", None)
    try:
        if kind == Kind.STAFF:
            return reverse("inbox:home")
        if kind == Kind.CITIZEN:
            return reverse("accounts:me")
    except NoReverseMatch:  # an installation without the inbox app
        pass
    return reverse(settings.LOGIN_REDIRECT_URL)


def safe_next(request: HttpRequest, candidate: str | None) -> str:
    """``candidate`` if it is a path on this site, else ``""``."""
    if (
        candidate
        and len(candidate) <= 2000
        and url_has_allowed_host_and_scheme(
            candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
    ):
        return candidate
    return ""


def next_from(request: HttpRequest) -> str:
    return safe_next(request, request.POST.get(REDIRECT_FIELD_NAME) or request.GET.get(REDIRECT_FIELD_NAME))
