"""Writes of 团圆 records: reports by families and seekers, registrations by the police,
verification, the next step, closing, relatives and photos, reading personal data (which
is itself logged), emergency alerts for missing children, and the reunion of two records.

    from pingan.reunion import actions as reunion
    record = reunion.record_report(reporter=father, kind="missing", data={...}, relatives=[...],
                                   photos=[], idempotency_key=key, channel="online")
    reunion.record_verify(record=record, actor=officer, note="已到家中核实")
    reunion.reunion_record(missing=record, found=seeker, method="dna", evidence="KC-000123", actor=officer)

Every refusal is an exception: ``ValidationError`` (bad input, per field; nothing stored),
``access.AccessDenied`` (not yours, or not in your jurisdiction), ``workflow.WorkflowError``
(wrong state) or :class:`ReunionRefused` (a pair that cannot be reunited).
"""

from __future__ import annotations

import contextlib
import logging
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile, File
from django.core.files.uploadedfile import UploadedFile
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from pingan.core import access, context, events, geo, timeline, workflow
from pingan.core.identity import mask_name, mask_phone, mask_resident_id
from pingan.orgs import queries as orgs
from pingan.orgs.models import Kind as OrgKind
from pingan.orgs.models import Level, OrgUnit
from pingan.reunion import events as reunion_events
from pingan.reunion import validation
from pingan.reunion.models import (
    FOUND_SIDE,
    Channel,
    CloseCode,
    Kind,
    Method,
    PersonRecord,
    RecordPhoto,
    Relative,
    Reunion,
    SpecialistTeam,
)

log = logging.getLogger(__name__)

SUBJECT_TYPE = "reunion.record"  # how alerts name a record (with its reference)
ACT_ROLES = frozenset({"investigator", "community_officer", "counter_officer", "station_chief", "bureau_leader"})
REUNITE_ROLES = frozenset({"investigator", "station_chief", "bureau_leader", "dna_examiner"})
CASE_ROLES = frozenset({"investigator", "station_chief", "bureau_leader"})
TEAM_ROLES = frozenset({"bureau_leader", "administrator"})
IMPORTED_REFERENCE = re.compile(r"^XR[0-9A-Z]{6,18}$")
ONLINE_KINDS = (Kind.MISSING, Kind.SEEKER)
# Closing reasons and what an alert about the record is withdrawn for.
ALERT_REASON = {CloseCode.FOUND_BY_FAMILY: "found", CloseCode.FALSE_REPORT: "false_report"}
ADULT_AGE = 18


class ReunionRefused(Exception):
    """A request that cannot be granted for the records' kind or state; ``message`` is for
    the person, ``status`` for HTTP."""

    status = 409

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


def _refuse_404() -> access.AccessDenied:
    return access.AccessDenied(access.Decision(False, _("未找到该记录，或您无权查看。"), status=404))


# --- Handling units -----------------------------------------------------------------------


def county_unit(code: str) -> OrgUnit | None:
    """The county-level bureau (or development-zone branch) with this division code."""
    if not code:
        return None
    return (
        orgs.units()
        .filter(code=code, level=Level.COUNTY, kind__in=(OrgKind.BUREAU, OrgKind.BRANCH))
        .only("pk", "code", "name", "path", "level", "kind", "latitude", "longitude", "parent_id")
        .first()
    )


def nearest_station(county: OrgUnit, point: geo.Point) -> OrgUnit:
    """The police station of ``county`` nearest to ``point`` (the county itself if it has none)."""
    stations = list(
        orgs.subtree(county).filter(level=Level.STATION).only("pk", "code", "name", "path", "latitude", "longitude")
    )
    if not stations:
        return county
    return min(stations, key=lambda s: geo.distance_km(point, geo.Point(s.latitude, s.longitude)))


def handling_unit(*, division_code: str, latitude: float | None, longitude: float | None) -> OrgUnit | None:
    """Who handles a report about this place: the station nearest to the point within the
    county, or the county bureau when there is no point; ``None`` outside the province."""
    county = county_unit(division_code)
    if county is None:
        return None
    if latitude is None or longitude is None:
        return county
    return nearest_station(county, geo.Point(latitude, longitude))


def staff_unit(actor: Any) -> OrgUnit | None:
    """The unit a staff member registers records for by default: the unit of their first
    post that may act here (a department's bureau for a department post)."""
    for post in access.posts_of(actor):
        if post.role in ACT_ROLES:
            unit = orgs.units().filter(pk=post.org_id).first()
            if unit is not None and unit.kind == OrgKind.DEPARTMENT and unit.parent_id is not None:
                unit = orgs.units().filter(pk=unit.parent_id).first()
            if unit is not None:
                return unit
    return None


