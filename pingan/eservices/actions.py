"""Writes to applications: drafts, documents, submitting, every later step, and what a
finished application produces (a credential, a notification, an invitation to rate)."""

from __future__ import annotations

import hashlib
import logging
import secrets
from collections.abc import Mapping
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.core import access, calendar, context, timeline, workflow
from pingan.eservices import catalog, formschema, handlers
from pingan.eservices.models import FINISHED_STATES, Application, Channel, Document
from pingan.orgs.models import OrgUnit

log = logging.getLogger(__name__)

STAFF_ROLES = frozenset({"counter_officer", "station_chief", "bureau_leader"})
COMPLETING_ACTIONS = ("issue", "collect", "complete", "mail")
# Magic numbers of the accepted document types: the name alone proves nothing.
SIGNATURES = {"pdf": (b"%PDF-",), "png": (b"\x89PNG\r\n\x1a\n",), "jpg": (b"\xff\xd8\xff",), "jpeg": (b"\xff\xd8\xff",)}
CONTENT_TYPES = {"pdf": "application/pdf", "png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg"}
# Counter mode takes these steps in one sitting, in this order, while the officer may.
ONE_SITTING = ("submit", "accept", "inspect", "approve", "issue", "collect", "complete")


class ServiceUnavailable(ValidationError):
    pass


