"""Self-service kiosks of the smart police stations (智慧警局): a full-screen, touch-first
way to apply for the catalogue's kiosk items (``kiosk:`` in ``catalog/services/*.yaml``).
See ``docs/kiosk.md``.

Which kiosk: a kiosk code ``<station code>-<two digits>`` (``370102001-01``) names the
machine and the active police station it stands in — ``settings.KIOSK_CODE`` on a
machine of its own, else ``?kiosk=`` on the first page (remembered in a cookie that holds
nothing personal). The station decides the handling unit of each application
(``actions.handling_unit`` from the service's ``handled_at``).

Who is at the screen: a resident ID number (from the card reader, ``cardreader``; the
simulation takes the typed number) and a six-digit one-time code sent by SMS to the mobile
of that number's real-name record. Only a keyed hash of the code is stored
(``KioskCode``); a code lives five minutes, allows five attempts and is used once. Asking
for a code answers the same whether or not the number is registered (a row and its rate
limits exist either way; the SMS goes only to a registered mobile), so the kiosk never
tells anyone whether a number is known.

The kiosk session is not a sign-in: it is a separate short server-side session (its own
cookie, path ``/services/kiosk/``, no persistent expiry) that ends on "结束", after
``KIOSK_IDLE_SECONDS`` (120) without a request, or when the screen's own idle timer
(``kiosk.js``: a warning after 60 s, a reset 30 s later) ends it. Pages show the person
only masked (张*, 3701**********123X) and are never cached (``no-store``).

What the kiosk does for an application: the person (as the applicant, channel ``kiosk``,
which counts as in person) creates and submits it; then the kiosk takes, as the system,
every next step the service's workflow lets the system take without further input (in
``actions.ONE_SITTING`` order). In the shipped workflows that means ``service_instant``
items are completed on the spot (``complete``) and everything else is submitted to the
handling unit, whose staff take it from there (the ``issue`` steps the system may take
come after a decision by staff).
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import hmac
import logging
import re
import secrets
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from importlib import import_module
from typing import Any

from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.db import transaction
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from pingan.accounts.models import CitizenProfile, Kind
from pingan.core import access, context, identity, timeline, workflow
from pingan.eservices import actions, cardreader, catalog, formschema, queries
from pingan.eservices.models import FINISHED_STATES, Application, Channel, KioskCode
from pingan.eservices.templatetags.eservices import time_limit
from pingan.orgs import queries as orgs
from pingan.orgs.models import Level, OrgUnit

log = logging.getLogger(__name__)

# --- Settings (each with its default; docs/kiosk.md lists them) --------------------------


def _setting(name: str, default: Any) -> Any:
    return getattr(settings, name, default)


def code_ttl() -> timedelta:
    return timedelta(seconds=int(_setting("KIOSK_CODE_TTL_SECONDS", 300)))


def code_attempts() -> int:
    return int(_setting("KIOSK_CODE_ATTEMPTS", 5))


def idle_seconds() -> int:
    """Server side: a kiosk session idle this long is over (the screen resets sooner)."""
    return int(_setting("KIOSK_IDLE_SECONDS", 120))


def screen_timers() -> tuple[int, int]:
    """(seconds idle before the screen warns, seconds of warning before it resets)."""
    return int(_setting("KIOSK_WARNING_SECONDS", 60)), int(_setting("KIOSK_COUNTDOWN_SECONDS", 30))


def limit_per_id() -> tuple[int, int]:
    """(codes, seconds): codes one ID number may be sent in a window, at any kiosk."""
    count, window = _setting("KIOSK_CODE_LIMIT_PER_ID", (3, 900))
    return int(count), int(window)


def limit_per_kiosk() -> tuple[int, int]:
    count, window = _setting("KIOSK_CODE_LIMIT_PER_KIOSK", (30, 600))
    return int(count), int(window)


def resend_seconds() -> int:
    """The least wait between two codes for one ID number."""
    return int(_setting("KIOSK_CODE_RESEND_SECONDS", 60))


CODE_DIGITS = 6
CATEGORY_NAMES = {
    "id_card": gettext_lazy("居民身份证"),
    "residence": gettext_lazy("居住证"),
    "exit_entry": gettext_lazy("出入境"),
    "vehicle": gettext_lazy("机动车和驾驶人"),
}
CATEGORY_HINTS = {
    "id_card": gettext_lazy("换领、补领、临时身份证明"),
    "residence": gettext_lazy("居住登记、居住证签注"),
    "exit_entry": gettext_lazy("护照、往来港澳台通行证及签注"),
    "vehicle": gettext_lazy("驾驶证、机动车、违法处理"),
}


class KioskProblem(Exception):
    """A refusal with a message for the person at the screen."""

    def __init__(self, message: str) -> None:
        self.message = message
        super().__init__(message)


class KioskUnknown(KioskProblem):
    pass


class RateLimited(KioskProblem):
    pass


class CodeRefused(KioskProblem):
    pass


# --- Which kiosk ------------------------------------------------------------------------

KIOSK_CODE_RE = re.compile(r"^(?P<station>\d{9})-(?P<number>\d{2})$")


@dataclass(frozen=True)
class Kiosk:
    code: str
    station: OrgUnit

    @property
    def number(self) -> str:
        return self.code.rsplit("-", 1)[1]


def kiosk_get(code: str) -> Kiosk:
    """The kiosk named by ``code``: its station must exist, be a police station and be active."""
    match = KIOSK_CODE_RE.fullmatch((code or "").strip())
    if match is None:
        raise KioskUnknown(_("终端编号格式不正确，应为“派出所代码-两位序号”，例如 370102001-01。"))
    try:
        station = orgs.unit_get(match["station"])
    except OrgUnit.DoesNotExist:
        station = None
    if station is None or station.level != Level.STATION or station.kind != "station":
        raise KioskUnknown(_("终端编号中的派出所不存在或已撤销，请联系管理员。"))
    return Kiosk(code=match.group(0), station=station)


# --- One-time codes -----------------------------------------------------------------------


def _code_key() -> bytes:
    return hashlib.sha256(f"{settings.SECRET_KEY}:eservices.kiosk-code".encode()).digest()


def code_hash(code: str, *, salt: str | None = None) -> str:
    """``salt$hmac``: keyed (a stolen table does not give the codes away by trying all
    10^6) and salted (equal codes do not look equal)."""
    salt = salt or secrets.token_hex(8)
    digest = hmac.new(_code_key(), f"{salt}:{code}".encode(), hashlib.sha256).hexdigest()
    return f"{salt}${digest}"


def code_matches(code: str, stored: str) -> bool:
    salt, _sep, _digest = stored.partition("$")
    return bool(salt) and hmac.compare_digest(code_hash(code, salt=salt), stored)


def _citizen_user_id(id_number_hash: str) -> int | None:
    """The active citizen account of an ID number (system lookup by keyed hash: nothing is
    decrypted and nothing is shown)."""
    return (
        CitizenProfile.objects.filter(id_number_hash=id_number_hash, user__is_active=True, user__kind=Kind.CITIZEN)
        .values_list("user_id", flat=True)
        .first()
    )


def _wait_text(seconds: float) -> str:
    seconds = max(int(seconds) + 1, 1)
    if seconds < 120:
        return _("%(n)s秒") % {"n": seconds}
    return _("%(n)s分钟") % {"n": (seconds + 59) // 60}


def _check_rate(kiosk: Kiosk, id_number_hash: str, now: Any) -> None:
    """Refuse a code request over the limits, saying how long to wait. The rows exist for
    unregistered numbers too, so the limits say nothing about registration."""
    count, window = limit_per_id()
    recent = list(
        KioskCode.objects.filter(id_number_hash=id_number_hash, created_at__gt=now - timedelta(seconds=window))
        .order_by("created_at")
        .values_list("created_at", flat=True)
    )
    if recent and (now - recent[-1]).total_seconds() < resend_seconds():
        wait = resend_seconds() - (now - recent[-1]).total_seconds()
        raise RateLimited(_("获取验证码过于频繁，请%(wait)s后再试。") % {"wait": _wait_text(wait)})
    if len(recent) >= count:
        wait = window - (now - recent[-count]).total_seconds()
        raise RateLimited(
            _("该证件号码获取验证码次数过多，请%(wait)s后再试，或到窗口办理。") % {"wait": _wait_text(wait)}
        )
    count, window = limit_per_kiosk()
    at_kiosk = KioskCode.objects.filter(kiosk=kiosk.code, created_at__gt=now - timedelta(seconds=window)).count()
    if at_kiosk >= count:
        raise RateLimited(_("本终端验证码请求过于频繁，请稍后再试，或到窗口办理。"))


@transaction.atomic
def code_request(*, kiosk: Kiosk, id_number: str) -> KioskCode:
    """Send a one-time code to the mobile of ``id_number``'s real-name record (if there is
    one) and return the code's row. Raises ``ValidationError`` (not an ID number) or
    :class:`RateLimited`; never says whether the number is registered."""
    number = identity.parse_resident_id(id_number).number
    id_number_hash = identity.blind_index(number, purpose="id_number")
    now = timezone.now()
    _check_rate(kiosk, id_number_hash, now)
    code = f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"
    row = KioskCode.objects.create(
        kiosk=kiosk.code, id_number_hash=id_number_hash, code_hash=code_hash(code), created_at=now
    )
    timeline.record(row, "eservices.kiosk_code_requested", data={"kiosk": kiosk.code}, org_path=kiosk.station.path)
    user_id = _citizen_user_id(id_number_hash)
    if user_id is not None:
        from pingan.accounts.models import User
        from pingan.notify import actions as notify

        minutes = int(code_ttl().total_seconds() // 60)
        notify.enqueue(
            user=User.objects.get(pk=user_id),
            title=_("自助终端验证码"),
            body=_("验证码%(code)s，%(minutes)s分钟内有效，仅用于%(station)s自助终端办事。如非本人操作，请勿告诉他人。")
            % {"code": code, "minutes": minutes, "station": kiosk.station.name},
            channels=("sms",),
            subject=row,
            immediate=True,  # the citizen is standing at the kiosk, waiting for it
        )
    return row


@dataclass(frozen=True)
class _Verdict:
    user_id: int | None
    message: str = ""


@transaction.atomic
def _verify(kiosk: Kiosk, code_id: int, typed: str) -> _Verdict:
    row = KioskCode.objects.select_for_update().filter(pk=code_id, kiosk=kiosk.code).first()
    if row is None:
        return _Verdict(None, _("请先获取验证码。"))
    now = timezone.now()
    if row.used_at is not None:
        return _Verdict(None, _("验证码已使用，请重新获取。"))
    if now - row.created_at > code_ttl():
        return _Verdict(None, _("验证码已过期，请重新获取。"))
    if row.attempts >= code_attempts():
        return _Verdict(None, _("验证码输入错误次数过多，请重新获取。"))
    row.attempts += 1
    user_id = _citizen_user_id(row.id_number_hash) if code_matches(typed, row.code_hash) else None
    if user_id is None:
        # A wrong code and a right code for an unregistered number read alike (neither
        # can happen for the other: the code of an unregistered number was never sent).
        row.save(update_fields=["attempts"])
        timeline.record(
            row,
            "eservices.kiosk_code_failed",
            data={"kiosk": kiosk.code, "attempt": row.attempts},
            org_path=kiosk.station.path,
        )
        left = code_attempts() - row.attempts
        if left <= 0:
            return _Verdict(None, _("验证码输入错误次数过多，请重新获取。"))
        return _Verdict(None, _("验证码不正确，还可以再试%(n)s次。") % {"n": left})
    row.used_at = now
    row.save(update_fields=["attempts", "used_at"])
    timeline.record(
        row,
        "eservices.kiosk_identified",
        actor=_user(user_id),
        data={"kiosk": kiosk.code, "attempt": row.attempts},
        org_path=kiosk.station.path,
    )
    return _Verdict(user_id)


def code_verify(*, kiosk: Kiosk, code_id: int, code: str) -> Any:
    """The citizen whose code ``code`` is, if right, fresh and unused (it is then used up);
    else :class:`CodeRefused` saying why. A failed attempt is counted and kept."""
    typed = "".join((code or "").split())
    if not re.fullmatch(rf"\d{{{CODE_DIGITS}}}", typed):
        raise CodeRefused(_("请输入短信中的6位数字验证码。"))
    verdict = _verify(kiosk, code_id, typed)  # commits the counted attempt before refusing
    if verdict.user_id is None:
        raise CodeRefused(verdict.message)
    return _user(verdict.user_id)


def _user(user_id: int) -> Any:
    from pingan.accounts.models import User

    return User.objects.select_related("citizen").get(pk=user_id)


def codes_purge(*, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete code rows past every window that reads them (a periodic job)."""
    deleted, _detail = KioskCode.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted


# --- The kiosk session ---------------------------------------------------------------

SESSION_COOKIE = "pingan_kiosk"
DEVICE_COOKIE = "pingan_kiosk_device"


def kiosk_path() -> str:
    return reverse("eservices:kiosk_home")


class KioskSession:
    """The short server-side session of one person at one kiosk (not a sign-in)."""

    def __init__(self, store: SessionBase, kiosk: Kiosk) -> None:
        self.store = store
        self.kiosk = kiosk

    @classmethod
    def load(cls, request: HttpRequest, kiosk: Kiosk) -> KioskSession:
        engine = import_module(settings.SESSION_ENGINE)
        session = cls(engine.SessionStore(request.COOKIES.get(SESSION_COOKIE)), kiosk)
        if session.store.get("kiosk") not in (None, kiosk.code):
            session.store.flush()  # another kiosk's session: never carried over
        return session

    # What it holds
    @property
    def language(self) -> str:
        return self.store.get("lang", settings.LANGUAGE_CODE)

    @language.setter
    def language(self, value: str) -> None:
        self.store["lang"] = value
        self.store["kiosk"] = self.kiosk.code

    @property
    def citizen_id(self) -> int | None:
        return self.store.get("citizen")

    @property
    def identified(self) -> bool:
        return self.citizen_id is not None

    def citizen(self) -> Any:
        """The identified citizen (``None`` if none, or the account was since disabled)."""
        if self.citizen_id is None:
            return None
        from pingan.accounts.models import User

        return User.objects.select_related("citizen").filter(pk=self.citizen_id, is_active=True).first()

    @property
    def person(self) -> dict[str, str] | None:
        """The person as the screen may show them: masked."""
        if not self.identified:
            return None
        return {"name": self.store.get("name_masked", ""), "id_number": self.store.get("id_masked", "")}

    @property
    def pending(self) -> dict[str, Any] | None:
        return self.store.get("pending")

    def code_sent(self, row: KioskCode, id_number: str) -> None:
        self.store["kiosk"] = self.kiosk.code
        self.store["pending"] = {"code": row.pk, "id_masked": identity.mask_resident_id(id_number)}

    def identify(self, user: Any) -> None:
        pending = self.pending or {}
        self.store.cycle_key()  # a new key once someone is identified
        self.store["kiosk"] = self.kiosk.code
        self.store["citizen"] = user.pk
        self.store["identity_code"] = pending.get("code")
        self.store["name_masked"] = identity.mask_name(user.name)
        self.store["id_masked"] = pending.get("id_masked", "")
        self.store["started"] = time.time()
        self.store.pop("pending", None)

    @property
    def next_service(self) -> str:
        return self.store.get("next", "")

    @next_service.setter
    def next_service(self, code: str) -> None:
        self.store["kiosk"] = self.kiosk.code
        self.store["next"] = code

    @property
    def references(self) -> list[str]:
        return list(self.store.get("references", []))

    def add_reference(self, reference: str) -> None:
        self.store["references"] = [*self.references, reference][-20:]

    def draft_for(self, service_code: str) -> str:
        return self.store.get("drafts", {}).get(service_code, "")

    def set_draft(self, service_code: str, reference: str | None) -> None:
        drafts = dict(self.store.get("drafts", {}))
        if reference:
            drafts[service_code] = reference
        else:
            drafts.pop(service_code, None)
        self.store["drafts"] = drafts

    @property
    def active(self) -> bool:
        return bool(self.store.keys())

    # Time
    def idle_for(self, now: float) -> float:
        return now - float(self.store.get("seen", now))

    def end(self, reason: str) -> None:
        """Forget everything about the person; the end of an identified session goes on the
        timeline (on the code row that opened it)."""
        if self.identified and self.store.get("identity_code"):
            user = self.citizen()
            timeline.record(
                ("eservices.kioskcode", self.store["identity_code"]),
                "eservices.kiosk_session_ended",
                actor=user,
                data={"kiosk": self.kiosk.code, "reason": reason, "applications": self.references},
                org_path=self.kiosk.station.path,
            )
        self.store.flush()

    def write(self, request: HttpRequest, response: HttpResponse) -> None:
        secure = bool(getattr(settings, "SESSION_COOKIE_SECURE", False))
        if self.active:
            self.store["seen"] = time.time()  # every request is the person's activity
            # The store outlives the idle limit a little, so an expiry is seen (and logged)
            # rather than silently lost; forgotten sessions are purged by clearsessions.
            self.store.set_expiry(idle_seconds() + 600)
            self.store.save()
            response.set_cookie(
                SESSION_COOKIE,
                self.store.session_key,
                httponly=True,
                samesite="Strict",
                secure=secure,
                path=kiosk_path(),
            )
        elif SESSION_COOKIE in request.COOKIES:
            response.delete_cookie(SESSION_COOKIE, path=kiosk_path(), samesite="Strict")