# --- Creating records -----------------------------------------------------------------------


def _assign_reference(record: PersonRecord, reference: str | None) -> None:
    if reference:
        record.reference = reference
    else:
        record.reference = f"XR{record.reported_at:%Y}{record.pk:07d}"
    record.save(update_fields=["reference"])


def _store_photos(record: PersonRecord, checked: Sequence[validation.CheckedPhoto], actor: Any) -> list[RecordPhoto]:
    """Rows now; the files once the transaction commits (a rollback leaves no file behind)."""
    photos = []
    for photo in checked:
        row = RecordPhoto(
            record=record,
            token=photo.token,
            extension=photo.extension,
            content_type=photo.content_type,
            size=len(photo.content),
            sha256=photo.sha256,
            uploaded_by=actor,
        )
        row.file.name = f"reunion/{record.pk}/{photo.token}.{photo.extension}"
        row.save()
        photos.append(row)
        transaction.on_commit(_writer(row.file.storage, row.file.name, photo.content))
    return photos


def _writer(storage: Any, name: str, content: bytes) -> Any:
    def write() -> None:
        saved = storage.save(name, ContentFile(content))
        if saved != name:  # never expected: tokens are random
            log.error("reunion photo stored as %s instead of %s", saved, name)

    return write


def _new(
    *,
    kind: str,
    cleaned: validation.Cleaned,
    org: OrgUnit,
    channel: str,
    reporter: Any,
    idempotency_key: str,
    consent: bool,
) -> PersonRecord:
    now = context.now()
    return PersonRecord(
        reference=f"tmp-{secrets.token_hex(8)}",
        kind=kind,
        org=org,
        org_path=org.path,
        channel=channel,
        reported_by=reporter,
        idempotency_key=idempotency_key,
        reported_at=now,
        last_action_at=now,
        consent_at=now if consent else None,
        consent_version=validation.CONSENT_VERSION if consent else "",
        **cleaned.fields,
    )


def _save_new(record: PersonRecord, reference: str | None) -> PersonRecord:
    with transaction.atomic():
        record.save()
    _assign_reference(record, reference)
    return record


@transaction.atomic
def record_report(
    *,
    reporter: Any,
    kind: str,
    data: Mapping[str, Any],
    relatives: Sequence[Mapping[str, Any]] = (),
    photos: Sequence[UploadedFile] = (),
    idempotency_key: str = "",
    channel: str = Channel.ONLINE,
) -> PersonRecord:
    """A family reports a missing person online (``kind="missing"``), or an adult registers
    to look for their birth family (``kind="seeker"``). The record waits for the police to
    verify it (the one-working-day clock starts). The same ``idempotency_key`` returns the
    record already made (a double submit makes one record). Without consent to the
    processing of the data (and to DNA being used for identification only) nothing is stored.
    """
    if access.user_kind(reporter) != "citizen":
        raise access.AccessDenied(access.Decision(False, _("请先以实名注册的群众账号登录后再登记。"), status=403))
    if kind not in ONLINE_KINDS:
        raise ValidationError({"kind": [_("网上只能登记失踪人员或自主寻亲。")]})
    if channel != Channel.ONLINE:
        raise ValidationError({"channel": [_("群众只能通过网上登记。")]})
    key = (idempotency_key or "")[:64]
    if key:
        existing = PersonRecord.objects.filter(reported_by=reporter, idempotency_key=key).first()
        if existing is not None:
            return existing
    submission = validation.clean_submission(
        kind=kind, data=data, relatives=relatives, photos=photos, require_consent=True
    )
    if kind == Kind.MISSING and submission.record is not None:
        if not submission.record.fields["reporter_relation"]:
            submission.problems.append(ValidationError({"reporter_relation": [_("请选择您与失踪人员的关系。")]}))
        if not submission.record.fields["division_code"]:
            submission.problems.append(ValidationError({"division_code": [_("请选择最后出现地点所在的区县。")]}))
    cleaned, relatives_clean, photos_clean = submission.raise_problems()
    if kind == Kind.SEEKER:
        cleaned.fields["reporter_relation"] = ""
    home = getattr(getattr(reporter, "citizen", None), "home_org", None)
    org = None
    if kind == Kind.MISSING:
        org = handling_unit(
            division_code=cleaned.fields["division_code"],
            latitude=cleaned.fields["latitude"],
            longitude=cleaned.fields["longitude"],
        )
    org = org or home
    if org is None:
        raise ValidationError({"division_code": [_("无法确定受理单位，请到就近派出所登记。")]})
    record = _new(
        kind=kind,
        cleaned=cleaned,
        org=org,
        channel=channel,
        reporter=reporter,
        idempotency_key=key,
        consent=True,
    )
    try:
        _save_new(record, None)
    except IntegrityError:
        if key:  # the same submission twice at once: the other one made it
            return PersonRecord.objects.get(reported_by=reporter, idempotency_key=key)
        raise
    _after_create(record, relatives_clean, photos_clean, reporter, channel)
    workflow.transition(record, action="report", actor=reporter)
    return record


