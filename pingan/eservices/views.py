"""Pages of the e-services platform: the catalogue (public), applying and tracking
(citizens), the all-round window's workbench and counter mode (staff)."""

from __future__ import annotations

import functools
import uuid
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts import queries as accounts
from pingan.accounts.decorators import citizen_required, staff_required
from pingan.core import access, context, deadlines, identity, refusals, timeline, workflow
from pingan.core.refusals import refusal_message
from pingan.eservices import actions, catalog, display, formschema, queries, search
from pingan.eservices.models import Application, Channel, Document
from pingan.orgs.models import OrgUnit

STAFF_ROLES = tuple(sorted(actions.STAFF_ROLES))
INPUT_LABELS = {
    "note": gettext_lazy("说明"),
    "reason": gettext_lazy("理由"),
    "items": gettext_lazy("需要补正的材料（一次性告知）"),
    "comment": gettext_lazy("审核意见"),
    "opinion": gettext_lazy("初审意见"),
    "tracking": gettext_lazy("邮件单号"),
    "result": gettext_lazy("查验结果"),
    "delivery": gettext_lazy("送达方式"),
}
EVENT_NAMES = {
    "eservices.draft_created": gettext_lazy("创建申请"),
    "eservices.draft_saved": gettext_lazy("保存草稿"),
    "eservices.document_added": gettext_lazy("上传材料"),
    "eservices.document_removed": gettext_lazy("删除材料"),
    "access.denied": gettext_lazy("拒绝访问"),
}
DANGEROUS = ("refuse", "withdraw", "refuse_after_inspection", "send_back", "reinspect")


def _service_or_404(code: str) -> catalog.ServiceDefinition:
    try:
        return catalog.get(code)
    except KeyError:
        raise Http404(_("没有这个办事事项。")) from None


def _application_or_404(request: HttpRequest, reference: str) -> Application:
    try:
        return queries.application_get(request.user, reference)
    except Application.DoesNotExist:
        raise Http404(_("未找到该申请，或您无权查看。")) from None


# --- The catalogue (public) --------------------------------------------------------------


@require_GET
def catalogue(request: HttpRequest) -> HttpResponse:
    query = request.GET.get("q", "").strip()[:50]
    department = request.GET.get("department", "")
    life_event = request.GET.get("event", "")
    channel = request.GET.get("channel", "")
    departments = catalog.departments_in_use()
    events = catalog.life_events()
    department = department if department in departments else ""
    life_event = life_event if life_event in events else ""
    channel = channel if channel in {c.value for c in Channel} else ""
    results = search.search(
        query, department=department or None, life_event=life_event or None, channel=channel or None
    )
    page = Paginator(results, 30).get_page(request.GET.get("page"))
    context_data = {
        "page": page,
        "summary": catalog.summary(),
        "departments": [(code, display.department_name(code)) for code in departments],
        "events": events.values(),
        "channels": Channel.choices,
        "filters": {"q": query, "department": department, "event": life_event, "channel": channel},
    }
    template = "eservices/partials/_results.html" if request.htmx else "eservices/catalogue.html"
    return render(request, template, context_data)


@require_GET
def service_detail(request: HttpRequest, code: str) -> HttpResponse:
    service = _service_or_404(code)
    form = formschema.ServiceForm(service.form)
    return render(
        request,
        "eservices/service.html",
        {
            "service": service,
            "form": form,
            "steps": [
                t
                for t in display.workflow_for(service).transitions
                if t.action not in (*DANGEROUS, "request_supplement", "supplement", "mail")
            ],
            "department": display.department_name(service.department),
            "key": uuid.uuid4().hex,
        },
    )


@require_POST
@citizen_required
def apply_start(request: HttpRequest, code: str) -> HttpResponse:
    service = _service_or_404(code)
    try:
        application = actions.draft_create(
            actor=request.user,
            service_code=service.code,
            channel=Channel.ONLINE,
            idempotency_key=request.POST.get("key", "")[:64],
        )
    except (ValidationError, access.AccessDenied) as error:
        messages.error(request, refusal_message(error))
        return redirect("eservices:service", code=service.code)
    return redirect("eservices:edit", reference=application.reference)


# --- Applying (citizens; staff in counter mode use the same pages) -----------------------


def _editable(request: HttpRequest, reference: str) -> Application:
    application = _application_or_404(request, reference)
    if application.state != "draft":
        return application
    held = access.roles_for(request.user, application, "act")
    if not held & (set(STAFF_ROLES) | {"owner"}):
        raise Http404(_("未找到该申请，或您无权查看。"))
    return application


