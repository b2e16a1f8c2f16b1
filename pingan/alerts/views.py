"""Pages of alerts: the public list and page of an active alert (with the clue form), a
citizen's subscription and the alerts that reached them, and for staff the alerts of their
jurisdiction with reach and clues. Publishing is done from the case page of the app the
alert is about (it calls ``actions.alert_publish``)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import citizen_required, staff_required
from pingan.alerts import actions, queries
from pingan.alerts.forms import ClueForm, CountyForm, PointForm, TriageForm, WithdrawForm
from pingan.alerts.models import Alert, AlertState, Clue, ClueState
from pingan.core import access, geo, timeline
from pingan.core.identity import mask_phone
from pingan.core.refusals import errors_onto_form

EVENT_NAMES = {
    "alerts.published": gettext_lazy("发布预警"),
    "alerts.notified": gettext_lazy("推送站内消息"),
    "alerts.widened": gettext_lazy("按时扩大推送范围"),
    "alerts.withdrawn": gettext_lazy("撤回预警"),
    "alerts.withdrawal_notified": gettext_lazy("发送撤回通知"),
    "alerts.clue_received": gettext_lazy("收到群众线索"),
    "alerts.clue_triaged": gettext_lazy("研判线索"),
}


def _event_rows(alert: Alert) -> list[dict[str, Any]]:
    events = timeline.events_for(alert).filter(action__in=list(EVENT_NAMES)).order_by("-occurred_at", "-id")[:50]
    rows = []
    for event in events:
        data = event.data or {}
        detail = ""
        if event.action == "alerts.widened":
            detail = _("半径 %(r)s 公里，新送达 %(n)s 人，累计 %(t)s 人") % {
                "r": data.get("radius_km"),
                "n": data.get("delivered"),
                "t": data.get("total"),
            }
        elif event.action in ("alerts.notified", "alerts.withdrawal_notified"):
            detail = _("%(n)s 条") % {"n": data.get("in_app_messages")}
        rows.append({"event": event, "name": EVENT_NAMES[event.action], "detail": detail})
    return rows


# --- Public ---------------------------------------------------------------------------


@require_GET
def public_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.alerts_public().select_related("org"), 20).get_page(request.GET.get("page"))
    return render(request, "alerts/public_list.html", {"page": page})


def _public_context(request: HttpRequest, alert: Alert, form: ClueForm | None = None) -> dict[str, Any]:
    return {
        "alert": alert,
        "form": form or ClueForm(),
        "signed_in": request.user.is_authenticated,
    }


@require_GET
def public_detail(request: HttpRequest, reference: str) -> HttpResponse:
    """An active alert, for anyone; a withdrawn one shows only that it was withdrawn."""
    try:
        alert = queries.alert_public_get(reference)
    except Alert.DoesNotExist:
        raise Http404(_("未找到该预警。")) from None
    if not alert.is_active:
        return render(request, "alerts/public_withdrawn.html", {"alert": alert}, status=410)
    return render(request, "alerts/public_detail.html", _public_context(request, alert))


@require_POST
def clue_send(request: HttpRequest, reference: str) -> HttpResponse:
    try:
        alert = queries.alert_public_get(reference)
    except Alert.DoesNotExist:
        raise Http404(_("未找到该预警。")) from None
    if not alert.is_active:
        return render(request, "alerts/public_withdrawn.html", {"alert": alert}, status=410)
    form = ClueForm(request.POST, request.FILES)
    if form.is_valid():
        data = form.cleaned_data
        try:
            actions.clue_submit(
                alert=alert,
                sender=request.user if request.user.is_authenticated else None,
                phone=data["phone"],
                text=data["text"],
                place=data["place"],
                seen_at=data["seen_at"],
                latitude=data["latitude"],
                longitude=data["longitude"],
                photo=data["photo"],
                idempotency_key=data["idempotency_key"],
            )
        except ValidationError as error:
            errors_onto_form(form, error, rename=lambda field: {"location": "latitude"}.get(field, field))
        except actions.AlertRefused as refusal:
            messages.error(request, refusal.message)
            return redirect("alerts:public", reference=alert.reference)
        else:
            messages.success(request, _("感谢您提供线索！民警将尽快核实。"))
            return redirect("alerts:public", reference=alert.reference)
    return render(request, "alerts/public_detail.html", _public_context(request, alert, form), status=400)


def _photo_response(field: Any, extension: str) -> FileResponse:
    response = FileResponse(field.open("rb"), content_type=actions.PHOTO_CONTENT_TYPES[extension])
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, max-age=300"
    return response


@require_GET
def alert_photo(request: HttpRequest, reference: str) -> HttpResponse:
    """The photo of an active alert (public); of a withdrawn one, only for staff who may see it."""
    try:
        alert = queries.alert_public_get(reference)
    except Alert.DoesNotExist:
        raise Http404 from None
    if not alert.photo:
        raise Http404
    if not alert.is_active and not access.check(request.user, "view", alert):
        raise Http404
    return _photo_response(alert.photo, alert.photo_extension)


# --- Citizens -------------------------------------------------------------------------


@require_http_methods(["GET", "POST"])
@citizen_required
def subscription(request: HttpRequest) -> HttpResponse:
    """Opt in with a point (typed, or the browser's position) or a county; change it; opt out."""
    current = queries.subscription_of(request.user)
    point_form = PointForm(
        request.POST if request.POST.get("mode") == "point" else None,
        initial={"latitude": current.latitude, "longitude": current.longitude} if current else None,
    )
    county_form = CountyForm(
        request.POST if request.POST.get("mode") == "county" else None,
        initial={"county": current.county_id} if current and current.county_id else None,
    )
    status = 200
    if request.method == "POST":
        mode = request.POST.get("mode")
        form: PointForm | CountyForm | None = {"point": point_form, "county": county_form}.get(mode or "")
        if form is not None and form.is_valid():
            try:
                if isinstance(form, PointForm):
                    place = geo.point(form.cleaned_data["latitude"], form.cleaned_data["longitude"])
                    actions.subscription_set(user=request.user, point=place)
                else:
                    unit = form.unit()
                    if unit is None:
                        raise ValidationError({"county": [_("请选择一个区县。")]})
                    actions.subscription_set(user=request.user, county=unit)
            except ValidationError as error:
                errors_onto_form(form, error)
            except geo.InvalidPoint:
                form.add_error(None, _("经纬度无效：纬度应在 -90 至 90 之间，经度应在 -180 至 180 之间。"))
            else:
                messages.success(request, _("已保存。附近发生儿童走失时，您将收到紧急寻人信息。"))
                return redirect("alerts:subscription")
        status = 400
    return render(
        request,
        "alerts/subscription.html",
        {"current": current, "point_form": point_form, "county_form": county_form},
        status=status,
    )


@require_POST
@citizen_required
def unsubscribe(request: HttpRequest) -> HttpResponse:
    if actions.subscription_delete(user=request.user):
        messages.success(request, _("已取消订阅，您的位置信息已删除。"))
    return redirect("alerts:subscription")


@require_GET
@citizen_required
def received(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.alerts_received_for(request.user), 20).get_page(request.GET.get("page"))
    return render(
        request,
        "alerts/received.html",
        {"page": page, "subscribed": queries.subscription_of(request.user) is not None},
    )


# --- Staff ----------------------------------------------------------------------------


@require_GET
@staff_required()
def staff_list(request: HttpRequest) -> HttpResponse:
    state = request.GET.get("state") or None
    state = state if state in AlertState.values else None
    page = Paginator(queries.alerts_for(request.user, state=state), 50).get_page(request.GET.get("page"))
    radii = actions.schedule.scheme().radii
    return render(
        request,
        "alerts/staff_list.html",
        {
            "page": page,
            "radii": radii,
            "rows": [
                (alert, [int((alert.reach or {}).get(str(radius), 0)) for radius in radii])
                for alert in page.object_list
            ],
            "states": AlertState.choices,
            "state": state or "",
        },
    )


def _staff_alert(request: HttpRequest, reference: str) -> Alert:
    try:
        return queries.alert_get(request.user, reference)
    except Alert.DoesNotExist:
        raise Http404(_("未找到该预警，或您无权查看。")) from None


def _detail_context(
    request: HttpRequest,
    alert: Alert,
    *,
    withdraw_form: WithdrawForm | None = None,
    triage_errors: dict[int, TriageForm] | None = None,
) -> dict[str, Any]:
    publisher = actions.may_publish(request.user, alert.org)
    clues = list(queries.clues_for(request.user, alert))
    if publisher and any(clue.sender_phone for clue in clues):
        timeline.record_read(alert, fields=["clues.sender_phone"], actor=request.user, purpose="clue_follow_up")
    rows = [
        {
            "clue": clue,
            "phone": (clue.sender_phone if publisher else mask_phone(clue.sender_phone)) if clue.sender_phone else "",
            "form": (triage_errors or {}).get(clue.pk) or TriageForm(initial={"outcome": ClueState.USEFUL}),
        }
        for clue in clues
    ]
    radii = actions.schedule.scheme().radii
    return {
        "alert": alert,
        "clues": rows,
        "reach": [(radius, int((alert.reach or {}).get(str(radius), 0))) for radius in radii],
        "may_act": publisher and alert.is_active,
        "may_triage": publisher,
        "withdraw_form": withdraw_form or WithdrawForm(),
        "events": _event_rows(alert),
    }


@require_GET
@staff_required()
def staff_detail(request: HttpRequest, reference: str) -> HttpResponse:
    alert = _staff_alert(request, reference)
    return render(request, "alerts/staff_detail.html", _detail_context(request, alert))


@require_POST
@staff_required()
def withdraw(request: HttpRequest, reference: str) -> HttpResponse:
    alert = _staff_alert(request, reference)
    form = WithdrawForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            actions.alert_withdraw(
                alert=alert, reason=form.cleaned_data["reason"], note=form.cleaned_data["note"], actor=request.user
            )
        except ValidationError as error:
            errors_onto_form(form, error)
        except access.AccessDenied as denied:
            messages.error(request, denied.decision.reason)
            status = denied.decision.status
        except actions.AlertRefused as refusal:
            messages.error(request, refusal.message)
            status = refusal.status
        else:
            messages.success(request, _("预警已撤回，已通知所有收到预警的群众。"))
            return redirect("alerts:staff_detail", reference=alert.reference)
    alert.refresh_from_db()
    return render(
        request, "alerts/staff_detail.html", _detail_context(request, alert, withdraw_form=form), status=status
    )


def _staff_clue(request: HttpRequest, alert: Alert, pk: int) -> Clue:
    try:
        return queries.clue_get(request.user, alert, pk)
    except Clue.DoesNotExist:
        raise Http404(_("未找到该线索。")) from None


@require_POST
@staff_required()
def clue_triage(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    alert = _staff_alert(request, reference)
    clue = _staff_clue(request, alert, pk)
    form = TriageForm(request.POST)
    status = 400
    if form.is_valid():
        try:
            actions.clue_triage(
                clue=clue, outcome=form.cleaned_data["outcome"], note=form.cleaned_data["note"], actor=request.user
            )
        except ValidationError as error:
            errors_onto_form(form, error)
        except access.AccessDenied as denied:
            messages.error(request, denied.decision.reason)
            status = denied.decision.status
        else:
            messages.success(request, _("已记录研判结果。"))
            return redirect("alerts:staff_detail", reference=alert.reference)
    return render(
        request,
        "alerts/staff_detail.html",
        _detail_context(request, alert, triage_errors={clue.pk: form}),
        status=status,
    )


@require_GET
@staff_required()
def clue_photo(request: HttpRequest, reference: str, pk: int) -> HttpResponse:
    alert = _staff_alert(request, reference)
    clue = _staff_clue(request, alert, pk)
    if not clue.photo:
        raise Http404
    timeline.record_read(alert, fields=[f"clue:{clue.pk}:photo"], actor=request.user, purpose="clue_photo")
    return _photo_response(clue.photo, clue.photo_extension)
