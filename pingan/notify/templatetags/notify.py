"""``{% load notify %}{% notify_unread_count as unread %}``: the signed-in user's unread
in-app messages (0 for visitors), for templates that do not use the context processor."""

from __future__ import annotations

from typing import Any

from django import template

from pingan.notify import queries

register = template.Library()


@register.simple_tag(takes_context=True)
def notify_unread_count(context: dict[str, Any]) -> int:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return 0
    return queries.unread_count(user)
