"""The unread count for the page header, computed only if a template uses it.

TEMPLATES[0]["OPTIONS"]["context_processors"] += ["pingan.notify.context_processors.notifications"]
{% if notify_unread %}<span class="badge">{{ notify_unread }}</span>{% endif %}
"""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from django.utils.functional import SimpleLazyObject

from pingan.notify import queries


def notifications(request: HttpRequest) -> dict[str, Any]:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"notify_unread": 0}
    return {"notify_unread": SimpleLazyObject(lambda: queries.unread_count(user))}
