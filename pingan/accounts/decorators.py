"""View guards by account kind, role and second factor. Every app's pages use these.

    @staff_required()                                   # any staff member
    @staff_required(roles={"counter_officer"})          # holding one of these roles
    def view(request): ...

    class Page(StaffRequiredMixin, View):
        staff_roles = {"administrator"}

    @citizen_required
    def view(request): ...

- anonymous: redirected to the sign-in page (and back afterwards);
- another kind of account: 403 page ("此页面仅供民警使用");
- staff whose session has not passed the second factor (TOTP) — outside demo mode —
  are sent to the TOTP step first, and come back afterwards;
- staff without one of ``roles``: 403 page. Roles are posts held, whatever the unit: the
  page itself scopes what it shows through ``queries``. Every refusal is logged.

Tests that sign a staff member in should use ``pingan.testing.signin.staff_login`` (a
session that has passed TOTP) rather than ``client.force_login``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any
from urllib.parse import urlencode

from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.translation import gettext as _

from pingan.accounts.signin import second_factor_missing
from pingan.core import access, timeline

__all__ = [
    "CitizenRequiredMixin",
    "StaffRequiredMixin",
    "citizen_required",
    "holds_role",
    "second_factor_missing",
    "staff_required",
]


def holds_role(user: Any, roles: Iterable[str]) -> bool:
    """Does the staff member hold an active post with one of ``roles``?"""
    wanted = set(roles)
    return any(post.role in wanted for post in access.posts_of(user))


def _refuse(request: HttpRequest, message: str) -> None:
    # The page, not an object, is refused: the subject is the path (bounded to the column).
    timeline.record(
        ("site.page", request.path[:64]),
        "access.denied",
        actor=request.user if request.user.is_authenticated else None,
        data={"action": "view", "reason": message, "status": 403},
    )
    raise PermissionDenied(message)


def _second_factor_redirect(request: HttpRequest) -> HttpResponse:
    query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
    return HttpResponseRedirect(f"{reverse('accounts:otp')}?{query}")


def staff_check(request: HttpRequest, roles: frozenset[str] | None) -> HttpResponse | None:
    """``None`` if the request may proceed; else the redirect to take (or raises 403)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if access.user_kind(request.user) != "staff":
        _refuse(request, _("此页面仅供民警使用。"))
    if second_factor_missing(request):
        return _second_factor_redirect(request)
    if roles is not None and not holds_role(request.user, roles):
        _refuse(request, _("您的岗位无权使用此页面。"))
    return None


def citizen_check(request: HttpRequest) -> HttpResponse | None:
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    if access.user_kind(request.user) != "citizen":
        _refuse(request, _("此页面仅供群众使用。"))
    return None


def staff_required(roles: Iterable[str] | None = None) -> Callable:
    """Decorate a view: staff only (optionally holding one of ``roles``), second factor passed."""
    wanted = frozenset(roles) if roles is not None else None

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            refusal = staff_check(request, wanted)
            return refusal if refusal is not None else view(request, *args, **kwargs)

        return wrapper

    return decorate


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Decorate a view: citizens only."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = citizen_check(request)
        return refusal if refusal is not None else view(request, *args, **kwargs)

    return wrapper


class StaffRequiredMixin:
    """Class-based form of :func:`staff_required`; set ``staff_roles`` to require roles."""

    staff_roles: Iterable[str] | None = None

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        roles = frozenset(self.staff_roles) if self.staff_roles is not None else None
        refusal = staff_check(request, roles)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]


class CitizenRequiredMixin:
    """Class-based form of :func:`citizen_required`."""

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        refusal = citizen_check(request)
        if refusal is not None:
            return refusal
        return super().dispatch(request, *args, **kwargs)  # type: ignore[misc]