# --- Applying ----------------------------------------------------------------------------


@contextlib.contextmanager
def acting(user: Any) -> Iterator[None]:
    """Run as ``user`` (``None``: the system) on the kiosk channel, keeping the request's
    address and id for the timeline."""
    now = context.current()
    token = context.set_for_request(
        context.ActorContext(user=user, ip=now.ip, request_id=now.request_id, channel=Channel.KIOSK)
    )
    try:
        yield
    finally:
        context.reset(token)


def kiosk_services(category: str | None = None) -> list[catalog.ServiceDefinition]:
    """The catalogue's kiosk items (of one category), in catalogue order."""
    return [
        service
        for service in catalog.services().values()
        if service.kiosk is not None
        and Channel.KIOSK in service.channels
        and (category is None or service.kiosk == category)
    ]


def kiosk_service(code: str) -> catalog.ServiceDefinition:
    """A kiosk item, or :class:`KioskProblem` (not in the catalogue, or not for kiosks)."""
    try:
        service = catalog.get(code)
    except KeyError:
        raise KioskProblem(_("没有这个办事事项。")) from None
    if service.kiosk is None or Channel.KIOSK not in service.channels:
        raise KioskProblem(
            _("「%(service)s」不能在自助终端办理，请到窗口或通过网上办事办理。") % {"service": service.name}
        )
    return service