def _after_create(
    record: PersonRecord,
    relatives: list[dict[str, Any]],
    photos: list[validation.CheckedPhoto],
    actor: Any,
    channel: str,
) -> None:
    timeline.record(
        record,
        "reunion.recorded",
        actor=actor,
        data={
            "kind": record.kind,
            "channel": channel,
            "org": record.org.code,
            "relatives": len(relatives),
            "photos": len(photos),
            "consent": record.consent_version or None,
        },
    )
    Relative.objects.bulk_create([Relative(record=record, **values) for values in relatives])
    _store_photos(record, photos, actor)


@transaction.atomic
def record_register(
    *,
    actor: Any,
    kind: str,
    data: Mapping[str, Any],
    relatives: Sequence[Mapping[str, Any]] = (),
    photos: Sequence[UploadedFile] = (),
    org: OrgUnit | None = None,
    channel: str = Channel.POLICE,
    idempotency_key: str = "",
    reference: str | None = None,
) -> PersonRecord:
    """The police register a record and verify it in the same sitting: a missing person
    reported at the station, a person found (rescued, suspected trafficked, wandering, or
    unable to say who they are), or an adult seeker at the station. ``org`` (default: the
    officer's unit) must be in the officer's jurisdiction. ``reference`` keeps the number
    of a record imported from another system (``XR`` and 6–18 digits or capitals)."""
    if access.user_kind(actor) != "staff":
        raise access.AccessDenied(access.Decision(False, _("此登记只能由民警办理。"), status=403))
    if kind not in Kind.values:
        raise ValidationError({"kind": [_("没有这种登记类别。")]})
    if channel not in (Channel.POLICE, Channel.STATION):
        raise ValidationError({"channel": [_("民警登记的渠道应为民警登记或派出所登记。")]})
    if reference is not None and not IMPORTED_REFERENCE.match(reference):
        raise ValidationError({"reference": [_("编号格式不正确。")]})
    key = (idempotency_key or "")[:64]
    if key:
        existing = PersonRecord.objects.filter(reported_by=actor, idempotency_key=key).first()
        if existing is not None:
            return existing
    if reference is not None and PersonRecord.objects.filter(reference=reference).exists():
        raise ValidationError({"reference": [_("该编号已被使用。")]})
    submission = validation.clean_submission(
        kind=kind, data=data, relatives=relatives, photos=photos, require_consent=False
    )
    org = org or staff_unit(actor)
    if org is None or org.kind == OrgKind.DEPARTMENT or org.level == Level.GRID:
        submission.problems.append(ValidationError({"org": [_("请选择承办单位（公安机关或派出所）。")]}))
    cleaned, relatives_clean, photos_clean = submission.raise_problems()
    assert org is not None
    record = _new(
        kind=kind,
        cleaned=cleaned,
        org=org,
        channel=channel,
        reporter=actor,
        idempotency_key=key,
        consent=bool(data.get("consent") is True),
    )
    access.require(actor, "act", record, role=ACT_ROLES)
    try:
        _save_new(record, reference)
    except IntegrityError:
        if key:
            return PersonRecord.objects.get(reported_by=actor, idempotency_key=key)
        raise
    _after_create(record, relatives_clean, photos_clean, actor, channel)
    workflow.transition(record, action="register_verified", actor=actor)
    now = context.now()
    PersonRecord.objects.filter(pk=record.pk).update(verified_at=now, verified_by=actor)
    record.verified_at, record.verified_by = now, actor
    _activated(record, actor)
    return record


def _activated(record: PersonRecord, actor: Any) -> None:
    events.on_commit(reunion_events.record_activated, sender=PersonRecord, record=record, actor=actor)
    transaction.on_commit(lambda: refresh_candidates(record.pk))


