from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import staff_required
from pingan.assignments import actions, queries
from pingan.assignments.forms import AssignmentForm, input_label
from pingan.assignments.models import Assignment
from pingan.core import access, deadlines, refusals, timeline, workflow
from pingan.core.refusals import errors_onto_form
from pingan.orgs import queries as orgs

ISSUERS = ("station_chief", "bureau_leader")


def _get(request: HttpRequest, reference: str) -> Assignment:
    try:
        return queries.assignment_get(request.user, reference)
    except Assignment.DoesNotExist:
        raise Http404(_("未找到该事项，或您无权查看。")) from None


@require_GET
@staff_required()
def assignment_list(request: HttpRequest) -> HttpResponse:
    wf = Assignment.workflow()
    state = request.GET.get("state") or None
    if state not in wf.states:
        state = None
    plan = queries.plans_for(request.user).filter(code=request.GET.get("plan", "")).first()
    items = queries.assignments_for(
        request.user,
        state=state,
        overdue=request.GET.get("overdue") == "1",
        plan=plan,
        search=request.GET.get("q", "")[:100],
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    context = {
        "page": page,
        "states": [(code, wf.state_name(code)) for code in wf.states],
        "plans": queries.plans_for(request.user),
        "filters": {
            "state": state or "",
            "plan": plan.code if plan else "",
            "q": request.GET.get("q", "")[:100],
            "overdue": request.GET.get("overdue") == "1",
        },
        "can_create": any(post.role in ISSUERS for post in access.posts_of(request.user)),
    }
    template = "assignments/partials/_table.html" if request.htmx else "assignments/assignment_list.html"
    return render(request, template, context)


@require_http_methods(["GET", "POST"])
@staff_required(roles=ISSUERS)
def assignment_new(request: HttpRequest) -> HttpResponse:
    form = AssignmentForm(request.POST or None, plans=queries.plans_for(request.user))
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            item = actions.assignment_create(
                actor=request.user,
                title=data["title"],
                description=data["description"],
                org=data["org"],
                working_days=data["working_days"],
                plan=data["plan"],
                area=data["area"],
                key_task=data["key_task"],
            )
        except ValidationError as error:
            errors_onto_form(form, error)
        except access.AccessDenied as denied:
            form.add_error("org", denied.decision.reason)
        else:
            messages.success(request, _("已创建交办事项 %(ref)s。") % {"ref": item.reference})
            return redirect(item)
    return render(request, "assignments/assignment_new.html", {"form": form}, status=400 if form.errors else 200)


def _detail_context(request: HttpRequest, item: Assignment, errors: dict[str, Any] | None = None) -> dict[str, Any]:
    transitions = workflow.available_actions(item, request.user)
    return {
        "item": item,
        "actions": [
            {
                "code": t.action,
                "name": t.name,
                "fields": [
                    (name, input_label(name), name in (t.input_schema or {}).get("required", []))
                    for name in t.input_fields
                ],
            }
            for t in transitions
        ],
        "clocks": deadlines.clocks_for(item),
        "events": timeline.events_for(item).filter(action__startswith="workflow.")
        | timeline.events_for(item).filter(action="assignments.created"),
        "errors": errors or {},
    }


@require_GET
@staff_required()
def assignment_detail(request: HttpRequest, reference: str) -> HttpResponse:
    item = _get(request, reference)
    return render(request, "assignments/assignment_detail.html", _detail_context(request, item))


@require_POST
@staff_required()
def assignment_act(request: HttpRequest, reference: str) -> HttpResponse:
    item = _get(request, reference)
    return refusals.workflow_step_from_post(
        request,
        item,
        advance=functools.partial(actions.assignment_advance, assignment=item, actor=request.user),
        page=lambda errors, status: render(
            request, "assignments/assignment_detail.html", _detail_context(request, item, errors), status=status
        ),
    )


@require_GET
@staff_required()
def wall_chart(request: HttpRequest) -> HttpResponse:
    plans = queries.plans_for(request.user)
    plan = plans.filter(code=request.GET.get("plan", "")).first() or plans.first()
    roots = access.jurisdiction_paths(request.user)
    under = None
    if roots and not access.is_everywhere(request.user):
        under = orgs.units().filter(path=roots[0]).first()
    by = "unit" if request.GET.get("by") == "unit" else "area"
    rows = queries.wall_chart(request.user, plan=plan, by=by, under=under)
    return render(
        request, "assignments/wall_chart.html", {"plans": plans, "plan": plan, "rows": rows, "by": by, "under": under}
    )