def complete_on_the_spot(application: Application) -> list[str]:
    """Take, as the system, every next step the workflow lets the system take without
    input (``service_instant``: ``complete``). Returns the actions taken."""
    taken: list[str] = []
    with acting(None):
        for _round in range(len(actions.ONE_SITTING)):
            application.refresh_from_db()
            if application.state in FINISHED_STATES:
                break
            available = {t.action: t for t in workflow.available_actions(application, None)}
            action = next((a for a in actions.ONE_SITTING if a in available and a != "submit"), None)
            if action is None:
                break
            schema = available[action].input_schema
            if schema and schema.get("required"):
                break
            try:
                actions.advance(application=application, action=action, actor=None, channel=Channel.KIOSK)
            except (workflow.WorkflowError, ValidationError):
                # The step is rolled back; the application waits, submitted, for the staff.
                log.exception("kiosk: %s of %s refused; left for the staff", action, application.reference)
                break
            taken.append(action)
    return taken


def _messages(error: ValidationError) -> dict[str, list[str]]:
    if hasattr(error, "error_dict"):
        return {field: [str(m) for m in messages] for field, messages in error.message_dict.items()}
    return {"__all__": [str(m) for m in error.messages]}


@dataclass
class Outcome:
    application: Application | None
    errors: dict[str, list[str]] = field(default_factory=dict)
    taken: list[str] = field(default_factory=list)


