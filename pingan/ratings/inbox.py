"""Rectifications in the staff's "my work"."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from pingan.inbox.sources import InboxEntry, InboxSource
from pingan.inbox.sources import register as register_source
from pingan.ratings import queries


def entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        InboxEntry(
            kind="rectifications",
            title=item.title,
            url=item.get_absolute_url(),
            due_at=item.due_at,
            deadline_state=item.deadline_state,
            state_label=item.state_name,
            unit_name=item.org.name,
            reference=item.reference,
            created_at=item.created_at,
        )
        for item in queries.waiting_for(user)[:limit]
    ]


def count(user: Any) -> int:
    return queries.waiting_for(user).count()


def register() -> None:
    register_source(InboxSource(key="rectifications", label=_("差评整改"), entries=entries, count=count, order=30))
