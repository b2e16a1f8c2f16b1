"""What modules put in an officer's "my work" list.

A module registers one :class:`InboxSource` per kind of work in its ``AppConfig.ready()``:

    inbox.sources.register(InboxSource(
        key="assignments", label=_("交办事项"),
        entries=lambda user, limit: [...InboxEntry...],   # the user's waiting items, soonest deadline first
        count=lambda user: ...,                            # how many there are in all
    ))

Each source does its own scoped query (through its app's ``queries``); the inbox merges
the lists by deadline.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from pingan.core import registry


@dataclass(frozen=True)
class InboxEntry:
    kind: str  # the source key
    title: str
    url: str
    due_at: dt.datetime | None
    deadline_state: str = ""  # "", running, warning, overdue, paused, stopped
    state_label: str = ""
    unit_name: str = ""
    reference: str = ""
    created_at: dt.datetime | None = None
    dismiss_url: str = ""  # a POST that takes the entry off the list (notices)


@dataclass(frozen=True)
class InboxSource:
    key: str
    label: Any  # lazy translation
    entries: Callable[[Any, int], list[InboxEntry]]
    count: Callable[[Any], int]
    order: int = 100


def register(source: InboxSource) -> InboxSource:
    return registry.inbox_sources.register(source.key, source)


def all_sources() -> list[InboxSource]:
    return sorted(registry.inbox_sources.values(), key=lambda source: (source.order, source.key))
