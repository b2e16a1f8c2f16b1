"""Writes to credentials — the public API other modules use:

    from pingan.credentials import actions
    credential = actions.issue(kind="driving_licence", holder=citizen, claims={...}, actor=officer,
                               org=unit, source=("eservices.application", "42"))
    payload = actions.present(credential, holder=citizen, disclose=["licence_valid", "over_18"])
    actions.suspend(credential, actor=officer, reason="…"); actions.reinstate(…); actions.revoke(…)
    actions.rotate_key(actor=None)

Refusals: ``ValidationError`` (bad input, by field), ``access.AccessDenied`` (who / where),
``workflow.WorkflowError`` (wrong state). Every issue, status change and presentation is on
the credential's timeline.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import access, context, events, timeline, workflow
from pingan.core.identity import blind_index, mask_name, parse_resident_id
from pingan.credentials import catalog, keys
from pingan.credentials import events as credential_events
from pingan.credentials.models import Credential, SigningKey
from pingan.credentials.verify import CHINA, canonical_json
from pingan.orgs.models import OrgUnit

PRESENTATION_SECONDS = 180
CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
ID_NUMBER_LIKE = re.compile(r"\d{17}[\dXx]")
CONTROL = re.compile(r"[\x00-\x1f\x7f]")
TEXT_MAX = 200


def presentation_seconds() -> int:
    return int(getattr(settings, "CREDENTIALS_PRESENTATION_SECONDS", PRESENTATION_SECONDS))


def _today(moment: dt.datetime | None = None) -> dt.date:
    return (moment or context.now()).astimezone(CHINA).date()


# --- Claims ----------------------------------------------------------------------------------


def _clean_value(claim: catalog.Claim, value: Any) -> str:
    """One claim value, normalised; ``ValueError`` with the user's message if invalid."""
    if claim.type == "date":
        if isinstance(value, dt.datetime):
            raise ValueError(_("请填写日期（年-月-日），不含时间。"))
        if isinstance(value, dt.date):
            return value.isoformat()
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip()).isoformat()
            except ValueError:
                pass
        raise ValueError(_("日期格式应为 YYYY-MM-DD。"))
    if not isinstance(value, str):
        raise ValueError(_("应为文本。"))
    value = value.strip()
    if CONTROL.search(value):
        raise ValueError(_("含有不可见的控制字符。"))
    if claim.type == "resident_id":
        try:
            return parse_resident_id(value).number
        except ValidationError as error:
            raise ValueError(error.messages[0]) from None
    if claim.type == "sex":
        if value not in ("M", "F"):
            raise ValueError(_("性别应为 M（男）或 F（女）。"))
        return value
    if claim.type == "pseudonym":
        if not re.fullmatch(r"[0-9a-f]{16,64}", value):
            raise ValueError(_("网证标识应为16至64位十六进制字符。"))
        return value
    limit = 50 if claim.type == "name" else TEXT_MAX
    if not 1 <= len(value) <= limit:
        raise ValueError(_("应为1至%(n)s个字。") % {"n": limit})
    return value


def clean_claims(spec: catalog.CredentialKind, claims: Any, *, holder: Any = None) -> dict[str, str]:
    """The claims of a credential of kind ``spec``, checked and normalised (``ValidationError``
    naming each bad claim)."""
    if not isinstance(claims, Mapping):
        raise ValidationError({"claims": [_("证照内容应为“内容项: 值”的映射。")]})
    errors: dict[str, list[str]] = {}
    cleaned: dict[str, str] = {}
    for code in claims:
        if code not in spec.claims:
            errors[str(code)] = [_("不是「%(kind)s」的内容项。") % {"kind": spec.name}]
    for code, claim in spec.claims.items():
        value = claims.get(code)
        if value is None or (isinstance(value, str) and not value.strip()):
            if claim.required:
                errors[code] = [_("此项为必填项。")]
            continue
        try:
            cleaned[code] = _clean_value(claim, value)
        except ValueError as error:
            errors[code] = [str(error)]
    profile = getattr(holder, "citizen", None)
    for code, claim in spec.claims.items():
        if (
            claim.type == "resident_id"
            and code in cleaned
            and profile is not None
            and cleaned[code] != profile.id_number
        ):
            errors.setdefault(code, []).append(_("证件号码与持证人的实名信息不一致。"))
    if spec.deidentified:
        full_name = getattr(holder, "name", "") or ""
        for code, value in cleaned.items():
            if ID_NUMBER_LIKE.search(value):
                errors.setdefault(code, []).append(_("「%(kind)s」不得含有身份证号码。") % {"kind": spec.name})
            elif len(full_name) > 1 and value == full_name:
                errors.setdefault(code, []).append(_("「%(kind)s」不得含有完整姓名。") % {"kind": spec.name})
    if errors:
        raise ValidationError(errors)
    return cleaned