def application_make(
    *,
    kiosk: Kiosk,
    citizen: Any,
    service: catalog.ServiceDefinition,
    form_data: Mapping[str, Any],
    uploads: Mapping[str, UploadedFile] | None = None,
    draft: Application | None = None,
    idempotency_key: str = "",
) -> Outcome:
    """Apply at the kiosk for ``citizen``: the draft (at the unit handling the service for
    the kiosk's station), its documents, the submission (channel ``kiosk``: in person),
    then whatever the system may complete on the spot. Each write is one of
    ``eservices.actions`` (each atomic, each on the timeline); a refusal leaves the draft
    (``Outcome.application``) for the next try."""
    application = draft
    with acting(citizen):
        try:
            if application is None:
                org = actions.handling_unit(service, kiosk.station)
                application = actions.draft_create(
                    actor=citizen,
                    service_code=service.code,
                    org=org,
                    channel=Channel.KIOSK,
                    form_data=form_data,
                    idempotency_key=idempotency_key,
                )
            elif application.state == "draft":
                application = actions.draft_update(application=application, actor=citizen, form_data=form_data)
            if application.state == "draft":
                for code, upload in (uploads or {}).items():
                    for old in application.documents.filter(code=code):
                        actions.document_remove(document=old, actor=citizen)
                    actions.document_add(application=application, actor=citizen, code=code, upload=upload)
            actions.submit(application=application, actor=citizen, channel=Channel.KIOSK)
        except ValidationError as error:
            return Outcome(application, _messages(error))
        except (workflow.WorkflowError, access.AccessDenied) as error:
            message = getattr(error, "message", "") or str(error)
            return Outcome(application, {"__all__": [message]})
    return Outcome(application, taken=complete_on_the_spot(application))


