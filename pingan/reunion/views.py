"""Pages of 团圆: a family reports a missing person, an adult registers to look for their
birth family, and both follow their report; staff verify reports, register found persons,
read a record (personal data masked, every read logged), review attribute candidates,
publish an alert for a missing child, record a reunion; the cold-case list per county,
the specialist teams and the reunions."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.decorators import citizen_required, staff_check, staff_required
from pingan.alerts import actions as alert_actions
from pingan.alerts import queries as alert_queries
from pingan.core import access, timeline, workflow
from pingan.core.refusals import errors_onto_form, refusal_message, refusal_status
from pingan.reunion import actions, forms, maps, matching, queries
from pingan.reunion.models import CloseCode, Kind, Method, PersonRecord, RecordPhoto

# The steps a record page offers as buttons (the others are taken by their own forms).
PAGE_ACTIONS = ("verify", "reject", "set_next_step", "close", "withdraw")
INPUT_LABELS = {
    "note": gettext_lazy("说明"),
    "reason": gettext_lazy("理由"),
    "next_step": gettext_lazy("下一步工作"),
}
CLOSE_CHOICES = [
    (code, label) for code, label in CloseCode.choices if code not in (CloseCode.REJECTED, CloseCode.WITHDRAWN)
]
HISTORY_PREFIXES = ("workflow.", "reunion.")


def _signed_in(request: HttpRequest) -> HttpResponse | None:
    """Pages shared by the family and the staff: sign-in required, staff with their second factor."""
    if access.user_kind(request.user) == "staff":
        return staff_check(request, None)
    if not request.user.is_authenticated:
        from django.contrib.auth.views import redirect_to_login

        return redirect_to_login(request.get_full_path())
    return None


def _record_or_404(request: HttpRequest, reference: str) -> PersonRecord:
    try:
        return queries.record_get(request.user, reference)
    except PersonRecord.DoesNotExist:
        raise Http404(_("未找到该记录，或您无权查看。")) from None


# --- Reporting -----------------------------------------------------------------------------------


def _report_page(
    request: HttpRequest, *, kind: str, online: bool, title: str, template_extra: dict | None = None
) -> HttpResponse:
    form = forms.RecordForm(request.POST or None, request.FILES or None, kind=kind, online=online)
    formset = forms.RelativeFormSet(request.POST or None, prefix="relatives") if kind != Kind.FOUND else None
    status = 200
    if request.method == "POST":
        key = request.POST.get("key", "")[:64]
        if form.is_valid() and (formset is None or formset.is_valid()):
            relatives = forms.relatives_from(formset) if formset is not None else []
            try:
                if online:
                    record = actions.record_report(
                        reporter=request.user,
                        kind=kind,
                        data=form.data_for_action(),
                        relatives=relatives,
                        photos=form.photo_files(),
                        idempotency_key=key,
                    )
                else:
                    record = actions.record_register(
                        actor=request.user,
                        kind=kind,
                        data=form.data_for_action(),
                        relatives=relatives,
                        photos=form.photo_files(),
                        idempotency_key=key,
                        channel=request.POST.get("channel")
                        if request.POST.get("channel") in ("police", "station")
                        else "police",
                    )
            except ValidationError as error:
                forms.place_errors(form, formset, error)
            except (access.AccessDenied, workflow.WorkflowError) as error:
                form.add_error(None, refusal_message(error))
            else:
                if online:
                    messages.success(
                        request,
                        _("登记已提交，编号 %(ref)s。民警将在1个工作日内核实，请保持电话畅通。")
                        % {"ref": record.reference},
                    )
                else:
                    messages.success(request, _("已登记并核查：%(ref)s") % {"ref": record.reference})
                return redirect(record)
        status = 400
    context = {
        "form": form,
        "formset": formset,
        "kind": kind,
        "online": online,
        "title": title,
        "key": request.POST.get("key") or uuid.uuid4().hex,
        "place_map": maps.map_view(*_typed_point(form)),
        **(template_extra or {}),
    }
    return render(request, "reunion/report_form.html", context, status=status)


@require_http_methods(["GET", "POST"])
@citizen_required
def report(request: HttpRequest) -> HttpResponse:
    """A family reports a missing person online (家寻亲)."""
    return _report_page(request, kind=Kind.MISSING, online=True, title=_("登记失踪人员"))


@require_http_methods(["GET", "POST"])
@citizen_required
def seek(request: HttpRequest) -> HttpResponse:
    """An adult registers to look for their birth family (自主寻亲)."""
    return _report_page(request, kind=Kind.SEEKER, online=True, title=_("自主寻亲登记"))


@require_http_methods(["GET", "POST"])
@staff_required(roles=actions.ACT_ROLES)
def register(request: HttpRequest) -> HttpResponse:
    """The police register a found person (or a missing person or seeker at the station)."""
    kind = request.GET.get("kind") or request.POST.get("kind") or Kind.FOUND
    if kind not in Kind.values:
        kind = Kind.FOUND
    titles = {
        Kind.FOUND: _("登记身份不明人员"),
        Kind.MISSING: _("民警登记失踪人员"),
        Kind.SEEKER: _("民警登记寻亲人员"),
    }
    return _report_page(request, kind=kind, online=False, title=titles[kind], template_extra={"kinds": Kind.choices})


@require_GET
@citizen_required
def mine(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.my_records(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "reunion/mine.html", {"page": page})


# --- Staff lists -------------------------------------------------------------------------------


@require_GET
@staff_required()
def queue(request: HttpRequest) -> HttpResponse:
    wf = PersonRecord.workflow()
    kind = request.GET.get("kind") or None
    state = request.GET.get("state") or None
    search = request.GET.get("q", "")[:20]
    records = queries.records_for(
        request.user,
        kind=kind if kind in Kind.values else None,
        state=state if state in wf.states else None,
        search=search,
        overdue=request.GET.get("overdue") == "1",
    )
    page = Paginator(records, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "reunion/queue.html",
        {
            "page": page,
            "kinds": Kind.choices,
            "states": [(code, wf.state_name(code)) for code in wf.states if code != "new"],
            "filters": {
                "kind": kind or "",
                "state": state or "",
                "q": search,
                "overdue": request.GET.get("overdue") == "1",
            },
            "may_register": bool(access.jurisdiction_paths(request.user, roles=actions.ACT_ROLES, action="act")),
            "waiting": queries.waiting_for(request.user).count(),
        },
    )


@require_GET
@staff_required()
def cold_cases(request: HttpRequest) -> HttpResponse:
    counties = queries.cold_case_counties(request.user)
    chosen = request.GET.get("county", "")[:12]
    county = next((unit for unit in counties if unit.code == chosen), None)
    groups = queries.cold_cases_for(user=request.user, county=county)
    return render(
        request,
        "reunion/cold_cases.html",
        {
            "groups": groups,
            "counties": counties,
            "county": county,
            "years": queries.cold_case_years(),
            "total": sum(len(group.cases) for group in groups),
        },
    )


@require_GET
@staff_required()
def teams(request: HttpRequest) -> HttpResponse:
    return render(request, "reunion/teams.html", {"teams": queries.teams_for(request.user)})


@require_GET
@staff_required()
def reunions(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.reunions_for(request.user), 50).get_page(request.GET.get("page"))
    return render(request, "reunion/reunions.html", {"page": page})


# --- The record page ----------------------------------------------------------------------------


def _history(record: PersonRecord, user: Any) -> list[tuple[Any, str, str, Any]]:
    wf = record.workflow()
    names = {
        "reunion.recorded": _("登记"),
        "reunion.relative_added": _("补充亲属"),
        "reunion.photo_added": _("补充照片"),
        "reunion.reunited": _("认定团圆"),
        "reunion.alert_published": _("发布紧急预警"),
        "reunion.alert_withdrawn": _("预警已撤回"),
        "reunion.alert_withdraw_pending": _("预警待撤回"),
        "reunion.clue_received": _("收到群众线索"),
        "reunion.candidates.refresh": _("特征比对更新"),
        "reunion.candidate.exclude": _("排除比对候选"),
        "reunion.candidate.pursue": _("安排核查比对候选"),
    }
    staff = access.user_kind(user) == "staff"
    rows = []
    for event in timeline.events_for(record):
        if not event.action.startswith(HISTORY_PREFIXES):
            continue
        if not staff and event.action.startswith("reunion.candidate"):
            continue
        if event.action.startswith("workflow."):
            name = wf.action_name(event.action.removeprefix("workflow."))
        else:
            name = str(names.get(event.action, event.action))
        rows.append((event, name, _event_note(event), _when(event)))
    return rows


def _when(event: Any) -> Any:
    """The moment an event stands for (a back-dated import's own date, else when it happened)."""
    backdated = (event.data or {}).get("backdated_to")
    if isinstance(backdated, str):
        try:
            return dt.datetime.fromisoformat(backdated.replace("Z", "+00:00"))
        except ValueError:
            pass
    return event.occurred_at


def _event_note(event: Any) -> str:
    data = event.data or {}
    parts = [str(value) for value in (data.get("input") or {}).values() if isinstance(value, str)]
    for key in ("with", "alert", "place", "reason"):
        if data.get(key):
            parts.append(str(data[key]))
    return " · ".join(parts)[:300]


def _candidates(record: PersonRecord, user: Any) -> list[dict[str, Any]]:
    if access.user_kind(user) != "staff":
        return []
    may_review = bool(access.roles_for(user, record, "act") & matching.REVIEW_ROLES)
    rows = []
    for candidate in matching.candidates_for(user=user, record=record)[:20]:
        other = candidate.found if record.kind == Kind.MISSING else candidate.missing
        rows.append(
            {
                "candidate": candidate,
                "other": other,
                "score": candidate.log10_bf,
                "bayes_factor": 10**candidate.log10_bf,
                "reasons": [reason.get("text", "") for reason in candidate.reasons if isinstance(reason, dict)],
                "may_review": may_review and candidate.status == "open",
            }
        )
    return rows


def _typed_point(form: Any) -> tuple[float | None, float | None]:
    """The coordinates typed into a re-shown form, for its map's marker (None if not numbers)."""
    try:
        return float(form["latitude"].value()), float(form["longitude"].value())
    except (TypeError, ValueError, KeyError):
        return None, None


def _page_context(request: HttpRequest, record: PersonRecord, *, unmask: bool = False, **extra: Any) -> dict[str, Any]:
    personal = actions.personal_data_read(record=record, actor=request.user, unmask=unmask)
    user = request.user
    staff = access.user_kind(user) == "staff"
    held = access.roles_for(user, record, "act")
    transitions = [t for t in workflow.available_actions(record, user) if t.action in PAGE_ACTIONS]
    alert = alert_queries.alert_for_subject(actions.SUBJECT_TYPE, record.reference)
    may_publish = staff and record.kind == Kind.MISSING and alert_actions.may_publish(user, record.org)
    reunion = queries.reunion_of(record) if record.state == "reunited" else None
    return {
        "record": record,
        "place_map": maps.map_view(record.latitude, record.longitude),
        "personal": personal,
        "history": _history(record, user),
        "photos": list(record.photos.all()),
        "actions": [
            {
                "code": t.action,
                "name": t.name,
                "fields": [
                    (
                        name,
                        INPUT_LABELS.get(name, name),
                        name in (t.input_schema or {}).get("required", []),
                        CLOSE_CHOICES if (t.action == "close" and name == "reason") else None,
                    )
                    for name in t.input_fields
                ],
            }
            for t in transitions
        ],
        "staff": staff,
        "may_edit": record.is_active and bool(held & (actions.ACT_ROLES | {"owner"})),
        "may_reunite": record.state == "active" and record.kind == Kind.MISSING and bool(held & actions.REUNITE_ROLES),
        "alert": alert,
        "may_publish": may_publish and (alert is None or not alert.is_active),
        "alert_problems": actions.alert_problems(record) if may_publish else [],
        "candidates": _candidates(record, user) if staff else [],
        "reunion": reunion,
        "reunion_form": extra.pop("reunion_form", None) or forms.ReunionForm(),
        "relative_form": extra.pop("relative_form", None) or forms.RelativeAddForm(prefix="rel"),
        "photo_form": extra.pop("photo_form", None) or forms.PhotoForm(prefix="ph"),
        "methods": Method.choices,
        "errors": extra.pop("errors", {}),
        **extra,
    }


def _render_record(request: HttpRequest, record: PersonRecord, *, status: int = 200, **extra: Any) -> HttpResponse:
    return render(request, "reunion/record.html", _page_context(request, record, **extra), status=status)


@require_GET
def record_detail(request: HttpRequest, reference: str) -> HttpResponse:
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    return _render_record(request, record)


@require_POST
def record_unmask(request: HttpRequest, reference: str) -> HttpResponse:
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    try:
        return _render_record(request, record, unmask=True)
    except access.AccessDenied as denied:
        messages.error(request, denied.decision.reason)
        return _render_record(request, record, status=denied.decision.status)


@require_POST
def record_act(request: HttpRequest, reference: str) -> HttpResponse:
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    action = request.POST.get("action", "")[:40]
    try:
        version = int(request.POST.get("version", ""))
    except ValueError:
        messages.error(request, _("表单不完整，请刷新页面后重试。"))
        return _render_record(request, record, status=400)
    value = {name: request.POST.get(name, "").strip()[:2000] for name in ("note", "reason", "next_step")}
    try:
        if action == "verify":
            actions.record_verify(record=record, actor=request.user, note=value["note"], expected_version=version)
        elif action == "reject":
            actions.record_reject(record=record, actor=request.user, reason=value["reason"], expected_version=version)
        elif action == "withdraw":
            actions.record_withdraw(record=record, actor=request.user, reason=value["reason"], expected_version=version)
        elif action == "close":
            actions.record_close(
                record=record,
                actor=request.user,
                reason=value["reason"],
                note=value["note"],
                expected_version=version,
            )
        elif action == "set_next_step":
            actions.record_set_next_step(
                record=record, actor=request.user, next_step=value["next_step"], expected_version=version
            )
        else:
            messages.error(request, _("没有这个操作。"))
            return _render_record(request, record, status=400)
    except workflow.InputInvalid as error:
        record.refresh_from_db()
        return _render_record(request, record, status=400, errors={"action": action, "fields": error.errors})
    except (workflow.WorkflowError, access.AccessDenied) as error:
        if refusal_status(error) == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        record.refresh_from_db()
        return _render_record(request, record, status=refusal_status(error))
    messages.success(request, _("已办理：%(state)s") % {"state": record.state_name})
    return redirect(record)


@require_POST
@staff_required()
def record_alert(request: HttpRequest, reference: str) -> HttpResponse:
    record = _record_or_404(request, reference)
    try:
        alert = actions.alert_publish_for(record=record, actor=request.user)
    except (actions.ReunionRefused, access.AccessDenied, ValidationError, alert_actions.AlertRefused) as error:
        if refusal_status(error) == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, _("未能发布紧急预警：%(why)s") % {"why": refusal_message(error)})
        return _render_record(request, record, status=refusal_status(error))
    messages.success(
        request,
        _("紧急预警 %(ref)s 已发布，已推送 %(n)s 人；推送范围将随时间扩大。")
        % {"ref": alert.reference, "n": alert.delivered_count},
    )
    return redirect(record)


