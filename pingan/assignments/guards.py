"""Workflow guards for assignments: which side of the task the officer is on.

Roles alone are not enough: a station chief may both receive a task and (as a chief)
approve tasks — but never approve the report of a task their own station did. The
issuing side is any post at or above the issuing unit; the responsible side is a post
covering the responsible unit below the issuing unit.
"""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _

from pingan.core import access


def _acting_paths(actor: Any, roles: tuple[str, ...] | list[str]) -> list[str]:
    return [post.jurisdiction_path for post in access.posts_of(actor) if post.role in roles]


def on_issuer_side(item: Any, *, actor: Any, roles: list[str] | tuple[str, ...]) -> bool:
    issuer = item.issuer_org.path
    return any(issuer.startswith(path) for path in _acting_paths(actor, roles))


def on_responsible_side(item: Any, *, actor: Any, roles: list[str] | tuple[str, ...]) -> bool:
    org, issuer = item.org.path, item.issuer_org.path
    return any(
        org.startswith(path) and (len(path) > len(issuer) or org == issuer) for path in _acting_paths(actor, roles)
    )


def issuer_side(item: Any, *, actor: Any, data: Any, transition: Any) -> str | None:
    if actor is None or on_issuer_side(item, actor=actor, roles=transition.roles):
        return None
    return _("只有交办单位（%(unit)s）的负责人可以执行此操作。") % {"unit": item.issuer_org.name}


def responsible_side(item: Any, *, actor: Any, data: Any, transition: Any) -> str | None:
    if actor is None or on_responsible_side(item, actor=actor, roles=transition.roles):
        return None
    return _("只有承办单位（%(unit)s）的民警可以执行此操作。") % {"unit": item.org.name}


# States whose next step belongs to each side (used to fill each side's "my work").
ISSUER_STATES = ("draft", "waiting_info", "reported", "approved")
RESPONSIBLE_STATES = ("assigned", "in_progress", "returned")
