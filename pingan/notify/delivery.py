"""Delivery of queued e-mail and SMS messages: the worker's ``notify.deliver`` job
(:func:`deliver_due`) and the attempt right after commit (:func:`deliver`).

Each round claims a batch of due rows in one short transaction — ``SELECT … FOR UPDATE
SKIP LOCKED`` on PostgreSQL (on SQLite the write lock taken at ``BEGIN IMMEDIATE`` does
the same), marking them ``sending`` with a claim token and a claim that lapses after
``NOTIFY_CLAIM_SECONDS`` — then sends each one outside any transaction and records the
outcome in another short transaction, only if the claim is still its own. So several
workers never send one message twice, no database transaction stays open during a send,
and a worker that dies mid-send leaves rows that become due again when the claim lapses.

A temporary failure is retried with exponential backoff (``NOTIFY_RETRY_BASE_SECONDS``
doubling up to ``NOTIFY_RETRY_CAP_SECONDS``), without limit: an outage of any length
loses nothing. A channel that fails ``NOTIFY_CHANNEL_FAILURES`` times in a row is left
alone for the rest of the pass (its claimed rows are handed back untouched), and requests
skip their immediate attempt on it for a minute, so an outage does not slow every page.
"""

from __future__ import annotations

import datetime as dt
import logging
import smtplib
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMessage, get_connection
from django.core.validators import validate_email
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import timeline
from pingan.core.identity import normalize_mobile
from pingan.notify import contacts, sms
from pingan.notify.models import Channel, Message, Status

log = logging.getLogger(__name__)

SMS_MAX_CHARS = 300
DOWN_CACHE_KEY = "notify:channel-down:{channel}"


def _setting(name: str, default: int) -> int:
    return int(getattr(settings, name, default))


def claim_seconds() -> int:
    return _setting("NOTIFY_CLAIM_SECONDS", 600)


def retry_delay(attempts: int) -> dt.timedelta:
    """Wait after the ``attempts``-th failed attempt: base, 2×base, 4×base, … up to the cap."""
    base = _setting("NOTIFY_RETRY_BASE_SECONDS", 30)
    cap = _setting("NOTIFY_RETRY_CAP_SECONDS", 3600)
    exponent = min(max(attempts, 1) - 1, 30)
    return dt.timedelta(seconds=min(cap, base * 2**exponent))


@dataclass
class DeliveryResult:
    delivered: int = 0
    temporary: int = 0
    permanent: int = 0
    deferred: int = 0  # claimed, then handed back untried because the channel is down
    lapsed: int = 0  # the claim lapsed before the outcome was recorded (another worker took over)

    def __str__(self) -> str:
        text = (
            f"{self.delivered} delivered, {self.temporary} temporary failures, "
            f"{self.permanent} permanent failures, {self.deferred} deferred"
        )
        return text + (f", {self.lapsed} lapsed claims" if self.lapsed else "")


@dataclass(frozen=True)
class Outcome:
    status: str  # delivered, temporary-failure, permanent-failure
    error: str = ""


DELIVERED = Outcome(Status.DELIVERED)


def _skip_locked() -> dict[str, bool]:
    return {"skip_locked": True} if connection.features.has_select_for_update_skip_locked else {}


def _claim(
    *, now: dt.datetime, batch: int, ids: Iterable[int] | None = None, exclude: Iterable[str] = ()
) -> list[Message]:
    token = uuid.uuid4().hex
    with transaction.atomic():
        due = Message.objects.filter(next_attempt_at__lte=now)
        if ids is not None:
            due = due.filter(pk__in=list(ids))
        if exclude:
            due = due.exclude(channel__in=list(exclude))
        pks = list(
            due.select_for_update(**_skip_locked())
            .order_by("next_attempt_at", "pk")
            .values_list("pk", flat=True)[:batch]
        )
        if not pks:
            return []
        Message.objects.filter(pk__in=pks).update(
            status=Status.SENDING, claim_token=token, next_attempt_at=now + dt.timedelta(seconds=claim_seconds())
        )
        return list(Message.objects.filter(pk__in=pks, claim_token=token).select_related("recipient").order_by("pk"))


def absolute_url(url: str) -> str:
    base = getattr(settings, "NOTIFY_SITE_URL", "") or ""
    if url.startswith("/") and base:
        return base.rstrip("/") + url
    return url


