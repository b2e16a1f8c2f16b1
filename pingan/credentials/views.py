from __future__ import annotations

from typing import Any

import segno
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control, never_cache
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import citizen_required, staff_required
from pingan.core import access, context, timeline, workflow
from pingan.credentials import actions, catalog, keys, queries, verify
from pingan.credentials.models import Credential

STATUS_ACTIONS = ("suspend", "reinstate", "revoke")
MAX_PAYLOAD_INPUT = verify.MAX_PAYLOAD_CHARS


def qr_data_uri(payload: str) -> str:
    """The payload as a QR code: an SVG data URI (an ``<img>`` under the CSP, no script)."""
    return segno.make(payload, error="m", micro=False).svg_data_uri(scale=4, border=4, dark="#000", light="#fff")


def _status_context(credential: Credential) -> dict[str, Any]:
    status = credential.status_on(context.now().astimezone(verify.CHINA).date())
    names = {
        "valid": _("有效"),
        "expired": _("已过期"),
        "suspended": _("已暂停使用"),
        "revoked": _("已撤销"),
    }
    return {"status": status, "status_name": names[status], "status_ok": status == "valid"}


# --- Citizen wallet ------------------------------------------------------------------------


@require_GET
def wallet(request: HttpRequest) -> HttpResponse:
    kind = access.user_kind(request.user)
    if kind == "staff":
        return redirect("credentials:staff_list")
    if kind == "anonymous":
        return redirect_to_login(request.get_full_path())
    return _wallet(request)


@citizen_required
def _wallet(request: HttpRequest) -> HttpResponse:
    items = [{"credential": c, **_status_context(c)} for c in queries.wallet_for(request.user)]
    return render(request, "credentials/wallet.html", {"items": items})


def _own(request: HttpRequest, serial: str) -> Credential:
    try:
        return queries.credential_get(request.user, serial)
    except Credential.DoesNotExist:
        raise Http404(_("未找到该证照，或您无权查看。")) from None


def _chosen(request: HttpRequest, spec: catalog.CredentialKind) -> list[str]:
    """The items ticked (``d=…``), or the kind's default when the form has not been sent."""
    if request.GET.get("sent") == "1" or "d" in request.GET:
        return [code for code in request.GET.getlist("d") if code in spec.disclosable]
    return list(spec.default_disclosure)


def _qr_context(request: HttpRequest, credential: Credential, chosen: list[str]) -> dict[str, Any]:
    status = _status_context(credential)
    result: dict[str, Any] = {"credential": credential, **status, "presentation": None, "qr": None}
    if not status["status_ok"]:
        return result
    try:
        presentation = actions.presentation_make(credential, holder=request.user, disclose=chosen)
    except ValidationError as error:
        result["problem"] = "；".join(error.messages)
        return result
    result.update(
        presentation=presentation,
        qr=qr_data_uri(presentation.payload),
        disclosed_labels=[credential.kind_spec.label_of(code) for code in presentation.disclosed],
        lifetime=actions.presentation_seconds(),
    )
    return result