def refresh_candidates(record_id: int) -> None:
    """Ask the attribute matcher to bring the record's candidates up to date (after commit:
    a matcher failure never undoes the change; it is logged and the next change retries).
    A record no longer active keeps no open candidates."""
    from pingan.reunion import matching

    record = PersonRecord.objects.select_related("org").filter(pk=record_id).first()
    if record is None or record.state == "new":
        return
    try:
        matching.candidates_refresh(record)
    except Exception:
        log.exception("attribute candidates of %s could not be refreshed", record.reference)


# --- Workflow steps -------------------------------------------------------------------------


def _step(
    record: PersonRecord, *, action: str, actor: Any, data: Mapping[str, Any] | None, version: int | None
) -> workflow.Step:
    return workflow.transition(record, action=action, actor=actor, data=data, expected_version=version)


def _keep(record: PersonRecord, **values: Any) -> None:
    values["last_action_at"] = context.now()
    PersonRecord.objects.filter(pk=record.pk).update(**values)
    for name, value in values.items():
        setattr(record, name, value)


@transaction.atomic
def record_verify(*, record: PersonRecord, actor: Any, note: str, expected_version: int | None = None) -> PersonRecord:
    """The police confirm a report is true (核查属实): the record becomes active, matching
    and publishing may use it."""
    _step(record, action="verify", actor=actor, data={"note": note}, version=expected_version)
    _keep(record, verified_at=context.now(), verified_by=actor)
    _activated(record, actor)
    return record


@transaction.atomic
def record_reject(
    *, record: PersonRecord, actor: Any, reason: str, expected_version: int | None = None
) -> PersonRecord:
    """The report proved untrue (核查不实): the record ends."""
    _step(record, action="reject", actor=actor, data={"reason": reason}, version=expected_version)
    _keep(record, closed_at=context.now(), close_code=CloseCode.REJECTED, closed_reason=reason.strip()[:2000])
    events.on_commit(
        reunion_events.record_closed, sender=PersonRecord, record=record, actor=actor, close_code="rejected"
    )
    _ended(record)
    return record


@transaction.atomic
def record_withdraw(
    *, record: PersonRecord, actor: Any, reason: str, expected_version: int | None = None
) -> PersonRecord:
    """The person who made a report withdraws it (e.g. the child came home)."""
    _step(record, action="withdraw", actor=actor, data={"reason": reason}, version=expected_version)
    _keep(record, closed_at=context.now(), close_code=CloseCode.WITHDRAWN, closed_reason=reason.strip()[:2000])
    events.on_commit(
        reunion_events.record_closed, sender=PersonRecord, record=record, actor=actor, close_code="withdrawn"
    )
    _ended(record)
    _withdraw_alert_on_commit(record.reference, "other", actor, note=_("登记人撤销了登记。"))
    return record


@transaction.atomic
def record_close(
    *, record: PersonRecord, actor: Any, reason: str, note: str = "", expected_version: int | None = None
) -> PersonRecord:
    """Close an active record without a reunion (found by the family, deceased, a false
    report, a duplicate, other); an alert about it is withdrawn after commit."""
    data: dict[str, Any] = {"reason": reason}
    if note:
        data["note"] = note
    _step(record, action="close", actor=actor, data=data, version=expected_version)
    _keep(record, closed_at=context.now(), close_code=reason, closed_reason=note.strip()[:2000])
    events.on_commit(reunion_events.record_closed, sender=PersonRecord, record=record, actor=actor, close_code=reason)
    _ended(record)
    _withdraw_alert_on_commit(record.reference, ALERT_REASON.get(reason, "other"), actor, note=note or reason)
    return record


@transaction.atomic
def record_set_next_step(
    *, record: PersonRecord, actor: Any, next_step: str, expected_version: int | None = None
) -> PersonRecord:
    """Record the next step of an active case (下一步工作): it feeds the cold-case list."""
    _step(record, action="set_next_step", actor=actor, data={"next_step": next_step}, version=expected_version)
    _keep(record, next_step=next_step.strip()[:500])
    return record


# --- Relatives and photos ---------------------------------------------------------------------


def _require_editor(record: PersonRecord, actor: Any) -> None:
    """The person who reported it, or staff who may act on it; while the record is open."""
    held = access.roles_for(actor, record, "act")
    if not held & (ACT_ROLES | {"owner"}):
        if not access.check(actor, "view", record):
            raise _refuse_404()
        decision = access.Decision(False, _("您的岗位无权办理此事项。"), status=403)
        access.log_denial(actor, "reunion.edit", record, decision)
        raise access.AccessDenied(decision)
    if not record.is_active:
        raise ReunionRefused(_("记录已结束，不能再补充。"))