def next_steps(application: Application) -> list[str]:
    """What happens next, in the applicant's words (for the receipt)."""
    service = application.service
    wf = application.workflow()
    unit = application.org.name
    lines: list[str] = []
    if application.state == "completed":
        lines.append(_("已当场办结。"))
        if application.result.get("credential"):
            lines.append(_("电子证照已发放，可在平安网站或App的“我的证照”中查看。"))
    elif application.state in FINISHED_STATES:
        lines.append(_("申请已%(state)s。") % {"state": wf.state_name(application.state)})
    else:
        limit = service.promised_limit
        lines.append(
            _("申请已提交，由%(unit)s办理，承诺%(limit)s内办结。") % {"unit": unit, "limit": time_limit(limit)}
        )
        lines.append(_("办理进度将以短信通知，也可凭受理编号在平安网站或App查询。"))
        later = [a for a in service.in_person_steps if a != "submit"]
        if later:
            steps = "、".join(wf.action_name(a) for a in later)
            lines.append(
                _("“%(steps)s”需本人携带身份证到%(unit)s办理（可凭本回执）。") % {"steps": steps, "unit": unit}
            )
    if service.fee_amount:
        lines.append(_("费用：%(amount)s元（%(note)s）。") % {"amount": service.fee_amount, "note": service.fee_note})
    return lines


# --- Views -----------------------------------------------------------------------------

View = Callable[..., HttpResponse]


def _resolve_kiosk(request: HttpRequest) -> tuple[Kiosk | None, str, str]:
    """(kiosk, problem, code to remember in the device cookie)."""
    fixed = str(_setting("KIOSK_CODE", "") or "")
    asked = request.GET.get("kiosk", "").strip()
    if fixed:
        if asked and asked != fixed:
            return None, _("本终端的编号已由系统配置为 %(code)s，不能更改。") % {"code": fixed}, ""
        code, remember = fixed, ""
    elif asked:
        code, remember = asked, asked
    else:
        code, remember = request.COOKIES.get(DEVICE_COOKIE, ""), ""
    if not code:
        return None, _("本终端尚未配置终端编号，请管理员以 ?kiosk=派出所代码-序号（如 370102001-01）打开本页。"), ""
    try:
        return kiosk_get(code[:40]), "", remember
    except KioskUnknown as problem:
        return None, problem.message, ""


def _problem(
    request: HttpRequest, message: str, *, status: int, extra: Mapping[str, Any] | None = None
) -> HttpResponse:
    return render(request, "eservices/kiosk/problem.html", {**(extra or {}), "message": message}, status=status)


def _redirect(name: str, *args: Any, query: str = "") -> HttpResponseRedirect:
    url = reverse(f"eservices:{name}", args=args)
    return HttpResponseRedirect(f"{url}?{query}" if query else url)


def kiosk_view(*, identified: bool = False) -> Callable[[View], View]:
    """Wrap a kiosk view: find the kiosk, load and police the kiosk session (idle expiry),
    act in the kiosk's language, and write the session and no-store headers back."""

    def decorate(view: View) -> View:
        @functools.wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            kiosk, problem, remember = _resolve_kiosk(request)
            if kiosk is None:
                response = _problem(request, problem, status=400)
            else:
                session = KioskSession.load(request, kiosk)
                now = time.time()
                if session.active and session.idle_for(now) > idle_seconds():
                    session.end("expired")
                    response = _redirect("kiosk_home", query="done=expired")
                else:
                    with translation.override(session.language):
                        if identified and not session.identified:
                            response = _redirect("kiosk_identify")
                        else:
                            request.kiosk = kiosk  # type: ignore[attr-defined]
                            request.kiosk_session = session  # type: ignore[attr-defined]
                            response = view(request, *args, **kwargs)
                session.write(request, response)
                if remember:
                    response.set_cookie(
                        DEVICE_COOKIE,
                        kiosk.code,
                        max_age=365 * 24 * 3600,
                        httponly=True,
                        samesite="Strict",
                        secure=bool(getattr(settings, "SESSION_COOKIE_SECURE", False)),
                        path=kiosk_path(),
                    )
            # Nothing of a person may come back from a cache or the back button.
            response["Cache-Control"] = "no-store"
            response["Pragma"] = "no-cache"
            return response

        return wrapper

    return decorate


def _base(request: HttpRequest, **extra: Any) -> dict[str, Any]:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    warning, countdown = screen_timers()
    return {
        "kiosk": request.kiosk,  # type: ignore[attr-defined]
        "person": session.person,
        "session_active": session.active,
        "idle_warning": warning,
        "idle_countdown": countdown,
        **extra,
    }


def _categories() -> list[dict[str, Any]]:
    return [
        {
            "code": code,
            "name": CATEGORY_NAMES[code],
            "hint": CATEGORY_HINTS[code],
            "count": len(kiosk_services(code)),
        }
        for code in catalog.KIOSK_CATEGORIES
    ]


