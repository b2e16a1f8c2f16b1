"""Reports waiting for verification, in the staff's "my work"."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from pingan.inbox.sources import InboxEntry, InboxSource
from pingan.inbox.sources import register as register_source
from pingan.reunion import queries


def entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        InboxEntry(
            kind="reunion",
            title=_("核查寻亲登记：%(kind)s · %(place)s")
            % {"kind": record.get_kind_display(), "place": record.place_text[:40]},
            url=record.get_absolute_url(),
            due_at=record.due_at,
            deadline_state=record.deadline_state,
            state_label=record.state_name,
            unit_name=record.org.name,
            reference=record.reference,
            created_at=record.reported_at,
        )
        for record in queries.waiting_for(user)[:limit]
    ]


def count(user: Any) -> int:
    return queries.waiting_for(user).count()


def register() -> None:
    register_source(
        InboxSource(key="reunion", label=gettext_lazy("寻亲登记核查"), entries=entries, count=count, order=25)
    )
