"""The signed-in person's in-app messages: list, open (marks read), mark all read."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from django.contrib import messages as flash
from django.contrib.auth.views import redirect_to_login
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import staff_check
from pingan.core import access
from pingan.notify import actions, queries
from pingan.notify.models import Message


def signed_in(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """Any signed-in account; staff must have passed the second factor, as everywhere."""

    @functools.wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        if not request.user.is_authenticated:
            return redirect_to_login(request.get_full_path())
        if access.user_kind(request.user) == "staff":
            refusal = staff_check(request, None)
            if refusal is not None:
                return refusal
        return view(request, *args, **kwargs)

    return wrapper


@require_GET
@signed_in
def message_list(request: HttpRequest) -> HttpResponse:
    unread_only = request.GET.get("unread") == "1"
    page = Paginator(queries.messages_for(request.user, unread=unread_only), 30).get_page(request.GET.get("page"))
    return render(
        request,
        "notify/message_list.html",
        {"page": page, "unread_only": unread_only, "unread": queries.unread_count(request.user)},
    )


@require_POST
@signed_in
def message_read(request: HttpRequest, pk: int) -> HttpResponse:
    try:
        message = queries.message_get(request.user, pk)
    except Message.DoesNotExist:
        raise Http404(_("未找到该消息。")) from None
    actions.message_mark_read(message=message, user=request.user)
    target = message.url if request.POST.get("open") == "1" else ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return redirect(target)
    return redirect("notify:list")


@require_POST
@signed_in
def read_all(request: HttpRequest) -> HttpResponse:
    count = actions.messages_mark_all_read(user=request.user)
    if count:
        flash.success(request, _("已将 %(n)s 条消息标为已读。") % {"n": count})
    return redirect("notify:list")