@require_GET
@kiosk_view()
def home(request: HttpRequest) -> HttpResponse:
    done = request.GET.get("done", "")
    notices = {
        "user": _("本次办理已结束，您的信息已从屏幕清除。感谢使用！"),
        "idle": _("因长时间无操作，本次办理已自动结束，您的信息已从屏幕清除。"),
        "expired": _("因长时间无操作，本次办理已自动结束，您的信息已从屏幕清除。"),
    }
    return render(
        request,
        "eservices/kiosk/home.html",
        _base(request, categories=_categories(), notice=notices.get(done, ""), is_home=True),
    )


@require_GET
@kiosk_view()
def category(request: HttpRequest, category: str) -> HttpResponse:
    if category not in CATEGORY_NAMES:
        return _problem(request, _("没有这个业务类别。"), status=404, extra=_base(request))
    items = [_item(service) for service in kiosk_services(category)]
    return render(
        request,
        "eservices/kiosk/category.html",
        _base(request, category={"code": category, "name": CATEGORY_NAMES[category]}, items=items),
    )


def _item(service: catalog.ServiceDefinition) -> dict[str, Any]:
    """A kiosk item with the few facts its button and page show."""
    limit = service.promised_limit
    if limit.unit == "working":
        limit_text = _("承诺%(n)s个工作日内办结") % {"n": limit.days}
    else:
        limit_text = _("承诺%(n)s天内办结") % {"n": limit.days}
    fee = _("%(amount)s元") % {"amount": service.fee_amount} if service.fee_amount else _("免费")
    return {"service": service, "instant": service.workflow == "service_instant", "limit": limit_text, "fee": fee}


def _handling_unit_name(service: catalog.ServiceDefinition, kiosk: Kiosk) -> str:
    try:
        return actions.handling_unit(service, kiosk.station).name
    except ValidationError:
        return ""


@require_GET
@kiosk_view()
def service(request: HttpRequest, code: str) -> HttpResponse:
    try:
        item = kiosk_service(code)
    except KioskProblem as problem:
        return _problem(request, problem.message, status=404, extra=_base(request))
    return render(
        request,
        "eservices/kiosk/service.html",
        _base(
            request,
            service=item,
            item=_item(item),
            category={"code": item.kiosk, "name": CATEGORY_NAMES.get(item.kiosk or "", "")},
            unit=_handling_unit_name(item, request.kiosk),  # type: ignore[attr-defined]
        ),
    )


@require_http_methods(["GET", "POST"])
@kiosk_view()
def identify(request: HttpRequest) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    kiosk: Kiosk = request.kiosk  # type: ignore[attr-defined]
    wanted = request.GET.get("service", "")
    if wanted:
        try:
            session.next_service = kiosk_service(wanted).code
        except KioskProblem as problem:
            return _problem(request, problem.message, status=404, extra=_base(request))
    if session.identified:
        return _after_identification(session)
    error = ""
    if request.method == "POST":
        card = cardreader.get_reader(typed=request.POST.get("id_number", ""), kiosk=kiosk.code).read()
        if card is None:
            error = _("请将身份证放在读卡区，或输入身份证号码。")
        else:
            try:
                with acting(None):
                    row = code_request(kiosk=kiosk, id_number=card.id_number)
            except ValidationError as problem:
                error = problem.messages[0]
            except RateLimited as problem:
                error = problem.message
            else:
                session.code_sent(row, identity.parse_resident_id(card.id_number).number)
                return _redirect("kiosk_verify")
    return render(
        request,
        "eservices/kiosk/identify.html",
        _base(request, error=error, next_service=_next_service_name(session)),
        status=400 if error else 200,
    )


def _next_service_name(session: KioskSession) -> str:
    code = session.next_service
    if not code:
        return ""
    try:
        return kiosk_service(code).name
    except KioskProblem:
        return ""


def _after_identification(session: KioskSession) -> HttpResponse:
    code = session.next_service
    if code:
        return _redirect("kiosk_apply", code)
    return _redirect("kiosk_home")