@require_http_methods(["GET", "POST"])
def application_edit(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    application = _editable(request, reference)
    if application.state != "draft":
        return redirect(application)
    service = application.service
    if request.method == "POST":
        form = formschema.ServiceForm(service.form, request.POST, require=False)
        if form.is_valid():
            try:
                actions.draft_update(application=application, actor=request.user, form_data=form.cleaned_json())
            except ValidationError as error:
                form.add_schema_errors(error.message_dict)
            else:
                if request.POST.get("then") == "save":
                    messages.success(request, _("草稿已保存，可随时回来继续填写。"))
                    return redirect("eservices:edit", reference=application.reference)
                target = "eservices:documents" if service.documents else "eservices:check"
                return redirect(target, reference=application.reference)
        status = 400
    else:
        form = formschema.ServiceForm(service.form, initial=application.form_data, require=False)
        status = 200
    return render(
        request,
        "eservices/apply_form.html",
        {"application": application, "service": service, "form": form, "step": 1},
        status=status,
    )


@require_http_methods(["GET", "POST"])
def application_documents(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    application = _editable(request, reference)
    if application.state not in ("draft", "supplement"):
        return redirect(application)
    status = 200
    if request.method == "POST":
        try:
            if request.POST.get("remove"):
                document = application.documents.filter(token=request.POST["remove"][:32]).first()
                if document is None:
                    raise Http404
                actions.document_remove(document=document, actor=request.user)
                messages.success(request, _("已删除。"))
            else:
                upload = request.FILES.get("file")
                if upload is None:
                    raise ValidationError({"document": [_("请选择要上传的文件。")]})
                actions.document_add(
                    application=application, actor=request.user, code=request.POST.get("code", "")[:40], upload=upload
                )
                messages.success(request, _("材料已上传。"))
            return redirect("eservices:documents", reference=application.reference)
        except (ValidationError, access.AccessDenied) as error:
            messages.error(request, refusal_message(error))
            status = 400
    uploaded = list(application.documents.all())
    specs = [
        {"spec": spec, "files": [d for d in uploaded if d.code == spec.code]} for spec in application.service.documents
    ]
    return render(
        request,
        "eservices/apply_documents.html",
        {"application": application, "service": application.service, "specs": specs, "step": 2},
        status=status,
    )


@require_GET
def document_download(request: HttpRequest, reference: str, token: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    application = _application_or_404(request, reference)
    document = Document.objects.filter(application=application, token=token[:32]).first()
    if document is None:
        raise Http404
    timeline.record_read(application, fields=[f"document:{document.code}"], actor=request.user, purpose="document")
    response = FileResponse(document.file.open("rb"), content_type=document.content_type)
    response["Content-Disposition"] = f'attachment; filename="{document.token}.{document.extension}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


@require_http_methods(["GET", "POST"])
def application_check(request: HttpRequest, reference: str) -> HttpResponse:
    """Check your answers, then submit (with an idempotency key: one application per click)."""
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    application = _editable(request, reference)
    if application.state != "draft":
        return redirect("eservices:submitted", reference=application.reference)
    status = 200
    if request.method == "POST":
        channel = "counter" if access.user_kind(request.user) == "staff" else None
        try:
            actions.submit(
                application=application,
                actor=request.user,
                idempotency_key=request.POST.get("key", "")[:64],
                channel=channel,
            )
        except (ValidationError, workflow.WorkflowError, access.AccessDenied) as error:
            messages.error(request, refusal_message(error))
            status = 400
        else:
            return redirect("eservices:submitted", reference=application.reference)
    return render(
        request,
        "eservices/apply_check.html",
        {
            "application": application,
            "service": application.service,
            "answers": formschema.rows(application.service.form, application.form_data),
            "documents": application.documents.all(),
            "problems": actions.submission_errors(application),
            "key": uuid.uuid4().hex,
            "step": 3,
        },
        status=status,
    )


@require_GET
def application_submitted(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    application = _application_or_404(request, reference)
    return render(
        request,
        "eservices/apply_done.html",
        {"application": application, "service": application.service, "clocks": deadlines.clocks_for(application)},
    )


@require_GET
@citizen_required
def my_applications(request: HttpRequest) -> HttpResponse:
    page = Paginator(queries.mine(request.user), 20).get_page(request.GET.get("page"))
    return render(request, "eservices/mine.html", {"page": page})


# --- One application: tracking and deciding ---------------------------------------------


def _detail_context(request: HttpRequest, application: Application, errors: dict[str, Any] | None = None) -> dict:
    transitions = workflow.available_actions(application, request.user)
    return {
        "application": application,
        "service": application.service,
        "answers": queries.answers(request.user, application),
        "documents": application.documents.all(),
        "clocks": deadlines.clocks_for(application),
        "events": [
            {
                "at": event.occurred_at,
                "actor": event.actor_label,
                "actor_id": event.actor_id,
                "action": application.workflow().action_name(event.action.removeprefix("workflow."))
                if event.action.startswith("workflow.")
                else EVENT_NAMES.get(event.action, event.action),
                "text": " ".join(str(v) for v in ((event.data or {}).get("input") or {}).values()),
            }
            for event in timeline.events_for(application)
            .exclude(action="personal_data.read")
            .exclude(action__startswith="notify.")
        ],
        "actions": [
            {
                "code": t.action,
                "name": t.name,
                "danger": t.action in DANGEROUS,
                "fields": [
                    {
                        "name": name,
                        "label": INPUT_LABELS.get(name, name),
                        "required": name in (t.input_schema or {}).get("required", []),
                        "choices": (t.input_schema or {}).get("properties", {}).get(name, {}).get("enum"),
                    }
                    for name in t.input_fields
                ],
            }
            for t in transitions
        ],
        "is_staff": access.user_kind(request.user) == "staff",
        "is_owner": "owner" in access.roles_for(request.user, application, "view"),
        "errors": errors or {},
        "rating_url": _rating_url(application, request.user),
    }


def _rating_url(application: Application, user: Any) -> str:
    if application.state != "completed" or application.applicant_id != getattr(user, "pk", None):
        return ""
    try:
        return reverse("ratings:rate", args=["eservices.application", application.pk])
    except NoReverseMatch:
        return ""


@require_GET
def application_detail(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        return redirect(f"{reverse('accounts:login')}?next={request.path}")
    application = _application_or_404(request, reference)
    return render(request, "eservices/application.html", _detail_context(request, application))


@require_POST
def application_act(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    application = _application_or_404(request, reference)
    channel = "counter" if access.user_kind(request.user) == "staff" else None

    def page(errors: dict[str, Any] | None, status: int) -> HttpResponse:
        if errors:  # the template lists the fields' errors as pairs
            errors = {**errors, "fields": list(errors["fields"].items())}
        return render(
            request, "eservices/application.html", _detail_context(request, application, errors), status=status
        )

    return refusals.workflow_step_from_post(
        request,
        application,
        advance=functools.partial(actions.advance, application=application, actor=request.user, channel=channel),
        page=page,
    )


@require_GET
def application_receipt(request: HttpRequest, reference: str) -> HttpResponse:
    if not request.user.is_authenticated:
        raise Http404
    application = _application_or_404(request, reference)
    return render(request, "eservices/receipt.html", {"application": application, "service": application.service})


# --- Staff: the all-round window ---------------------------------------------------------


@require_GET
@staff_required(roles=(*STAFF_ROLES, "auditor", "administrator"))
def workbench(request: HttpRequest) -> HttpResponse:
    filters = queries.QueueFilters(
        department=request.GET.get("department", "")[:30],
        service=request.GET.get("service", "")[:60],
        state=request.GET.get("state", "")[:30],
        deadline=request.GET.get("deadline", "")[:10],
        search=request.GET.get("q", "")[:30],
    )
    counts = queries.queue_counts(request.user)
    page = queries.queue_page(request.user, filters, request.GET.get("page"), total=counts["total"])
    services = catalog.services()
    for row in page.object_list:  # names once per row, not through the catalogue in the template
        row.service_label = services[row.service_code].name if row.service_code in services else row.service_code
        row.state_label = display.state_name(row.state)
    context_data = {
        "page": page,
        "filters": filters,
        "counts": counts,
        "departments": [(code, display.department_name(code)) for code in catalog.departments_in_use()],
        # the service list once a department is chosen (313 options on every page cost ~10 ms)
        "services": sorted(
            ((code, s.name) for code, s in services.items() if s.department == filters.department),
            key=lambda pair: pair[0],
        )
        if filters.department
        else [],
        "states": [(code, display.state_name(code)) for code in queries.STAFF_STATES],
    }
    template = "eservices/partials/_queue.html" if request.htmx else "eservices/workbench.html"
    return render(request, template, context_data)


@require_POST
@staff_required(roles=STAFF_ROLES)
def workbench_bulk(request: HttpRequest) -> HttpResponse:
    """Bulk acceptance: the one step that is safe in bulk (no input, no decision on merits)."""
    references = request.POST.getlist("reference")[:100]
    done, refused = 0, []
    for reference in references:
        try:
            application = queries.application_get(request.user, reference[:24])
            actions.advance(application=application, action="accept", actor=request.user, channel="counter")
            done += 1
        except Application.DoesNotExist:
            refused.append(f"{reference[:24]}：{_('未找到该申请，或您无权查看。')}")
        except (workflow.WorkflowError, access.AccessDenied, ValidationError) as error:
            refused.append(f"{reference[:24]}：{refusal_message(error)}")
    if done:
        messages.success(request, _("已受理 %(n)s 件。") % {"n": done})
    for line in refused:
        messages.error(request, line)
    return redirect(f"{reverse('eservices:workbench')}?{request.POST.get('query', '')[:500]}")


@require_GET
@staff_required(roles=STAFF_ROLES)
def counter(request: HttpRequest) -> HttpResponse:
    """Counter mode: find the citizen at the window, then any service for them."""
    id_number = request.GET.get("id_number", "").strip().upper()[:18]
    citizen, problem = None, ""
    if id_number:
        try:
            identity.validate_resident_id(id_number)
        except ValidationError as error:
            problem = error.messages[0]
        else:
            citizen = accounts.citizen_by_id_number(request.user, id_number)
            if citizen is None:
                problem = _("辖区内未找到该群众的实名记录，请先为其建档。")
    query = request.GET.get("q", "").strip()[:50]

    results = search.search(query, channel="counter") if citizen is not None else []
    return render(
        request,
        "eservices/counter.html",
        {
            "id_number": id_number,
            "citizen": citizen,
            "masked_id": identity.mask_resident_id(id_number) if citizen else "",
            "problem": problem,
            "results": results[:40],
            "q": query,
        },
        status=400 if problem else 200,
    )


@require_http_methods(["GET", "POST"])
@staff_required(roles=STAFF_ROLES)
def counter_apply(request: HttpRequest, code: str) -> HttpResponse:
    service = _service_or_404(code)
    # "citizen_id": the form itself may have an "id_number" field (someone else's number)
    id_number = (request.POST.get("citizen_id") or request.GET.get("id_number") or "").strip().upper()[:18]
    citizen = accounts.citizen_by_id_number(request.user, id_number) if id_number else None
    if citizen is None:
        messages.error(request, _("请先核验办事群众的身份证号码。"))
        return redirect("eservices:counter")
    units = _counter_units(request.user, service)
    form = formschema.ServiceForm(service.form, request.POST or None)
    status = 200
    if request.method == "POST" and form.is_valid():
        unit = next((u for u in units if u.code == request.POST.get("org", "")), None)
        try:
            if unit is None:
                raise ValidationError({"org": [_("请选择办理单位。")]})
            with context.acting_as(request.user, ip=context.current().ip, channel="counter"):
                application = actions.draft_create(
                    actor=request.user,
                    service_code=service.code,
                    applicant=citizen.user,
                    org=unit,
                    channel=Channel.COUNTER,
                    form_data=form.cleaned_json(),
                    idempotency_key=request.POST.get("key", "")[:64],
                )
        except (ValidationError, access.AccessDenied) as error:
            if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
                form.add_schema_errors(error.message_dict)
            else:
                form.add_error(None, refusal_message(error))
        else:
            target = "eservices:documents" if service.documents else "eservices:check"
            return redirect(target, reference=application.reference)
    if request.method == "POST":
        status = 400
    return render(
        request,
        "eservices/counter_apply.html",
        {
            "service": service,
            "form": form,
            "citizen": citizen,
            "id_number": id_number,
            "masked_id": identity.mask_resident_id(id_number),
            "units": units,
            "key": uuid.uuid4().hex,
        },
        status=status,
    )


def _counter_units(user: Any, service: catalog.ServiceDefinition) -> list[OrgUnit]:
    """Units at the service's level where this officer may register applications."""
    query = OrgUnit.objects.filter(level=service.handled_at, is_active=True).exclude(kind="department")
    paths = access.jurisdiction_paths(user, roles=actions.STAFF_ROLES, action="act")
    units: list[OrgUnit] = []
    for path in paths:
        units.extend(query.filter(path__under=path).order_by("path")[:50])
        # an officer at a station may take a county-level service for its own county
        if not units:
            units.extend(u for u in query.order_by("path") if path.startswith(u.path))
    seen: dict[str, OrgUnit] = {}
    for unit in units:
        seen.setdefault(unit.code, unit)
    return list(seen.values())


@require_POST
@staff_required(roles=STAFF_ROLES)
def application_counter_complete(request: HttpRequest, reference: str) -> HttpResponse:
    application = _application_or_404(request, reference)
    try:
        taken = actions.counter_complete(application=application, actor=request.user)
    except (ValidationError, workflow.WorkflowError, access.AccessDenied) as error:
        messages.error(request, refusal_message(error))
    else:
        application.refresh_from_db()
        if taken:
            names = "、".join(application.workflow().action_name(a) for a in taken)
            messages.success(
                request,
                _("已当场办理：%(steps)s。当前状态：%(state)s") % {"steps": names, "state": application.state_name},
            )
        else:
            messages.info(request, _("此申请下一步需要其他人员办理或需要填写意见。"))
    return redirect(application)