@require_POST
@staff_required()
def record_reunite(request: HttpRequest, reference: str) -> HttpResponse:
    record = _record_or_404(request, reference)
    form = forms.ReunionForm(request.POST)
    if not form.is_valid():
        return _render_record(request, record, status=400, reunion_form=form)
    try:
        found = queries.record_get(request.user, form.cleaned_data["found_reference"])
    except PersonRecord.DoesNotExist:
        form.add_error("found_reference", _("未找到该编号的记录，或您无权查看。"))
        return _render_record(request, record, status=400, reunion_form=form)
    try:
        missing, other = (record, found) if record.kind == Kind.MISSING else (found, record)
        actions.reunion_record(
            missing=missing,
            found=other,
            method=form.cleaned_data["method"],
            evidence=form.cleaned_data["evidence"],
            note=form.cleaned_data["note"],
            actor=request.user,
        )
    except ValidationError as error:
        errors_onto_form(form, error)
        return _render_record(request, record, status=400, reunion_form=form)
    except (actions.ReunionRefused, access.AccessDenied, workflow.WorkflowError) as error:
        if refusal_status(error) == 404:
            raise Http404(refusal_message(error)) from None
        form.add_error(None, refusal_message(error))
        record.refresh_from_db()
        return _render_record(request, record, status=refusal_status(error), reunion_form=form)
    messages.success(request, _("已认定团圆：%(a)s 与 %(b)s。") % {"a": missing.reference, "b": other.reference})
    return redirect(record)