def _profile(holder: Any) -> Any:
    profile = getattr(holder, "citizen", None) if access.user_kind(holder) == "citizen" else None
    if profile is None:
        raise ValidationError({"holder": [_("持证人必须是实名注册的群众账号。")]})
    return profile


def identity_claims(holder: Any) -> dict[str, str]:
    """Name, sex, ID number and birth date of a citizen, as the identity-bearing kinds carry them."""
    profile = _profile(holder)
    return {
        "name": holder.name,
        "sex": profile.sex,
        "id_number": profile.id_number,
        "birth_date": profile.birth_date.isoformat(),
    }


def network_id_claims(holder: Any) -> dict[str, str]:
    """The de-identified claims of a 网证: a keyed, irreversible pseudonym of the ID number
    (HMAC-SHA256 under the server's blind-index key, its own purpose), the masked name and
    the birth date (which only the age predicate reads; it is never disclosed)."""
    profile = _profile(holder)
    return {
        "pseudonym": blind_index(profile.id_number, purpose="credentials.network_id")[:32],
        "masked_name": mask_name(holder.name),
        "birth_date": profile.birth_date.isoformat(),
    }


# --- Issuing ---------------------------------------------------------------------------------


def _serial(spec: catalog.CredentialKind, year: int) -> str:
    for _attempt in range(10):
        tail = "".join(secrets.choice(CROCKFORD) for _ in range(8))
        serial = f"{spec.serial_prefix}-{year}-{tail}"
        if not Credential.objects.filter(serial=serial).exists():
            return serial
    raise RuntimeError("could not draw a free credential serial")  # 32^8 serials a year: not reached


def _issuance_record(credential: Credential) -> bytes:
    digest = hashlib.sha256(canonical_json(credential.claims)).hexdigest()
    return canonical_json(
        {
            "v": 1,
            "k": credential.kind,
            "id": credential.serial,
            "h": credential.holder_id,
            "o": credential.org.code,
            "iat": credential.issued_at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
            "exp": credential.valid_until.isoformat() if credential.valid_until else None,
            "cd": digest,
        }
    )


def record_intact(credential: Credential) -> bool:
    """Does the stored row still match the signature made when it was issued?"""
    return keys.verify_bytes(_issuance_record(credential), credential.issuer_signature, credential.issuer_kid)


def _may_issue(actor: Any, org: OrgUnit) -> None:
    if actor is None:
        return  # the system (a seed, a module's automatic step)
    if access.user_kind(actor) != "staff":
        decision = access.Decision(False, _("只有民警或系统可以签发电子证照。"), status=403)
    elif access.is_everywhere(actor) or any(
        org.path.startswith(path) for path in access.jurisdiction_paths(actor, action="act")
    ):
        return
    else:
        decision = access.Decision(False, _("签发单位不在您的管辖范围内，或您的岗位不能办理。"), status=403)
    access.log_denial(actor, "credentials.issue", ("orgs.orgunit", str(org.pk)), decision)
    raise access.AccessDenied(decision)


def issue(
    *,
    kind: str,
    holder: Any,
    claims: Mapping[str, Any],
    actor: Any,
    org: OrgUnit,
    source: tuple[str, str] | None = None,
    valid_until: dt.date | None = None,
) -> Credential:
    """Issue a credential of ``kind`` to the citizen ``holder``, by the unit ``org``.

    ``source`` names what produced it (``("eservices.application", "42")``): issuing again
    for the same kind, holder and source returns the credential already issued unless it
    was revoked. ``valid_until`` overrides the kind's default validity.
    """
    spec = catalog.kinds().get(kind)
    if spec is None:
        raise ValidationError({"kind": [_("未知的证照类型：%(kind)s") % {"kind": kind}]})
    _profile(holder)
    if not isinstance(org, OrgUnit) or org.pk is None:
        raise ValidationError({"org": [_("请指定签发单位。")]})
    if org.kind == "grid":
        raise ValidationError({"org": [_("警格不能签发证照，请选择派出所或公安机关。")]})
    if org.kind == "department" and org.department != spec.department:
        raise ValidationError(
            {"org": [_("%(org)s 不是「%(kind)s」的签发部门。") % {"org": org.name, "kind": spec.name}]}
        )
    _may_issue(actor, org)  # outside the transaction: a refusal stays on the timeline
    return _issue(spec, holder=holder, claims=claims, actor=actor, org=org, source=source, valid_until=valid_until)