def _refuse(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def handling_unit(service: catalog.ServiceDefinition, home: OrgUnit) -> OrgUnit:
    """The unit that handles ``service`` for someone served by ``home`` (their station):
    the station itself, or its county or city bureau when the service is handled there."""
    wanted = {"station": "station", "county": "county", "city": "city"}[service.handled_at]
    unit = home
    while unit is not None and unit.level != wanted:
        unit = unit.parent
    if unit is None:
        raise _refuse("org", _("无法确定办理单位，请选择办理单位。"))
    return unit


def _check_channel(service: catalog.ServiceDefinition, channel: str) -> None:
    allowed = set(service.channels)
    if allowed & {"online", "app"}:  # the website and the app are one online channel
        allowed |= {"online", "app"}
    if channel not in allowed:
        raise ServiceUnavailable({"channel": [_("「%(service)s」不能通过该渠道办理。") % {"service": service.name}]})


def _check_org(service: catalog.ServiceDefinition, org: OrgUnit) -> None:
    if org.level != service.handled_at or org.kind == "department" or not org.is_active:
        raise _refuse("org", _("「%(unit)s」不办理此事项，请选择其他办理单位。") % {"unit": org.name})


@transaction.atomic
def draft_create(
    *,
    actor: Any,
    service_code: str,
    applicant: Any = None,
    org: OrgUnit | None = None,
    channel: str = Channel.ONLINE,
    form_data: Mapping[str, Any] | None = None,
    idempotency_key: str = "",
) -> Application:
    """A draft application. Citizens apply for themselves; staff (counter mode) for the
    citizen in front of them, at a unit in their jurisdiction. Retrying with the same
    ``idempotency_key`` returns the draft already made."""
    try:
        service = catalog.get(service_code)
    except KeyError:
        raise _refuse("service", _("没有这个办事事项。")) from None
    kind = access.user_kind(actor)
    if kind == "citizen":
        applicant = actor
    elif kind != "staff" or applicant is None:
        raise access.AccessDenied(access.Decision(False, _("请先登录后再办理。"), status=403))
    _check_channel(service, channel)
    if idempotency_key:
        existing = Application.objects.filter(applicant=applicant, idempotency_key=idempotency_key[:64]).first()
        if existing is not None:
            return existing
    if org is None:
        home = getattr(getattr(applicant, "citizen", None), "home_org", None)
        if home is None:
            raise _refuse("org", _("请选择办理单位。"))
        org = handling_unit(service, home)
    _check_org(service, org)
    data = dict(form_data or {})
    errors = formschema.errors_for(service.form, data, partial=True)
    if errors:
        raise ValidationError(errors)
    application = Application(
        workflow_code=service.workflow,
        reference=f"tmp-{secrets.token_hex(8)}",
        service_code=service.code,
        department=service.department,
        applicant=applicant,
        org=org,
        org_path=org.path,
        channel=channel,
        idempotency_key=idempotency_key[:64],
        created_by=actor,
    )
    application.form_data = data
    if kind == "staff":
        access.require(actor, "act", application, role=STAFF_ROLES)
    try:
        with transaction.atomic():
            application.save()
    except IntegrityError:
        # Two requests with one key at once: the other one made it.
        return Application.objects.get(applicant=applicant, idempotency_key=idempotency_key[:64])
    application.reference = f"SQ{context.now():%Y%m%d}{application.pk:08d}"
    application.save(update_fields=["reference"])
    timeline.record(
        application,
        "eservices.draft_created",
        actor=actor,
        data={"service": service.code, "org": org.code, "channel": channel},
    )
    return application


def _require_editable(application: Application, actor: Any) -> None:
    if application.state != "draft":
        raise _refuse("__all__", _("申请已提交，不能再修改。"))
    held = access.roles_for(actor, application, "act")
    if not held & (STAFF_ROLES | {"owner"}):
        raise access.AccessDenied(access.Decision(False, _("未找到该记录，或您无权查看。"), status=404))


@transaction.atomic
def draft_update(*, application: Application, actor: Any, form_data: Mapping[str, Any]) -> Application:
    """Save answers so far (a draft may be incomplete; what is there must be valid)."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    _require_editable(application, actor)
    data = dict(form_data)
    errors = formschema.errors_for(application.service.form, data, partial=True)
    if errors:
        raise ValidationError(errors)
    if data != application.form_data:
        application.form_data = data
        application.save(update_fields=["form_sealed", "updated_at"])
        timeline.record(application, "eservices.draft_saved", actor=actor, data={"fields": sorted(data)})
    return application


@transaction.atomic
def document_add(*, application: Application, actor: Any, code: str, upload: UploadedFile) -> Document:
    """Attach one document: the type is checked by content, the size by the service's limit."""
    application = Application.objects.select_for_update().get(pk=application.pk)
    if application.state not in ("draft", "supplement"):
        raise _refuse("document", _("当前状态不能上传材料。"))
    held = access.roles_for(actor, application, "act")
    if not held & (STAFF_ROLES | {"owner"}):
        raise access.AccessDenied(access.Decision(False, _("未找到该记录，或您无权查看。"), status=404))
    spec = next((d for d in application.service.documents if d.code == code), None)
    if spec is None:
        raise _refuse("document", _("此事项不需要这种材料。"))
    name = (upload.name or "").rsplit("/", 1)[-1][:200]
    extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if extension not in spec.types:
        raise _refuse(
            "document", _("「%(doc)s」只接受以下格式：%(types)s。") % {"doc": spec.name, "types": "、".join(spec.types)}
        )
    if upload.size is None or upload.size == 0:
        raise _refuse("document", _("文件是空的。"))
    if upload.size > spec.max_mb * 1024 * 1024:
        raise _refuse("document", _("文件超过%(n)sMB的限制。") % {"n": spec.max_mb})
    upload.seek(0)
    head = upload.read(16)
    if not any(head.startswith(signature) for signature in SIGNATURES.get(extension, ())):
        raise _refuse("document", _("文件内容与扩展名不符，请上传真实的%(type)s文件。") % {"type": extension.upper()})
    upload.seek(0)
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    document = Document(
        application=application,
        code=code,
        token=secrets.token_hex(16),
        original_name=name,
        extension=extension,
        content_type=CONTENT_TYPES[extension],
        size=upload.size,
        sha256=digest.hexdigest(),
        uploaded_by=actor,
    )
    document.file.save(f"{document.token}.{extension}", upload, save=False)
    try:
        document.save()
    except Exception:
        document.file.delete(save=False)  # nothing half-stored
        raise
    timeline.record(
        application,
        "eservices.document_added",
        actor=actor,
        data={"code": code, "size": document.size, "sha256": document.sha256},
    )
    return document


@transaction.atomic
def document_remove(*, document: Document, actor: Any) -> None:
    application = Application.objects.select_for_update().get(pk=document.application_id)
    if application.state not in ("draft", "supplement"):
        raise _refuse("document", _("当前状态不能删除材料。"))
    held = access.roles_for(actor, application, "act")
    if not held & (STAFF_ROLES | {"owner"}):
        raise access.AccessDenied(access.Decision(False, _("未找到该记录，或您无权查看。"), status=404))
    timeline.record(application, "eservices.document_removed", actor=actor, data={"code": document.code})
    stored = document.file.name
    document.delete()
    transaction.on_commit(lambda: document.file.storage.delete(stored))


def missing_documents(application: Application) -> list[catalog.DocumentSpec]:
    present = set(application.documents.values_list("code", flat=True))
    return [spec for spec in application.service.documents if spec.required and spec.code not in present]


def submission_errors(application: Application) -> dict[str, list[str]]:
    """Everything that stops ``application`` being submitted, by field."""
    service = application.service
    data = application.form_data
    errors = formschema.errors_for(service.form, data)
    for spec in missing_documents(application):
        errors.setdefault("documents", []).append(_("请上传「%(doc)s」。") % {"doc": spec.name})
    handler = handlers.for_service(service)
    if handler is not None and not errors:
        for field, problems in handler.validate(application, data).items():
            errors.setdefault(field, []).extend(problems)
    return errors


def submit(
    *, application: Application, actor: Any, idempotency_key: str = "", channel: str | None = None
) -> Application:
    """Submit a complete draft; a second submit of the same application (a double click, a
    retry after a lost response) returns it unchanged instead of failing."""
    application.refresh_from_db()
    if application.state != "draft":
        if application.submitted_at is not None and access.check(actor, "view", application):
            return application
        raise _refuse("__all__", _("此申请不能提交。"))
    errors = submission_errors(application)
    if errors:
        raise ValidationError(errors)
    try:
        advance(application=application, action="submit", actor=actor, channel=channel)
    except workflow.IllegalTransition:
        application.refresh_from_db()
        if application.submitted_at is not None:
            return application  # the other click won; same result
        raise
    return application


def advance(
    *,
    application: Application,
    action: str,
    actor: Any,
    data: Mapping[str, Any] | None = None,
    expected_version: int | None = None,
    channel: str | None = None,
) -> workflow.Step:
    """Take a workflow step and what follows from it, in one transaction: timestamps, the
    service handler, the credential on completion, the applicant's notification."""
    with transaction.atomic():
        step = workflow.transition(
            application,
            action=action,
            actor=actor,
            data=data,
            expected_version=expected_version,
            channel=channel,
        )
        fields = []
        now = context.now()
        if action == "submit":
            application.submitted_at = now
            fields.append("submitted_at")
        if application.state in FINISHED_STATES:
            application.completed_at = now
            fields.append("completed_at")
        handler = handlers.for_service(application.service)
        if handler is not None:
            handler.on_transition(application, step)
        if action in COMPLETING_ACTIONS and application.state == "completed" and application.service.credential:
            _issue_credential(application, actor, handler)
            fields.append("result")
        if handler is not None and "result" not in fields:
            fields.append("result")
        if fields:
            application.save(update_fields=[*fields, "updated_at"])
        _notify(application, step)
    return step


def _issue_credential(application: Application, actor: Any, handler: Any) -> None:
    from pingan.credentials import actions as credentials

    claims = handler.credential_claims(application) if handler is not None else default_claims(application)
    credential = credentials.issue(
        kind=application.service.credential,
        holder=application.applicant,
        claims=claims,
        actor=actor,
        org=application.org,
        source=("eservices.application", str(application.pk)),
    )
    application.result = {**application.result, "credential": str(getattr(credential, "serial", credential.pk))}


def _answer(application: Application, *names: str) -> str:
    """The first non-empty answer among ``names`` (forms name things in their own words)."""
    data = application.form_data
    return next((str(data[name]) for name in names if data.get(name) not in (None, "")), "")


def default_claims(application: Application) -> dict[str, Any]:
    """Claims for the credential a service issues, from the applicant's real-name record and
    the form (each kind declares its claims in ``catalog/credentials.yaml``)."""
    from pingan.credentials import actions as credentials

    kind = application.service.credential
    holder = application.applicant
    today = calendar.local_date(context.now()).isoformat()
    if kind == "network_id":
        return credentials.network_id_claims(holder)
    claims: dict[str, Any] = credentials.identity_claims(holder)
    if kind == "driving_licence":
        claims.update(
            vehicle_class=_answer(application, "vehicle_class", "licence_class", "class") or "C1",
            first_issued=_answer(application, "first_issued") or today,
            file_number=application.reference,
        )
    elif kind == "residence_permit":
        claims.update(
            address=_answer(application, "address", "residence_address", "current_address")
            or f"{application.org.name}辖区",
            residence_since=_answer(application, "residence_since", "moved_in_on") or today,
        )
    elif kind == "no_criminal_record":
        claims.update(
            purpose=_answer(application, "purpose", "use") or str(_("办理相关事务")),
            statement=str(_("经查询，未发现该人在本省有犯罪记录。")),
        )
    elif kind == "ebike_registration":
        claims.update(
            plate_number=str(application.result.get("plate", "")),
            brand_model=f"{_answer(application, 'brand')} {_answer(application, 'model')}".strip(),
            frame_number=_answer(application, "frame_number"),
            motor_number=_answer(application, "motor_number"),
            registered_on=today,
        )
    declared = set(credentials_catalog_claims(kind))
    return {key: value for key, value in claims.items() if key in declared}


def credentials_catalog_claims(kind: str) -> list[str]:
    from pingan.credentials import catalog as credential_kinds

    return list(credential_kinds.kinds()[kind].claims)


def _notify(application: Application, step: workflow.Step) -> None:
    """Tell the applicant of every status change (through the outbox: never lost)."""
    from pingan.notify import actions as notify

    service = application.service
    state_name = application.workflow().state_name(application.state)
    notify.enqueue(
        user=application.applicant,
        title=_("【%(service)s】%(state)s") % {"service": service.name_zh, "state": state_name},
        body=_("您的申请 %(ref)s 当前状态：%(state)s。") % {"ref": application.reference, "state": state_name},
        url=application.get_absolute_url(),
        subject=application,
        dedupe_key=f"eservices:{application.pk}:{step.version}",
    )


def counter_complete(*, application: Application, actor: Any) -> list[str]:
    """Counter mode: take, in one sitting, every next step the officer may take without
    further input (submit, accept, approve, issue…); stop where the workflow needs someone
    else or an answer. Returns the actions taken."""
    taken: list[str] = []
    with context.acting_as(actor, ip=context.current().ip, channel="counter"):
        for _round in range(len(ONE_SITTING)):
            application.refresh_from_db()
            available = {t.action: t for t in workflow.available_actions(application, actor)}
            nxt = next((a for a in ONE_SITTING if a in available), None)
            if nxt is None:
                break
            transition = available[nxt]
            if transition.input_schema and transition.input_schema.get("required"):
                break  # e.g. an inspection result: the officer records it on the page
            if nxt == "submit":
                submit(application=application, actor=actor, channel="counter")
            else:
                advance(application=application, action=nxt, actor=actor, channel="counter")
            taken.append(nxt)
            if application.state in FINISHED_STATES:
                break
    return taken