@require_POST
def record_relative(request: HttpRequest, reference: str) -> HttpResponse:
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    form = forms.RelativeAddForm(request.POST, prefix="rel")
    if not form.is_valid():
        return _render_record(request, record, status=400, relative_form=form)
    data = form.cleaned_data
    try:
        actions.relative_add(
            record=record,
            actor=request.user,
            relation=data["relation"],
            name=data["name"],
            phone=data["phone"],
            id_number=data["id_number"],
            can_give_dna=data["can_give_dna"],
            deceased=data["deceased"],
        )
    except ValidationError as error:
        errors_onto_form(form, error)
        return _render_record(request, record, status=400, relative_form=form)
    except (actions.ReunionRefused, access.AccessDenied) as error:
        if refusal_status(error) == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        return _render_record(request, record, status=refusal_status(error))
    messages.success(request, _("已补充亲属信息。"))
    return redirect(record)


@require_POST
def record_photo(request: HttpRequest, reference: str) -> HttpResponse:
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    form = forms.PhotoForm(request.POST, request.FILES, prefix="ph")
    if not form.is_valid():
        return _render_record(request, record, status=400, photo_form=form)
    try:
        actions.photo_add(
            record=record,
            actor=request.user,
            upload=form.cleaned_data["photo"],
            caption=form.cleaned_data["caption"],
            public=form.cleaned_data["public"],
        )
    except ValidationError as error:
        errors_onto_form(form, error)
        return _render_record(request, record, status=400, photo_form=form)
    except (actions.ReunionRefused, access.AccessDenied) as error:
        if refusal_status(error) == 404:
            raise Http404(refusal_message(error)) from None
        messages.error(request, refusal_message(error))
        return _render_record(request, record, status=refusal_status(error))
    messages.success(request, _("已上传照片。"))
    return redirect(record)


