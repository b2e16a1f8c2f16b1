"""The workbench queue's entry in "my work"."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext_lazy as _

from pingan.eservices import display, queries
from pingan.inbox.sources import InboxEntry, InboxSource
from pingan.inbox.sources import register as register_source


def entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        InboxEntry(
            kind="eservices",
            title=item.service.name,
            url=item.get_absolute_url(),
            due_at=item.due_at,
            deadline_state=item.deadline_state,
            state_label=display.state_name(item.state),
            unit_name=item.org.name,
            reference=item.reference,
            created_at=item.created_at,
        )
        for item in queries.queue_page(user, None, 1, per_page=limit).object_list
    ]


def count(user: Any) -> int:
    return queries.queue(user).count()


def register() -> None:
    register_source(InboxSource(key="eservices", label=_("办事申请"), entries=entries, count=count, order=15))
