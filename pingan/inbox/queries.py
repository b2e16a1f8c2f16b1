"""Reads for "my work": every registered source's waiting items, merged by deadline."""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from pingan.inbox.models import Notice
from pingan.inbox.sources import InboxEntry, InboxSource, all_sources

__all__ = ["InboxPage", "KindCount", "all_sources", "inbox_for", "notices_for"]

log = logging.getLogger(__name__)
FAR_FUTURE = dt.datetime.max.replace(tzinfo=dt.UTC)


@dataclass(frozen=True)
class KindCount:
    key: str
    label: str
    count: int


@dataclass(frozen=True)
class InboxPage:
    entries: list[InboxEntry]
    kinds: list[KindCount]
    total: int
    kind: str | None


def notices_for(user: Any) -> QuerySet[Notice]:
    """The user's own unread notices (a notice is visible to its recipient only)."""
    return Notice.objects.filter(recipient=user, read_at__isnull=True).select_related("org")


def _sort_key(entry: InboxEntry) -> tuple[int, dt.datetime, str]:
    # Overdue first, then by deadline (soonest first); items without deadline last.
    return (0 if entry.deadline_state == "overdue" else 1, entry.due_at or FAR_FUTURE, entry.title)


def inbox_for(user: Any, *, kind: str | None = None, limit: int = 100) -> InboxPage:
    sources: list[InboxSource] = all_sources()
    kinds = [KindCount(source.key, str(source.label), source.count(user)) for source in sources]
    chosen = [source for source in sources if kind in (None, source.key)]
    entries: list[InboxEntry] = []
    for source in chosen:
        entries.extend(source.entries(user, limit))
    entries.sort(key=_sort_key)
    return InboxPage(entries=entries[:limit], kinds=kinds, total=sum(k.count for k in kinds), kind=kind)