@never_cache
@require_GET
@citizen_required
def credential_detail(request: HttpRequest, serial: str) -> HttpResponse:
    credential = _own(request, serial)
    spec = credential.kind_spec
    chosen = _chosen(request, spec)
    choices = [
        {"code": code, "label": spec.label_of(code), "predicate": code in spec.predicates, "checked": code in chosen}
        for code in spec.disclosable
    ]
    context_data = {
        **_qr_context(request, credential, chosen),
        "choices": choices,
        "claims": queries.claim_rows(credential, masked=False),
        "refresh_seconds": max(10, actions.presentation_seconds() // 3),
    }
    return render(request, "credentials/credential_detail.html", context_data)


@never_cache
@require_GET
@citizen_required
def credential_qr(request: HttpRequest, serial: str) -> HttpResponse:
    """The QR panel alone (htmx refreshes it, and swaps it when the ticks change)."""
    credential = _own(request, serial)
    chosen = _chosen(request, credential.kind_spec)
    return render(request, "credentials/partials/_qr.html", _qr_context(request, credential, chosen))


# --- Staff ---------------------------------------------------------------------------------


@require_GET
@staff_required()
def staff_list(request: HttpRequest) -> HttpResponse:
    all_kinds = catalog.kinds()
    kind = request.GET.get("kind") or None
    if kind not in all_kinds:
        kind = None
    wf = Credential.workflow()
    state = request.GET.get("state") or None
    if state not in wf.states:
        state = None
    search = request.GET.get("q", "")[:40]
    items = queries.credentials_for(request.user, kind=kind, state=state, search=search)
    page = Paginator(items, 50).get_page(request.GET.get("page"))
    rows = [
        {"credential": c, "holder": c.holder.timeline_label(), "kind_name": all_kinds[c.kind].name}
        for c in page.object_list
    ]
    context_data = {
        "page": page,
        "rows": rows,
        "kinds": [(code, spec.name) for code, spec in all_kinds.items()],
        "states": [(code, wf.state_name(code)) for code in wf.states],
        "filters": {"kind": kind or "", "state": state or "", "q": search},
    }
    template = "credentials/partials/_staff_table.html" if request.htmx else "credentials/staff_list.html"
    return render(request, template, context_data)


def _visible(request: HttpRequest, serial: str) -> Credential:
    try:
        return queries.credential_get(request.user, serial)
    except Credential.DoesNotExist:
        raise Http404(_("未找到该证照，或您无权查看。")) from None


def _staff_context(
    request: HttpRequest, credential: Credential, errors: dict[str, Any] | None = None
) -> dict[str, Any]:
    wf = Credential.workflow()
    available = {t.action for t in workflow.available_actions(credential, request.user)}
    events = timeline.events_for(credential).filter(action__startswith="workflow.") | timeline.events_for(
        credential
    ).filter(action="credentials.issued")
    return {
        "credential": credential,
        "kind_name": credential.kind_spec.name,
        **_status_context(credential),
        "state_name": wf.state_name(credential.state),
        "claims": queries.claim_rows(credential, masked=True),
        "holder": credential.holder.timeline_label(),
        "actions": [{"code": code, "name": wf.action_name(code)} for code in STATUS_ACTIONS if code in available],
        "events": events.order_by("id"),
        "presentations": timeline.events_for(credential).filter(action="credentials.presented").count(),
        "errors": errors or {},
    }


@require_GET
@staff_required()
def staff_detail(request: HttpRequest, serial: str) -> HttpResponse:
    credential = _visible(request, serial)
    timeline.record_read(
        credential, fields=sorted(credential.kind_spec.claims), actor=request.user, purpose="view_masked"
    )
    return render(request, "credentials/staff_detail.html", _staff_context(request, credential))


@require_POST
@staff_required()
def staff_act(request: HttpRequest, serial: str) -> HttpResponse:
    credential = _visible(request, serial)
    action = request.POST.get("action", "")
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        version = None
    if action not in STATUS_ACTIONS or version is None:
        messages.error(request, _("表单不完整，请刷新页面后重试。"))
        return render(request, "credentials/staff_detail.html", _staff_context(request, credential), status=400)
    reason = request.POST.get("reason", "").strip()[:500]
    change = {"suspend": actions.suspend, "reinstate": actions.reinstate, "revoke": actions.revoke}[action]
    try:
        change(credential, actor=request.user, reason=reason, expected_version=version)
    except workflow.InputInvalid as error:
        errors = {"action": action, "reason": error.errors.get("reason") or next(iter(error.errors.values()))}
        return render(request, "credentials/staff_detail.html", _staff_context(request, credential, errors), status=400)
    except (workflow.WorkflowError, access.AccessDenied) as error:
        status = error.decision.status if isinstance(error, access.AccessDenied) else error.status
        if status == 404:
            raise Http404(str(error)) from None
        messages.error(request, error.decision.reason if isinstance(error, access.AccessDenied) else error.message)
        credential.refresh_from_db()
        return render(request, "credentials/staff_detail.html", _staff_context(request, credential), status=status)
    messages.success(request, _("已办理：%(state)s") % {"state": credential.state_name})
    return redirect("credentials:staff_detail", serial=credential.serial)


# --- Public: keys, revocations, verification ------------------------------------------------


def _json(data: dict[str, Any]) -> JsonResponse:
    response = JsonResponse(data, json_dumps_params={"ensure_ascii": False, "indent": 1})
    response["Access-Control-Allow-Origin"] = "*"  # public documents: any verifier may fetch them
    return response


@require_GET
@cache_control(public=True, max_age=300)
def keys_json(request: HttpRequest) -> JsonResponse:
    return _json(keys.keyset_document())


@require_GET
@cache_control(public=True, max_age=60)
def revoked_json(request: HttpRequest) -> JsonResponse:
    return _json(keys.revocation_list_document())


def verify_payload(payload: str) -> verify.Result:
    """Verify against this server's published keys and its current revocation list."""
    return verify.verify(payload, keys.keyset(), revoked=keys.revocation_list())


def result_rows(result: verify.Result) -> list[tuple[str, str]]:
    """The disclosed items with their labels, in the catalogue's order."""
    spec = catalog.kinds().get(result.kind or "")
    if spec is None:
        return [(code, str(value)) for code, value in result.disclosed.items()]
    rows = []
    for code in spec.disclosable:
        if code in result.claims:
            value = str(result.claims[code])
            claim = spec.claims.get(code)
            if claim is not None and claim.type == "sex":
                value = {"M": _("男"), "F": _("女")}.get(value, value)
            rows.append((spec.label_of(code), value))
        elif code in result.predicates:
            rows.append((spec.label_of(code), _("是") if result.predicates[code] else _("否")))
    return rows


@never_cache
@require_http_methods(["GET", "POST"])
def verify_page(request: HttpRequest) -> HttpResponse:
    """Anyone pastes a presentation; VALID (black) or INVALID (red) with the reason."""
    payload = ""
    result = None
    error = ""
    status = 200
    if request.method == "POST":
        payload = request.POST.get("payload", "").strip()
        if not payload:
            error, status = _("请粘贴二维码中的内容。"), 400
        elif len(payload) > MAX_PAYLOAD_INPUT:
            error, status = _("内容过长，不是电子证照出示码。"), 400
        else:
            result = verify_payload(payload)
    spec = catalog.kinds().get(result.kind or "") if result is not None else None
    context_data = {
        "payload": payload,
        "result": result,
        "error": error,
        "rows": result_rows(result) if result is not None and result.valid else [],
        "kind_name": spec.name if spec else (result.kind if result else ""),
    }
    return render(request, "credentials/verify.html", context_data, status=status)