def email_text(message: Message) -> str:
    parts = [message.body] if message.body else []
    if message.url:
        parts.append(_("查看详情：%(url)s") % {"url": absolute_url(message.url)})
    parts.append(_("此邮件由平安警务平台自动发送，请勿直接回复。"))
    return "\n\n".join(parts)


def sms_text(message: Message) -> str:
    text = _("【平安】%(title)s") % {"title": message.title}
    if message.body:
        text += "：" + message.body
    if message.url:
        text += " " + absolute_url(message.url)
    return text if len(text) <= SMS_MAX_CHARS else text[: SMS_MAX_CHARS - 1] + "…"


def _send_email(message: Message, mail_connection: Any) -> Outcome:
    address = (message.recipient.email or "").strip()
    if not address:
        return Outcome(Status.PERMANENT_FAILURE, _("无电子邮件地址"))
    try:
        validate_email(address)
    except ValidationError:
        return Outcome(Status.PERMANENT_FAILURE, _("电子邮件地址无效"))
    email = EmailMessage(
        subject=message.title,
        body=email_text(message),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[address],
        headers={"X-Pingan-Message": str(message.pk)},
        connection=mail_connection,
    )
    try:
        sent = email.send(fail_silently=False)
    except smtplib.SMTPRecipientsRefused as error:
        return Outcome(Status.PERMANENT_FAILURE, f"recipient refused: {error}")
    except Exception as error:  # any other failure of the mail system is an outage: retry
        return Outcome(Status.TEMPORARY_FAILURE, f"{type(error).__name__}: {error}")
    if not sent:
        return Outcome(Status.TEMPORARY_FAILURE, "the mail backend sent nothing")
    return DELIVERED


def _send_sms(message: Message, gateway: sms.SmsBackend) -> Outcome:
    # Decrypted here, at send time, and only the number: it is never copied to the outbox.
    contact = contacts.mobile_of(message.recipient_id)
    if contact is None:
        return Outcome(Status.PERMANENT_FAILURE, _("无手机号码"))
    try:
        phone = normalize_mobile(contact.phone)
    except ValidationError:
        return Outcome(Status.PERMANENT_FAILURE, _("手机号码无效"))
    contacts.record_phone_read(contact, message_id=message.pk)
    try:
        gateway.send(phone=phone, text=sms_text(message), reference=str(message.pk))
    except sms.PermanentFailure as error:
        return Outcome(Status.PERMANENT_FAILURE, f"gateway refused: {error}")
    except Exception as error:  # TemporaryFailure, or anything unexpected from a gateway: retry
        return Outcome(Status.TEMPORARY_FAILURE, f"{type(error).__name__}: {error}")
    return DELIVERED


def _finish(message: Message, outcome: Outcome, *, now: dt.datetime) -> bool:
    """Record the outcome if the claim is still ours (``False``: it lapsed)."""
    attempts = message.attempts + 1
    fields: dict[str, Any] = {
        "status": outcome.status,
        "attempts": F("attempts") + 1,
        "claim_token": "",
        "last_error": outcome.error[:500],
    }
    if outcome.status == Status.DELIVERED:
        fields.update(delivered_at=now, next_attempt_at=None)
    elif outcome.status == Status.PERMANENT_FAILURE:
        fields.update(next_attempt_at=None)
    else:
        fields.update(next_attempt_at=now + retry_delay(attempts))
    with transaction.atomic():
        if not Message.objects.filter(pk=message.pk, claim_token=message.claim_token).update(**fields):
            log.warning("notify: claim on message %s lapsed before its outcome (%s) was recorded", message.pk, outcome)
            return False
        data: dict[str, Any] = {"channel": message.channel, "attempt": attempts}
        if outcome.error:
            data["error"] = outcome.error[:500]
        timeline.record(message, f"notify.{outcome.status.replace('-', '_')}", data=data)
    return True


def _release(messages: list[Message], *, now: dt.datetime) -> None:
    """Hand claimed rows back untried (their channel is down): as they were, due shortly."""
    later = now + retry_delay(1)
    for message in messages:
        Message.objects.filter(pk=message.pk, claim_token=message.claim_token).update(
            status=Status.TEMPORARY_FAILURE if message.attempts else Status.CREATED,
            claim_token="",
            next_attempt_at=later,
        )