def relative_add(
    *,
    record: PersonRecord,
    actor: Any,
    relation: str,
    name: str = "",
    phone: str = "",
    id_number: str = "",
    can_give_dna: bool = True,
    deceased: bool = False,
) -> Relative:
    """Name one more family member who may give a DNA sample."""
    _require_editor(record, actor)
    with transaction.atomic():
        return _relative_add(
            record,
            actor,
            relation,
            name=name,
            phone=phone,
            id_number=id_number,
            can_give_dna=can_give_dna,
            deceased=deceased,
        )


def _relative_add(
    record: PersonRecord,
    actor: Any,
    relation: str,
    *,
    name: str,
    phone: str,
    id_number: str,
    can_give_dna: bool,
    deceased: bool,
) -> Relative:
    record = PersonRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
    _require_editor(record, actor)
    if record.relatives.count() >= validation.RELATIVES_MAX:
        raise ValidationError({"relatives": [_("最多登记 %(n)s 位亲属。") % {"n": validation.RELATIVES_MAX}]})
    try:
        (values,) = validation.clean_relatives(
            [
                {
                    "relation": relation,
                    "name": name,
                    "phone": phone,
                    "id_number": id_number,
                    "can_give_dna": can_give_dna,
                    "deceased": deceased,
                }
            ]
        )
    except ValidationError as error:
        raise ValidationError(
            {key.removeprefix("relatives.0."): problems for key, problems in error.message_dict.items()}
        ) from None
    relative = Relative.objects.create(record=record, **values)
    timeline.record(
        record,
        "reunion.relative_added",
        actor=actor,
        data={"relative": relative.pk, "relation": relative.relation, "can_give_dna": relative.can_give_dna},
    )
    _keep(record)
    return relative


def photo_add(
    *, record: PersonRecord, actor: Any, upload: UploadedFile, caption: str = "", public: bool = False
) -> RecordPhoto:
    """Add a photo (JPEG or PNG up to 5 MB, checked by content). The file is written once
    the transaction commits, so a refused or rolled-back request leaves nothing behind.
    ``public``: may be shown in an emergency alert."""
    _require_editor(record, actor)
    with transaction.atomic():
        return _photo_add(record, actor, upload, caption=caption, public=public)


def _photo_add(record: PersonRecord, actor: Any, upload: UploadedFile, *, caption: str, public: bool) -> RecordPhoto:
    record = PersonRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
    _require_editor(record, actor)
    if record.photos.count() >= validation.PHOTOS_MAX:
        raise ValidationError({"photo": [_("最多上传 %(n)s 张照片。") % {"n": validation.PHOTOS_MAX}]})
    caption = (caption or "").strip()
    if len(caption) > 200:
        raise ValidationError({"caption": [_("最多 %(n)s 个字。") % {"n": 200}]})
    checked = validation.check_photo(upload, field="photo")
    (photo,) = _store_photos(record, [checked], actor)
    if caption or public:
        RecordPhoto.objects.filter(pk=photo.pk).update(caption=caption, public=bool(public))
        photo.caption, photo.public = caption, bool(public)
    timeline.record(
        record,
        "reunion.photo_added",
        actor=actor,
        data={"photo": photo.token, "sha256": photo.sha256, "public": public},
    )
    _keep(record)
    return photo


# --- Personal data ----------------------------------------------------------------------------


@dataclass(frozen=True)
class RelativeView:
    id: int
    relation: str
    relation_label: str
    name: str
    phone: str
    id_number: str
    can_give_dna: bool
    deceased: bool


@dataclass(frozen=True)
class PersonalData:
    """What a page shows of a record's personal data: masked unless ``unmasked``."""

    name: str
    id_number: str
    relatives: tuple[RelativeView, ...]
    unmasked: bool
    may_unmask: bool