@transaction.atomic
def _issue(
    spec: catalog.CredentialKind,
    *,
    holder: Any,
    claims: Mapping[str, Any],
    actor: Any,
    org: OrgUnit,
    source: tuple[str, str] | None,
    valid_until: dt.date | None,
) -> Credential:
    kind = spec.code
    cleaned = clean_claims(spec, claims, holder=holder)
    now = context.now()
    today = _today(now)
    if valid_until is not None:
        if isinstance(valid_until, dt.datetime) or not isinstance(valid_until, dt.date) or valid_until < today:
            raise ValidationError({"valid_until": [_("有效期至应为今天或以后的日期。")]})
    else:
        valid_until = spec.valid_until(today)
    if source is not None:
        if not (
            isinstance(source, tuple) and len(source) == 2 and all(isinstance(part, str) and part for part in source)
        ):
            raise ValidationError({"source": [_("来源应为（类型, 编号）。")]})
        existing = (
            Credential.objects.filter(kind=kind, holder=holder, source_type=source[0][:100], source_id=source[1][:64])
            .exclude(state="revoked")
            .first()
        )
        if existing is not None:
            return existing
    key = keys.active_key()
    credential = Credential(
        serial=_serial(spec, today.year),
        kind=kind,
        holder=holder,
        org=org,
        claims_data=json.dumps(cleaned, ensure_ascii=False, sort_keys=True),
        issued_at=now,
        valid_until=valid_until,
        issued_by=actor,
        source_type=source[0][:100] if source else "",
        source_id=source[1][:64] if source else "",
        issuer_kid=key.kid,
    )
    credential.issuer_signature = keys.sign_bytes(_issuance_record(credential), key)
    credential.save()
    timeline.record(
        credential,
        "credentials.issued",
        actor=actor,
        data={
            "kind": kind,
            "serial": credential.serial,
            "org": org.code,
            "valid_until": valid_until.isoformat() if valid_until else None,
            "source": list(source) if source else None,
            "kid": key.kid,
            "claims": sorted(cleaned),  # which items, never their values
        },
    )
    events.on_commit(credential_events.credential_issued, sender=Credential, credential=credential, actor=actor)
    return credential


# --- Status ----------------------------------------------------------------------------------


def _change(
    credential: Credential, *, action: str, actor: Any, reason: str, expected_version: int | None
) -> Credential:
    reason = (reason or "").strip() if isinstance(reason, str) else reason
    with transaction.atomic():
        step = workflow.transition(
            credential, action=action, actor=actor, data={"reason": reason}, expected_version=expected_version
        )
        now = context.now()
        Credential.objects.filter(pk=credential.pk).update(status_reason=reason, status_changed_at=now)
        credential.status_reason, credential.status_changed_at = reason, now
        events.on_commit(
            credential_events.credential_status_changed,
            sender=Credential,
            credential=credential,
            action=action,
            from_state=step.from_state,
            to_state=step.to_state,
            actor=actor,
        )
    return credential


def suspend(credential: Credential, *, actor: Any, reason: str, expected_version: int | None = None) -> Credential:
    """Suspend a valid credential (presentations then say "suspended"; revoked.json lists it)."""
    return _change(credential, action="suspend", actor=actor, reason=reason, expected_version=expected_version)


def reinstate(credential: Credential, *, actor: Any, reason: str, expected_version: int | None = None) -> Credential:
    return _change(credential, action="reinstate", actor=actor, reason=reason, expected_version=expected_version)


def revoke(credential: Credential, *, actor: Any, reason: str, expected_version: int | None = None) -> Credential:
    """Revoke for good: a revoked credential can only be replaced by a new issue."""
    return _change(credential, action="revoke", actor=actor, reason=reason, expected_version=expected_version)


# --- Presenting ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Presentation:
    payload: str
    generated_at: dt.datetime
    expires_at: dt.datetime
    disclosed: tuple[str, ...]
    kid: str


def _predicate(spec: catalog.Predicate, credential: Credential, claims: dict[str, str], today: dt.date) -> bool:
    if spec.rule == "credential_valid":
        return credential.state == "valid" and not credential.is_expired(today)
    born = dt.date.fromisoformat(claims[spec.claim]) if spec.claim in claims else None
    if born is None:
        return False
    years = today.year - born.year - ((today.month, today.day) < (born.month, born.day))
    return years >= (spec.years or 0)


