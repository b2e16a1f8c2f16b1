"""Writes to the outbox: queue messages (in the caller's transaction) and mark them read.

    from pingan.notify import actions as notify

    notify.enqueue(user=applicant, title="您的申请已受理", body="……", url=application.get_absolute_url(),
                   subject=application, dedupe_key=f"eservices.application.{application.pk}.accepted")

The rows are written in the transaction of the change they report: a rolled-back change
sends nothing, a committed one is delivered by the worker's ``notify.deliver`` job, retried
until it is delivered (see ``docs/notifications.md``). The request that made the change
does not wait for a mail server or an SMS gateway — except for a message someone is
waiting for at that moment (a one-time code at a kiosk): ``immediate=True`` makes one
attempt right after the commit, and the worker retries whatever that attempt leaves.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Model
from django.utils import timezone
from django.utils.translation import gettext as _

from pingan.core import context, timeline
from pingan.notify.models import Channel, Message, Status

log = logging.getLogger(__name__)

DEFAULT_CHANNELS = (Channel.IN_APP, Channel.EMAIL, Channel.SMS)
MAX_TITLE, MAX_BODY, MAX_URL, MAX_DEDUPE_KEY = 200, 2000, 300, 150
# 18-character resident ID numbers (and the 15-digit first-generation ones): a message
# leaves the system in clear over mail and SMS, so it must never carry one.
ID_NUMBER_RE = re.compile(r"(?<![0-9A-Za-z])(?:\d{17}[0-9Xx]|\d{15})(?![0-9A-Za-z])")


def contains_id_number(text: str) -> bool:
    return bool(ID_NUMBER_RE.search(text or ""))


def _subject_key(subject: Any) -> tuple[str, str]:
    if subject is None:
        return "", ""
    if isinstance(subject, (Model, tuple)):
        return timeline.subject_key(subject)
    raise TypeError(f"subject must be a model instance or a (type, id) pair, not {subject!r}")


def _clean(
    *, user: Any, title: str, body: str, url: str, channels: Iterable[str], dedupe_key: str | None, bulk: bool = False
) -> tuple[str, str, str, list[str], str | None]:
    errors: dict[str, list[str]] = {}
    if not bulk and getattr(user, "pk", None) is None:
        errors["user"] = [_("请指定接收人。")]
    title = (title or "").strip()
    body = (body or "").strip()
    url = (url or "").strip()
    if not title:
        errors["title"] = [_("请填写消息标题。")]
    elif len(title) > MAX_TITLE:
        errors["title"] = [_("消息标题最多 %(n)s 个字。") % {"n": MAX_TITLE}]
    if len(body) > MAX_BODY:
        errors["body"] = [_("消息内容最多 %(n)s 个字。") % {"n": MAX_BODY}]
    if len(url) > MAX_URL:
        errors["url"] = [_("链接最长 %(n)s 个字符。") % {"n": MAX_URL}]
    elif url and not ((url.startswith("/") and not url.startswith("//")) or url.startswith(("https://", "http://"))):
        errors["url"] = [_("链接应为本站路径（以 / 开头）或 http(s) 地址。")]
    for field, text in (("title", title), ("body", body), ("url", url)):
        if field not in errors and contains_id_number(text):
            errors[field] = [_("消息中不得包含身份证号码。")]
    wanted = list(dict.fromkeys(str(channel) for channel in channels))
    unknown = [channel for channel in wanted if channel not in Channel.values]
    if not wanted:
        errors["channels"] = [_("请至少选择一个发送渠道。")]
    elif unknown:
        errors["channels"] = [_("未知的发送渠道：%(channels)s。") % {"channels": "、".join(unknown)}]
    if dedupe_key is not None:
        dedupe_key = dedupe_key.strip()
        if not dedupe_key or len(dedupe_key) > MAX_DEDUPE_KEY:
            errors["dedupe_key"] = [_("去重键应为 1 至 %(n)s 个字符。") % {"n": MAX_DEDUPE_KEY}]
    if errors:
        raise ValidationError(errors)
    return title, body, url, wanted, dedupe_key


@transaction.atomic
def enqueue(
    *,
    user: Any,
    title: str,
    body: str,
    url: str = "",
    channels: Sequence[str] = DEFAULT_CHANNELS,
    subject: Any = None,
    dedupe_key: str | None = None,
    immediate: bool = False,
) -> list[Message]:
    """Queue ``title``/``body`` to ``user`` on each of ``channels``; one row per channel.

    Runs in the caller's transaction. ``subject`` (a model instance or a ``(type, id)``
    pair) is what the message is about; the queueing is recorded on its timeline.
    With ``dedupe_key``, a message already queued for this user, channel and key is
    returned instead of queueing another (idempotent). In-app messages are delivered on
    commit by being stored; e-mail and SMS go through the outbox and are sent by the
    worker. ``immediate`` (for a message the person is waiting for, such as a one-time
    code) also tries to send them right after the commit, in this process; so does every
    message when ``settings.NOTIFY_SEND_ON_COMMIT`` is on. Raises ``ValidationError`` for
    bad input, including text that holds an ID number.
    """
    title, body, url, wanted, dedupe_key = _clean(
        user=user, title=title, body=body, url=url, channels=channels, dedupe_key=dedupe_key
    )
    subject_type, subject_id = _subject_key(subject)
    now = timezone.now()
    existing: dict[str, Message] = {}
    if dedupe_key is not None:
        existing = {
            message.channel: message
            for message in Message.objects.filter(recipient=user, dedupe_key=dedupe_key, channel__in=wanted)
        }
    created = [
        Message(
            recipient=user,
            channel=channel,
            status=Status.DELIVERED if channel == Channel.IN_APP else Status.CREATED,
            title=title,
            body=body,
            url=url,
            subject_type=subject_type,
            subject_id=subject_id,
            dedupe_key=dedupe_key or "",
            next_attempt_at=None if channel == Channel.IN_APP else now,
            delivered_at=now if channel == Channel.IN_APP else None,
        )
        for channel in wanted
        if channel not in existing
    ]
    if created and dedupe_key is None:
        Message.objects.bulk_create(created)
    elif created:
        try:
            with transaction.atomic():
                Message.objects.bulk_create(created)
        except IntegrityError:
            # A concurrent enqueue with the same key committed first: its rows are the
            # messages; create, one by one, only what it did not.
            created = _create_one_by_one(created, user=user, dedupe_key=dedupe_key)
            existing = {
                message.channel: message
                for message in Message.objects.filter(recipient=user, dedupe_key=dedupe_key, channel__in=wanted)
            }
    fresh = {message.channel: message for message in created}
    messages = [fresh.get(channel) or existing[channel] for channel in wanted]
    if created:
        timeline.record(
            subject if subject is not None else created[0],
            "notify.queued",
            data={
                "recipient": user.pk,
                "messages": {message.channel: message.pk for message in created},
                "title": title,
                "dedupe_key": dedupe_key,
            },
        )
        pending = [message.pk for message in created if message.status == Status.CREATED]
        if pending and (immediate or getattr(settings, "NOTIFY_SEND_ON_COMMIT", False)):
            transaction.on_commit(lambda: _attempt_now(pending))
    return messages


IN_APP_BATCH = 2000


@transaction.atomic
def enqueue_in_app_many(
    *, user_ids: Iterable[int], title: str, body: str, url: str = "", subject: Any, dedupe_key: str, event: str
) -> int:
    """One in-app message to each of ``user_ids``, in the caller's transaction, for news that
    reaches tens of thousands at once (an emergency alert): rows go in batches of 2,000, a
    user who already has a message with ``dedupe_key`` gets no second one (the outbox's
    unique index), and ONE timeline event ``event`` on ``subject`` records the count — not
    one per person as ``enqueue`` does. In-app messages are delivered by being stored.
    Returns how many were offered to the outbox."""
    title, body, url, _channels, dedupe_key = _clean(
        user=None, title=title, body=body, url=url, channels=(Channel.IN_APP,), dedupe_key=dedupe_key, bulk=True
    )
    subject_type, subject_id = _subject_key(subject)
    now = timezone.now()
    total = 0
    batch: list[Message] = []
    for user_id in user_ids:
        batch.append(
            Message(
                recipient_id=user_id,
                channel=Channel.IN_APP,
                status=Status.DELIVERED,
                title=title,
                body=body,
                url=url,
                subject_type=subject_type,
                subject_id=subject_id,
                dedupe_key=dedupe_key,
                next_attempt_at=None,
                delivered_at=now,
            )
        )
        total += 1
        if len(batch) >= IN_APP_BATCH:
            Message.objects.bulk_create(batch, ignore_conflicts=True)
            batch.clear()
    if batch:
        Message.objects.bulk_create(batch, ignore_conflicts=True)
    if total:
        timeline.record(subject, event, data={"in_app_messages": total, "dedupe_key": dedupe_key, "title": title})
    return total


def _create_one_by_one(messages: list[Message], *, user: Any, dedupe_key: str) -> list[Message]:
    created = []
    for message in messages:
        if Message.objects.filter(recipient=user, dedupe_key=dedupe_key, channel=message.channel).exists():
            continue
        try:
            with transaction.atomic():
                message.save(force_insert=True)
        except IntegrityError:
            continue
        created.append(message)
    return created


def _attempt_now(message_ids: list[int]) -> None:
    """The attempt right after commit (``immediate``); the worker retries whatever this
    leaves. The system sends (and reads the mobile number), not the person whose request
    queued the message."""
    from pingan.notify import delivery

    try:
        with context.acting_as(None, channel="system"):
            delivery.deliver(message_ids, immediate=True)
    except Exception:  # the change is committed; the worker's job delivers what is left
        log.exception("notify: immediate delivery of %s failed; the worker will retry", message_ids)


@transaction.atomic
def message_mark_read(*, message: Message, user: Any) -> Message:
    """Mark one of the user's in-app messages read (``Message.DoesNotExist`` if not theirs)."""
    locked = Message.objects.select_for_update().get(pk=message.pk, recipient=user, channel=Channel.IN_APP)
    if locked.read_at is None:
        locked.read_at = timezone.now()
        locked.save(update_fields=["read_at"])
    return locked


@transaction.atomic
def messages_mark_all_read(*, user: Any) -> int:
    """Mark all of the user's unread in-app messages read; how many there were."""
    return Message.objects.filter(recipient=user, channel=Channel.IN_APP, read_at__isnull=True).update(
        read_at=timezone.now()
    )