def _mark_down(channel: str) -> None:
    cache.set(DOWN_CACHE_KEY.format(channel=channel), True, timeout=60)


def channel_down(channel: str) -> bool:
    return bool(cache.get(DOWN_CACHE_KEY.format(channel=channel)))


class _Round:
    """Sends claimed messages; remembers which channels are failing in this pass."""

    def __init__(self, result: DeliveryResult, clock: Callable[[], dt.datetime], *, failures_allowed: int) -> None:
        self.result, self.clock, self.failures_allowed = result, clock, failures_allowed
        self.down: set[str] = set()
        self.failures: dict[str, int] = {}
        self._mail: Any = None
        self._gateway: sms.SmsBackend | None = None

    def send(self, messages: list[Message]) -> None:
        held_back = [message for message in messages if message.channel in self.down]
        for message in messages:
            if message.channel in self.down:
                continue
            outcome = self._attempt(message)
            if not _finish(message, outcome, now=self.clock()):
                self.result.lapsed += 1
                continue
            if outcome.status == Status.DELIVERED:
                self.result.delivered += 1
                self.failures[message.channel] = 0
            elif outcome.status == Status.PERMANENT_FAILURE:
                self.result.permanent += 1
            else:
                self.result.temporary += 1
                self.failures[message.channel] = self.failures.get(message.channel, 0) + 1
                if self.failures[message.channel] >= self.failures_allowed:
                    self.down.add(message.channel)
                    _mark_down(message.channel)
                    held_back += [m for m in messages if m.channel == message.channel and m.pk > message.pk]
        if held_back:
            _release(held_back, now=self.clock())
            self.result.deferred += len(held_back)

    def _attempt(self, message: Message) -> Outcome:
        if not message.recipient.is_active:
            return Outcome(Status.PERMANENT_FAILURE, _("账号已停用"))
        try:
            if message.channel == Channel.EMAIL:
                if self._mail is None:
                    self._mail = get_connection(fail_silently=False)
                return _send_email(message, self._mail)
            if message.channel == Channel.SMS:
                if self._gateway is None:
                    self._gateway = sms.get_backend()
                return _send_sms(message, self._gateway)
        except Exception as error:  # a bug or a broken backend must not lose the message
            log.exception("notify: sending message %s failed unexpectedly", message.pk)
            return Outcome(Status.TEMPORARY_FAILURE, f"{type(error).__name__}: {error}")
        return Outcome(Status.PERMANENT_FAILURE, f"channel {message.channel!r} is not sent by the outbox")


def deliver_due(*, now: dt.datetime | None = None, batch: int = 50, limit: int = 1000) -> DeliveryResult:
    """The worker job: send up to ``limit`` due messages, ``batch`` claimed at a time.

    ``now`` fixes the moment (tests of backoff); by default each round takes the time.
    """
    clock = (lambda: now) if now is not None else timezone.now
    result = DeliveryResult()
    sender = _Round(result, clock, failures_allowed=_setting("NOTIFY_CHANNEL_FAILURES", 3))
    handled = 0
    while handled < limit:
        claimed = _claim(now=clock(), batch=min(batch, limit - handled), exclude=sender.down)
        if not claimed:
            break
        handled += len(claimed)
        sender.send(claimed)
    if result.delivered or result.temporary or result.permanent or result.deferred:
        log.info("notify: %s", result)
    return result


def deliver(message_ids: Iterable[int], *, immediate: bool = False) -> DeliveryResult:
    """Try to send these messages now (those still due); the worker retries any failure.

    ``immediate`` (the attempt right after commit) skips channels that failed within the
    last minute and gives up on a channel at its first temporary failure.
    """
    exclude = [channel for channel in (Channel.EMAIL, Channel.SMS) if immediate and channel_down(channel)]
    result = DeliveryResult()
    ids = list(message_ids)
    if not ids:
        return result
    sender = _Round(result, timezone.now, failures_allowed=1 if immediate else _setting("NOTIFY_CHANNEL_FAILURES", 3))
    claimed = _claim(now=timezone.now(), batch=len(ids), ids=ids, exclude=exclude)
    if claimed:
        sender.send(claimed)
    return result
