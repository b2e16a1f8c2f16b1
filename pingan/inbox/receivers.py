"""How the inbox reacts to other modules: an overdue item is escalated to the chief of its
unit (the station chief, or failing one the bureau leader above it)."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.translation import gettext as _

from pingan.accounts import queries as accounts
from pingan.core import events
from pingan.inbox import actions
from pingan.inbox.queries import notices_for
from pingan.inbox.sources import InboxEntry
from pingan.orgs import queries as orgs

ESCALATE_TO = frozenset({"station_chief", "bureau_leader"})


def _item_title(item: Any) -> str:
    title = getattr(item, "title", None) or str(item)
    return str(title)


def _item_url(item: Any) -> str:
    getter = getattr(item, "get_absolute_url", None)
    return getter() if callable(getter) else ""


def escalate_overdue(sender: Any, *, item: Any, clock: Any = None, org_path: str = "", **kwargs: Any) -> None:
    org_path = org_path or getattr(clock, "org_path", "")
    if not org_path:
        return
    code = [part for part in org_path.split("/") if part][-1]
    org = orgs.unit_get(code)
    chiefs = accounts.holders_of(org_path=org_path, roles=ESCALATE_TO)
    actions.notice_post(
        recipients=chiefs,
        kind="escalation",
        title=_("已超期：%(title)s") % {"title": _item_title(item)},
        subject=(item._meta.label_lower, str(item.pk)),
        org=org,
        url=_item_url(item),
        due_at=getattr(item, "due_at", None),
        body=_("该事项已超过办理时限，请督促办理。"),
    )


def connect() -> None:
    events.deadline_overdue.connect(escalate_overdue, dispatch_uid="inbox.escalate_overdue")


def notice_entries(user: Any, limit: int) -> list[InboxEntry]:
    return [
        InboxEntry(
            kind="notices",
            title=notice.title,
            url=notice.url,
            due_at=notice.due_at,
            deadline_state="overdue" if notice.kind == "escalation" else "",
            state_label=notice.get_kind_display(),
            unit_name=notice.org.name,
            created_at=notice.created_at,
            dismiss_url=reverse("inbox:notice_read", args=[notice.pk]),
        )
        for notice in notices_for(user).order_by("due_at", "id")[:limit]
    ]


def notice_count(user: Any) -> int:
    return notices_for(user).count()
