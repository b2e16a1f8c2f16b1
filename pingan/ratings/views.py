"""Pages of 好差评: the rating form for the person served, their ratings and outcomes, and
for staff the ratings and rectifications within their jurisdiction."""

from __future__ import annotations

import functools
from typing import Any

from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import citizen_required, staff_required
from pingan.core import access, deadlines, refusals, timeline, workflow
from pingan.core.refusals import errors_onto_form
from pingan.ratings import actions, queries
from pingan.ratings.forms import INDICATOR_PREFIX, INPUT_CHOICES, INPUT_LABELS, RatingForm
from pingan.ratings.models import Rectification
from pingan.ratings.scheme import scheme


def _refused(request: HttpRequest, refusal: actions.RatingRefused, subject: Any) -> HttpResponse:
    return render(
        request,
        "ratings/rate_refused.html",
        {"message": refusal.message, "subject": subject, "code": refusal.code},
        status=refusal.status,
    )


@require_http_methods(["GET", "POST"])
def rate(request: HttpRequest, subject_type: str, subject_id: str) -> HttpResponse:
    """The rating form of one finished service, for the person served only (404 for
    anyone else, whether or not the subject exists)."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    try:
        subject = actions.rateable_for(actor=request.user, subject_type=subject_type, subject_id=subject_id)
    except actions.SubjectNotFound as refusal:
        raise Http404(refusal.message) from None
    if queries.rating_of(request.user, subject_type, subject_id) is not None:
        return _refused(request, actions.AlreadyRated(_("您已评价过该事项，每件事项只能评价一次。")), subject)
    if not subject.finished:
        return _refused(request, actions.NotFinished(_("该事项尚未办结，办结后才能评价。")), subject)
    channel = scheme().channels[subject.channel]
    form = RatingForm(request.POST or None, channel=channel)
    if request.method == "POST" and form.is_valid():
        try:
            rating = actions.rate(
                actor=request.user,
                subject_type=subject_type,
                subject_id=subject_id,
                level=form.cleaned_data["level"],
                indicators=form.indicators(),
                comment=form.cleaned_data["comment"],
            )
        except actions.RatingRefused as refusal:
            return _refused(request, refusal, subject)
        except ValidationError as error:
            errors_onto_form(form, error, rename=lambda field: field.replace("indicators.", INDICATOR_PREFIX))
        else:
            messages.success(request, _("感谢您的评价！"))
            if rating.is_bad:
                messages.info(
                    request,
                    _("%(unit)s将在%(days)s个工作日内核实整改，并回访您。")
                    % {"unit": rating.org.name, "days": scheme().rectification_working_days},
                )
            return redirect("ratings:mine")
    return render(
        request,
        "ratings/rate.html",
        {"form": form, "subject": subject, "channel": channel},
        status=400 if form.errors else 200,
    )


@require_GET
@citizen_required
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.my_ratings(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "ratings/mine.html", {"page": page})


@require_GET
@staff_required()
def rating_list(request: HttpRequest) -> HttpResponse:
    try:
        level = int(request.GET.get("level", ""))
    except ValueError:
        level = None
    level = level if level in scheme().levels else None
    bad = request.GET.get("bad") == "1"
    page = Paginator(queries.ratings_for(request.user, level=level, bad=bad), 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/rating_list.html",
        {
            "page": page,
            "summary": queries.summary_for(request.user),
            "levels": scheme().level_choices(),
            "filters": {"level": level, "bad": bad},
        },
    )


@require_GET
@staff_required()
def rectification_list(request: HttpRequest) -> HttpResponse:
    wf = Rectification.workflow()
    state = request.GET.get("state") or None
    if state not in wf.states:
        state = None
    search = request.GET.get("q", "")[:100]
    items = queries.rectifications_for(
        request.user, state=state, overdue=request.GET.get("overdue") == "1", search=search
    )
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "ratings/rectification_list.html",
        {
            "page": page,
            "states": [(code, wf.state_name(code)) for code in wf.states if code != "new"],
            "filters": {"state": state or "", "q": search, "overdue": request.GET.get("overdue") == "1"},
        },
    )


def _get(request: HttpRequest, reference: str) -> Rectification:
    try:
        return queries.rectification_get(request.user, reference)
    except Rectification.DoesNotExist:
        raise Http404(_("未找到该事项，或您无权查看。")) from None


def _detail_context(
    request: HttpRequest, item: Rectification, errors: dict[str, Any] | None = None, phone: str | None = None
) -> dict[str, Any]:
    transitions = workflow.available_actions(item, request.user)
    wf, plan = item.workflow(), scheme()
    events = timeline.events_for(item).filter(action__startswith="workflow.").exclude(action="workflow.open")
    indicators = {i.code: i.name for i in plan.channels[item.rating.channel].indicators}
    return {
        "item": item,
        "rating": item.rating,
        "scores": [
            (indicators.get(code, code), plan.level(value).name if value in plan.levels else value)
            for code, value in item.rating.indicators.items()
        ],
        "history": [(event, wf.action_name(event.action.removeprefix("workflow."))) for event in events],
        "actions": [
            {
                "code": t.action,
                "name": t.name,
                "fields": [
                    (
                        name,
                        str(INPUT_LABELS.get(name, name)),
                        name in (t.input_schema or {}).get("required", []),
                        INPUT_CHOICES.get(name),
                    )
                    for name in t.input_fields
                ],
            }
            for t in transitions
        ],
        "clocks": deadlines.clocks_for(item),
        "events": events,
        "errors": errors or {},
        "may_call": bool(transitions) and access.can_unmask(request.user, item),
        "phone": phone,
    }


@require_GET
@staff_required()
def rectification_detail(request: HttpRequest, reference: str) -> HttpResponse:
    item = _get(request, reference)
    return render(request, "ratings/rectification_detail.html", _detail_context(request, item))


@require_POST
@staff_required()
def rectification_act(request: HttpRequest, reference: str) -> HttpResponse:
    item = _get(request, reference)
    return refusals.workflow_step_from_post(
        request,
        item,
        advance=functools.partial(actions.rectification_advance, rectification=item, actor=request.user),
        page=lambda errors, status: render(
            request, "ratings/rectification_detail.html", _detail_context(request, item, errors), status=status
        ),
    )


@require_POST
@staff_required()
def rectification_contact(request: HttpRequest, reference: str) -> HttpResponse:
    """Reveal the rater's mobile number for the follow-up call (logged as a read)."""
    item = _get(request, reference)
    try:
        phone = actions.rectification_contact(rectification=item, actor=request.user)
    except access.AccessDenied as denied:
        if denied.decision.status == 404:
            raise Http404(denied.decision.reason) from None
        messages.error(request, denied.decision.reason)
        return render(
            request, "ratings/rectification_detail.html", _detail_context(request, item), status=denied.decision.status
        )
    if request.htmx:
        return render(request, "ratings/partials/_contact.html", {"phone": phone, "item": item})
    return render(request, "ratings/rectification_detail.html", _detail_context(request, item, phone=phone))