@require_GET
def record_photo_file(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    """A record's photo, to those who may see the record (the file store is not served)."""
    refusal = _signed_in(request)
    if refusal is not None:
        return refusal
    record = _record_or_404(request, reference)
    photo = RecordPhoto.objects.filter(record=record, token=token[:32]).first()
    if photo is None or not photo.file.storage.exists(photo.file.name):
        raise Http404(_("没有这张照片。"))
    timeline.record_read(record, fields=["photo"], actor=request.user, photo=photo.token)
    with photo.file.storage.open(photo.file.name, "rb") as handle:  # at most 5 MB: read, closed at once
        response = HttpResponse(handle.read(), content_type=photo.content_type)
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_POST
@staff_required()
def candidate_review(request: HttpRequest, reference: str, pk: int, verb: str) -> HttpResponse:
    record = _record_or_404(request, reference)
    candidate = next((c for c in matching.candidates_for(user=request.user, record=record) if c.pk == pk), None)
    if candidate is None:
        raise Http404(_("没有这个比对候选。"))
    try:
        if verb == "exclude":
            matching.candidate_exclude(
                candidate=candidate, actor=request.user, reason=request.POST.get("reason", "")[:500]
            )
            messages.success(request, _("已排除该候选，今后不再提示。"))
        elif verb == "pursue":
            matching.candidate_pursue(candidate=candidate, actor=request.user)
            messages.success(request, _("已安排核查该候选。"))
        else:
            raise Http404(_("没有这个操作。"))
    except matching.CandidateRefused as error:
        messages.error(request, error.message)
        return _render_record(request, record, status=error.status)
    except access.AccessDenied as error:
        if error.decision.status == 404:
            raise Http404(error.decision.reason) from None
        messages.error(request, error.decision.reason)
        return _render_record(request, record, status=error.decision.status)
    return redirect(record)
