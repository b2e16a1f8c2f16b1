from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.views.decorators.http import require_GET, require_POST

from pingan.accounts.decorators import staff_required
from pingan.inbox import actions, queries


def _kind(request: HttpRequest) -> str | None:
    kind = request.GET.get("kind") or None
    return kind if kind in {source.key for source in queries.all_sources()} else None


@require_GET
@staff_required()
def home(request: HttpRequest) -> HttpResponse:
    page = queries.inbox_for(request.user, kind=_kind(request))
    template = "inbox/partials/_entries.html" if request.htmx else "inbox/home.html"
    return render(request, template, {"page": page})


@require_POST
@staff_required()
def notice_read(request: HttpRequest, pk: int) -> HttpResponse:
    notice = get_object_or_404(queries.notices_for(request.user), pk=pk)
    actions.notice_mark_read(notice=notice, user=request.user)
    if request.htmx:
        page = queries.inbox_for(request.user, kind=_kind(request))
        return render(request, "inbox/partials/_entries.html", {"page": page})
    return redirect("inbox:home")