@require_http_methods(["GET", "POST"])
@kiosk_view()
def verify(request: HttpRequest) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    kiosk: Kiosk = request.kiosk  # type: ignore[attr-defined]
    if session.identified:
        return _after_identification(session)
    pending = session.pending
    if not pending:
        return _redirect("kiosk_identify")
    error = ""
    if request.method == "POST":
        try:
            with acting(None):
                user = code_verify(kiosk=kiosk, code_id=int(pending["code"]), code=request.POST.get("code", ""))
        except CodeRefused as problem:
            error = problem.message
        else:
            session.identify(user)
            return _after_identification(session)
    return render(
        request,
        "eservices/kiosk/verify.html",
        _base(
            request, error=error, id_masked=pending.get("id_masked", ""), minutes=int(code_ttl().total_seconds() // 60)
        ),
        status=400 if error else 200,
    )


def _uploads(request: HttpRequest, service: catalog.ServiceDefinition) -> dict[str, UploadedFile]:
    return {
        spec.code: request.FILES[f"doc_{spec.code}"]
        for spec in service.documents
        if f"doc_{spec.code}" in request.FILES
    }


@require_http_methods(["GET", "POST"])
@kiosk_view()
def apply(request: HttpRequest, code: str) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    kiosk: Kiosk = request.kiosk  # type: ignore[attr-defined]
    try:
        item = kiosk_service(code)
    except KioskProblem as problem:
        return _problem(request, problem.message, status=404, extra=_base(request))
    if not session.identified:
        return _redirect("kiosk_identify", query=urlencode({"service": item.code}))
    citizen = session.citizen()
    if citizen is None:
        session.end("expired")
        return _redirect("kiosk_home", query="done=expired")
    draft = None
    if session.draft_for(item.code):
        draft = queries.mine(citizen).filter(reference=session.draft_for(item.code), state="draft").first()
    form = formschema.ServiceForm(item.form, request.POST if request.method == "POST" else None)
    status = 200
    if request.method == "POST":
        status = 400
        if form.is_valid():
            data = form.cleaned_json()
            errors = formschema.errors_for(item.form, data)
            if errors:
                form.add_schema_errors(errors)
            else:
                outcome = application_make(
                    kiosk=kiosk,
                    citizen=citizen,
                    service=item,
                    form_data=data,
                    uploads=_uploads(request, item),
                    draft=draft,
                    idempotency_key=f"kiosk:{request.POST.get('token', '')[:40]}" if request.POST.get("token") else "",
                )
                application = outcome.application
                if application is not None and application.state != "draft":
                    session.set_draft(item.code, None)
                    session.add_reference(application.reference)
                    session.next_service = ""
                    return _redirect("kiosk_receipt", application.reference)
                if application is not None:
                    session.set_draft(item.code, application.reference)
                    draft = application
                form.add_schema_errors(outcome.errors)
    documents = [
        {
            "spec": spec,
            "field": f"doc_{spec.code}",
            "present": draft is not None and draft.documents.filter(code=spec.code).exists(),
            "accept": ",".join(f".{kind}" for kind in spec.types),
            "types": "、".join(kind.upper() for kind in spec.types),
        }
        for spec in item.documents
    ]
    return render(
        request,
        "eservices/kiosk/apply.html",
        _base(
            request,
            service=item,
            form=form,
            documents=documents,
            token=secrets.token_hex(16),
            unit=_handling_unit_name(item, kiosk),
            instant=item.workflow == "service_instant",
        ),
        status=status,
    )


@require_GET
@kiosk_view(identified=True)
def receipt(request: HttpRequest, reference: str) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    if reference not in session.references:
        return _problem(request, _("没有找到这份回执。"), status=404, extra=_base(request))
    citizen = session.citizen()
    if citizen is None:
        session.end("expired")
        return _redirect("kiosk_home", query="done=expired")
    try:
        application = queries.application_get(citizen, reference)
    except Application.DoesNotExist:
        return _problem(request, _("没有找到这份回执。"), status=404, extra=_base(request))
    return render(
        request,
        "eservices/kiosk/receipt.html",
        _base(
            request,
            application=application,
            service=application.service,
            state_name=application.workflow().state_name(application.state),
            steps=next_steps(application),
            moment=timezone.localtime(application.submitted_at or application.created_at),
            printed=timezone.localtime(),
        ),
    )


@require_POST
@kiosk_view()
def end(request: HttpRequest) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    reason = "idle" if request.POST.get("reason") == "idle" else "user"
    session.end(reason)
    return _redirect("kiosk_home", query=f"done={reason}")


@require_POST
@kiosk_view()
def language(request: HttpRequest) -> HttpResponse:
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    wanted = request.POST.get("language", "")
    if wanted in dict(settings.LANGUAGES):
        session.language = wanted
    target = request.POST.get("next", "")
    if not (
        target.startswith(kiosk_path())
        and url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}, require_https=False)
    ):
        target = kiosk_path()
    return HttpResponseRedirect(target)


@require_POST
@kiosk_view()
def ping(request: HttpRequest) -> HttpResponse:
    """Keep-alive from the screen while the person is busy (typing a long form sends no
    request): the server's idle clock is reset by the person's activity."""
    session: KioskSession = request.kiosk_session  # type: ignore[attr-defined]
    return JsonResponse({"active": session.active, "identified": session.identified, "idle_limit": idle_seconds()})