def _disclosure(spec: catalog.CredentialKind, disclose: Any) -> tuple[str, ...]:
    if isinstance(disclose, str) or not isinstance(disclose, Sequence | set | frozenset):
        raise ValidationError({"disclose": [_("请选择要出示的内容项。")]})
    unknown = [str(code) for code in disclose if code not in spec.disclosable]
    if unknown:
        raise ValidationError(
            {"disclose": [_("「%(kind)s」不能出示：%(items)s") % {"kind": spec.name, "items": "、".join(unknown)}]}
        )
    return tuple(code for code in spec.disclosable if code in set(disclose))


def presentation_make(
    credential: Credential, *, holder: Any, disclose: Sequence[str], now: dt.datetime | None = None
) -> Presentation:
    """What :func:`present` returns, with its times (the wallet prints them)."""
    # Refusals are checked (and logged) outside the transaction that records a presentation.
    if holder is None or access.user_kind(holder) != "citizen" or credential.holder_id != holder.pk:
        decision = access.Decision(False, _("未找到该证照，或您无权出示。"), status=404)
        access.log_denial(holder, "credentials.present", credential, decision)
        raise access.AccessDenied(decision)
    spec = credential.kind_spec
    codes = _disclosure(spec, disclose)
    if not record_intact(credential):
        timeline.record(credential, "credentials.integrity_failed", actor=holder, data={"kid": credential.issuer_kid})
        raise ValidationError(_("证照记录校验未通过，暂不能出示，请联系签发单位。"))
    moment = now or context.now()
    if timezone.is_naive(moment):
        raise ValueError("now must be timezone-aware")
    return _presentation(credential, spec=spec, holder=holder, codes=codes, moment=moment)


@transaction.atomic
def _presentation(
    credential: Credential, *, spec: catalog.CredentialKind, holder: Any, codes: tuple[str, ...], moment: dt.datetime
) -> Presentation:
    today = _today(moment)
    key = keys.active_key()
    claims = credential.claims
    generated = int(moment.timestamp())
    expires = generated + presentation_seconds()
    body = {
        "v": 1,
        "kid": key.kid,
        "k": credential.kind,
        "id": credential.serial,
        "st": credential.state,
        "iat": credential.issued_at.astimezone(CHINA).date().isoformat(),
        "exp": credential.valid_until.isoformat() if credential.valid_until else None,
        "gen": generated,
        "pex": expires,
        "c": {code: claims[code] for code in codes if code in spec.claims and code in claims},
        "p": {
            code: _predicate(spec.predicates[code], credential, claims, today)
            for code in codes
            if code in spec.predicates
        },
    }
    payload = keys.sign_presentation(body, key)
    generated_at = dt.datetime.fromtimestamp(generated, CHINA)
    expires_at = dt.datetime.fromtimestamp(expires, CHINA)
    timeline.record(
        credential,
        "credentials.presented",
        actor=holder,
        data={
            "disclosed": list(codes),
            "kid": key.kid,
            "status": credential.state,
            "generated_at": generated_at.isoformat(),
            "expires_at": expires_at.isoformat(),
        },
    )
    return Presentation(payload=payload, generated_at=generated_at, expires_at=expires_at, disclosed=codes, kid=key.kid)


def present(credential: Credential, *, holder: Any, disclose: Sequence[str], now: dt.datetime | None = None) -> str:
    """The QR payload: a short-lived signed presentation carrying only what is disclosed."""
    return presentation_make(credential, holder=holder, disclose=disclose, now=now).payload


# --- Keys ------------------------------------------------------------------------------------


def rotate_key(*, actor: Any = None, suite: str | None = None) -> SigningKey:
    """Make a new signing key active; the old one is retired but stays published, so what
    it signed (issued credentials, recent presentations) still verifies. ``actor=None`` is
    the system (``manage.py rotate_credential_key``); a person must be an administrator."""
    if actor is not None and not (
        access.is_everywhere(actor) or any(post.role == "administrator" for post in access.posts_of(actor))
    ):
        decision = access.Decision(False, _("只有系统管理员可以更换签名密钥。"), status=403)
        access.log_denial(actor, "credentials.rotate_key", ("credentials.signingkey", "active"), decision)
        raise access.AccessDenied(decision)
    if suite is not None:
        from pingan.credentials import suites

        try:
            suites.get(suite)
        except LookupError as error:
            raise ValidationError({"suite": [str(error)]}) from None
    return keys.rotate(suite_name=suite, actor=actor)