def personal_data_read(*, record: PersonRecord, actor: Any, unmask: bool = False) -> PersonalData:
    """The record's name, ID number and relatives' contacts for a page — masked by default,
    in full for those who may unmask (the person who reported it; staff whose role may) —
    and the read on the record's timeline. Someone who may not see the record gets
    "not found"; asking to unmask without the right is refused (403) and logged."""
    decision = access.check(actor, "view", record)
    if not decision:
        access.log_denial(actor, "reunion.read", record, decision)
        raise access.AccessDenied(decision)
    may_unmask = access.can_unmask(actor, record)
    if unmask and not may_unmask:
        refusal = access.Decision(False, _("您的岗位不能查看完整个人信息。"), status=403)
        access.log_denial(actor, "reunion.unmask", record, refusal)
        raise access.AccessDenied(refusal)
    relatives = list(record.relatives.all())
    full = unmask and may_unmask
    fields = ["name"] + (["id_number"] if record.id_number_sealed else []) + (["relatives"] if relatives else [])
    timeline.record_read(record, fields=fields, actor=actor, purpose="unmask" if full else "view", masked=not full)
    return PersonalData(
        name=record.name_sealed if full else mask_name(record.name_sealed),
        id_number=record.id_number_sealed if full else mask_resident_id(record.id_number_sealed),
        relatives=tuple(
            RelativeView(
                id=relative.pk,
                relation=relative.relation,
                relation_label=str(relative.get_relation_display()),
                name=relative.name_sealed if full else mask_name(relative.name_sealed),
                phone=relative.phone_sealed if full else mask_phone(relative.phone_sealed),
                id_number=relative.id_number_sealed if full else mask_resident_id(relative.id_number_sealed),
                can_give_dna=relative.can_give_dna,
                deceased=relative.deceased,
            )
            for relative in relatives
        ),
        unmasked=full,
        may_unmask=may_unmask,
    )


# --- Alerts -------------------------------------------------------------------------------------


def alert_problems(record: PersonRecord) -> list[str]:
    """Why no emergency alert can be published for this record (empty: it can be)."""
    problems = []
    if record.kind != Kind.MISSING:
        problems.append(_("紧急预警只能为失踪人员发布。"))
    if record.state != "active":
        problems.append(_("记录须经核查属实、处于查找中，才能发布紧急预警。"))
    if record.kind == Kind.MISSING and record.age_range_at_event()[1] >= ADULT_AGE:
        problems.append(_("紧急预警只用于失踪时未满18周岁的儿童。"))
    if record.latitude is None or record.longitude is None:
        problems.append(_("请先补充走失地点的经纬度。"))
    if record.event_at is None:
        problems.append(_("请先补充走失的具体时间。"))
    return problems


def alert_text(record: PersonRecord) -> tuple[str, str]:
    """The public title and body of an alert: the name masked, no identifiers."""
    youngest, _oldest = record.age_range_at_event()
    sex = record.get_sex_display()
    title = _("紧急寻找走失儿童：%(name)s，%(sex)s，%(age)s岁") % {
        "name": mask_name(record.name_sealed) or _("姓名不详"),
        "sex": sex,
        "age": youngest,
    }
    parts = [
        _("%(when)s在%(place)s走失。") % {"when": context_local(record.event_at), "place": record.place_text},
    ]
    if record.height_cm:
        parts.append(_("身高约%(n)s厘米。") % {"n": record.height_cm})
    if record.marks:
        parts.append(_("体表特征：%(marks)s。") % {"marks": record.marks[:300].rstrip("。")})
    if record.public_description:
        parts.append(record.public_description[:800])
    parts.append(_("如有线索，请通过本平台提交或拨打110。"))
    return title[:100], "".join(parts)[:2000]


def context_local(moment: Any) -> str:
    from django.utils import timezone

    return timezone.localtime(moment).strftime("%Y年%m月%d日%H时%M分") if moment else ""


@transaction.atomic
def alert_publish_for(*, record: PersonRecord, actor: Any) -> Any:
    """Publish an emergency alert for a missing child (county-level or higher units, in
    their jurisdiction: the alerts app checks who may). Refused with ``ReunionRefused``
    saying what is missing (a verified record, a child, the place's coordinates, the time)."""
    from pingan.alerts import actions as alerts

    record = PersonRecord.objects.select_for_update().select_related("org").get(pk=record.pk)
    if not access.check(actor, "view", record):
        raise _refuse_404()
    problems = alert_problems(record)
    if problems:
        raise ReunionRefused("".join(problems))
    assert record.latitude is not None
    assert record.longitude is not None
    assert record.event_at is not None
    title, body = alert_text(record)
    photo = record.photos.filter(public=True).order_by("id").first()
    if photo is not None and not photo.file.storage.exists(photo.file.name):
        photo = None
    with contextlib.ExitStack() as stack:
        attached = None
        if photo is not None:
            attached = File(stack.enter_context(photo.file.storage.open(photo.file.name, "rb")), name=photo.file.name)
        alert = alerts.alert_publish(
            subject_type=SUBJECT_TYPE,
            subject_id=record.reference,
            title=title,
            body=body,
            origin=geo.Point(record.latitude, record.longitude),
            missing_since=record.event_at,
            org=record.org,
            actor=actor,
            photo=attached,
        )
    timeline.record(record, "reunion.alert_published", actor=actor, data={"alert": alert.reference})
    _keep(record)
    return alert


