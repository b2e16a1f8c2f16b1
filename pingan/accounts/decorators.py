"""View guards by account kind. (Interim version by the lead: the accounts engineer owns
this file and adds the TOTP requirement; keep the signatures.)"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _

from pingan.core import access


def staff_required(roles: Iterable[str] | None = None) -> Callable:
    wanted = frozenset(roles) if roles is not None else None

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if not request.user.is_authenticated:
                return redirect_to_login(request.get_full_path())
            if access.user_kind(request.user) != "staff":
                raise PermissionDenied(_("此页面仅供民警使用。"))
            if wanted is not None and not ({post.role for post in access.posts_of(request.user)} & wanted):
                raise PermissionDenied(_("您的岗位无权使用此页面。"))
            return view(request, *args, **kwargs)

        return wrapper

    return decorate


def citizen_required(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if access.user_kind(request.user) != "citizen":
            raise PermissionDenied(_("此页面仅供群众使用。"))
        return view(request, *args, **kwargs)

    return wrapper
