"""Reads of the outbox. A person sees their own in-app messages only (like the inbox's
notices): the recipient is the scope."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet

from pingan.core import access, timeline
from pingan.notify.models import Channel, Message


def messages_for(user: Any, *, unread: bool = False) -> QuerySet[Message]:
    """The user's in-app messages, newest first (none for anonymous visitors)."""
    if access.user_kind(user) == "anonymous":
        return Message.objects.none()
    query = Message.objects.filter(recipient=user, channel=Channel.IN_APP)
    if unread:
        query = query.filter(read_at__isnull=True)
    return query.order_by("-id")


def message_get(user: Any, pk: int) -> Message:
    """One of the user's in-app messages (``Message.DoesNotExist`` otherwise)."""
    return messages_for(user).get(pk=pk)


def unread_count(user: Any) -> int:
    return messages_for(user, unread=True).count()


def outbox_for(subject: Any) -> QuerySet[Message]:
    """Every message (all channels) about ``subject`` — for the subject's own pages and tests."""
    subject_type, subject_id = timeline.subject_key(subject)
    return Message.objects.filter(subject_type=subject_type, subject_id=subject_id).order_by("id")