def _ended(record: PersonRecord) -> None:
    record_id = record.pk
    transaction.on_commit(lambda: refresh_candidates(record_id))


def _withdraw_alert_on_commit(reference: str, reason: str, actor: Any, *, note: str = "") -> None:
    transaction.on_commit(lambda: withdraw_alert(reference=reference, reason=reason, actor=actor, note=note))


def withdraw_alert(*, reference: str, reason: str, actor: Any, note: str = "") -> bool:
    """Withdraw the active alert about a record, if there is one (after the record's change
    committed). When the person was found it is withdrawn at once, whoever recorded it (say,
    the examiner recording a reunion); for other reasons only a publisher may withdraw it, and
    otherwise the record's timeline says it is still active, for the publishers to decide."""
    from pingan.alerts import actions as alerts
    from pingan.alerts import queries as alert_queries

    alert = alert_queries.alert_for_subject(SUBJECT_TYPE, reference)
    if alert is None or not alert.is_active:
        return False
    record = PersonRecord.objects.filter(reference=reference).first()
    try:
        if reason == "found":  # the case is resolved: everyone reached hears it, whoever resolved it
            alerts.alert_withdraw_resolved(alert=alert, actor=actor, note=(note or "")[:500])
        else:
            alerts.alert_withdraw(alert=alert, reason=reason, actor=actor, note=(note or "")[:500])
    except access.AccessDenied:
        if record is not None:
            timeline.record(
                record,
                "reunion.alert_withdraw_pending",
                actor=actor,
                data={"alert": alert.reference, "reason": reason},
            )
        return False
    except Exception:
        log.exception("alert %s about %s could not be withdrawn", alert.reference, reference)
        return False
    return True


@transaction.atomic
def record_clue_note(*, reference: str, alert: Any, clue: Any) -> None:
    """A clue the public sent about the record's alert: on the record's timeline, and it
    counts as work on the case (the cold-case list's "last action")."""
    record = PersonRecord.objects.select_for_update().filter(reference=reference).first()
    if record is None:
        return
    timeline.record(
        record,
        "reunion.clue_received",
        actor=None,
        data={
            "alert": alert.reference,
            "clue": clue.pk,
            "place": clue.place[:200],
            "seen_at": clue.seen_at.isoformat() if clue.seen_at else None,
            "located": clue.latitude is not None,
            "photo": bool(clue.photo),
        },
    )
    PersonRecord.objects.filter(pk=record.pk).update(last_action_at=context.now())


@transaction.atomic
def record_alert_withdrawn_note(*, reference: str, alert: Any, reason: str) -> None:
    """The record's alert was withdrawn (by whoever and for whatever reason): on its timeline."""
    record = PersonRecord.objects.filter(reference=reference).first()
    if record is None:
        return
    timeline.record(
        record,
        "reunion.alert_withdrawn",
        actor=getattr(alert, "withdrawn_by", None),
        data={"alert": alert.reference, "reason": reason},
    )


# --- Reunion --------------------------------------------------------------------------------------


@transaction.atomic
def reunion_record(
    *, missing: PersonRecord, found: PersonRecord, method: str, evidence: str = "", actor: Any, note: str = ""
) -> Reunion:
    """Record that a missing person and a found person (or seeker) are the same person,
    and the family reunited: both records move to ``reunited`` in one transaction (rows
    locked in id order), the reunion is on both timelines; after commit the ``reunited``
    event goes out (the DNA store then deletes relatives' samples unless they consented to
    keep them) and an alert about the missing record is withdrawn as found."""
    errors: dict[str, list[str]] = {}
    if method not in Method.values:
        errors["method"] = [_("请选择认定方式。")]
    evidence = (evidence or "").strip() if isinstance(evidence, str) else ""
    if len(evidence) > 200:
        errors["evidence"] = [_("最多 %(n)s 个字。") % {"n": 200}]
    note = (note or "").strip() if isinstance(note, str) else ""
    if len(note) > 2000:
        errors["note"] = [_("最多 %(n)s 个字。") % {"n": 2000}]
    if errors:
        raise ValidationError(errors)
    if actor is None or access.user_kind(actor) != "staff":
        raise access.AccessDenied(access.Decision(False, _("团圆只能由民警认定。"), status=403))
    if missing.pk == found.pk:
        raise ReunionRefused(_("不能把一条记录与它自己认定为团圆。"))
    locked = {
        record.pk: record
        for record in PersonRecord.objects.select_for_update()
        .select_related("org")
        .filter(pk__in=[missing.pk, found.pk])
        .order_by("pk")
    }
    m, f = locked[missing.pk], locked[found.pk]
    for record in (m, f):
        if not access.check(actor, "view", record):
            access.log_denial(actor, "reunion.reunite", record, access.Decision(False, "", status=404))
            raise _refuse_404()
    if m.kind != Kind.MISSING:
        raise ReunionRefused(_("团圆须由一条失踪人员记录与一条身份不明人员或寻亲记录配对。"))
    if f.kind not in FOUND_SIDE:
        raise ReunionRefused(_("两条记录都是失踪人员记录，不能认定为团圆。"))
    for record in (m, f):
        if record.state == "reunited":
            raise ReunionRefused(_("记录 %(ref)s 已认定团圆。") % {"ref": record.reference})
        if record.state != "active":
            raise ReunionRefused(
                _("记录 %(ref)s 当前为「%(state)s」，只有查找中的记录才能认定团圆。")
                % {"ref": record.reference, "state": record.state_name}
            )
    for record in (m, f):
        access.require(actor, "act", record, role=REUNITE_ROLES)
    now = context.now()
    for record in (m, f):
        workflow.transition(record, action="reunite", actor=actor)
        _keep(record, reunited_at=now)
    reunion = Reunion.objects.create(
        missing=m,
        found=f,
        method=method,
        evidence=evidence,
        note=note,
        org=m.org,
        reunited_at=now,
        recorded_by=actor,
        days_from_report=max(0, (now - m.reported_at).days),
    )
    for record, other in ((m, f), (f, m)):
        timeline.record(
            record,
            "reunion.reunited",
            actor=actor,
            data={"reunion": reunion.pk, "with": other.reference, "method": method, "evidence": evidence},
        )
    relative_ids = list(Relative.objects.filter(record__in=(m, f)).order_by("id").values_list("id", flat=True))
    events.on_commit(
        reunion_events.reunited,
        sender=Reunion,
        reunion_id=reunion.pk,
        missing_reference=m.reference,
        found_reference=f.reference,
        relative_ids=relative_ids,
        method=method,
        actor=actor,
    )
    _withdraw_alert_on_commit(m.reference, "found", actor, note=_("已找到，认定团圆。"))
    _ended(m)
    _ended(f)
    for given in (missing, found):
        given.refresh_from_db(fields=["state", "version", "reunited_at", "last_action_at"])
    return reunion


# --- Specialist teams ---------------------------------------------------------------------------


@transaction.atomic
def team_create(
    *, actor: Any, org: OrgUnit, name: str, lead: Any, members: Sequence[Any] = (), duty: str = ""
) -> SpecialistTeam:
    """A 打拐/寻亲 specialist team at a province, city or county bureau, by a bureau leader
    or administrator of that bureau (``actor=None``: the demo seed)."""
    errors: dict[str, list[str]] = {}
    name = (name or "").strip()
    if not 2 <= len(name) <= 100:
        errors["name"] = [_("名称应为 2 至 100 个字。")]
    if org.level not in (Level.PROVINCE, Level.CITY, Level.COUNTY) or org.kind == OrgKind.DEPARTMENT:
        errors["org"] = [_("专班设在省、市、县级公安机关。")]
    if access.user_kind(lead) != "staff":
        errors["lead"] = [_("负责人须为民警。")]
    if len(duty) > 300:
        errors["duty"] = [_("最多 %(n)s 个字。") % {"n": 300}]
    if errors:
        raise ValidationError(errors)
    team = SpecialistTeam(org=org, name=name, lead=lead, duty=duty.strip())
    if actor is not None:
        access.require(actor, "act", team, role=TEAM_ROLES)
    existing = SpecialistTeam.objects.filter(org=org, name=name).first()
    if existing is not None:
        return existing
    team.save()
    team.members.set([member for member in members if access.user_kind(member) == "staff"])
    timeline.record(team, "reunion.team_created", actor=actor, data={"org": org.code, "members": team.members.count()})
    return team
