"""Template helpers of the e-services pages."""

from __future__ import annotations

from typing import Any

from django import template
from django.utils.translation import ngettext

register = template.Library()


@register.simple_tag
def time_limit(limit: Any) -> str:
    """A service's time limit in words: "15个工作日" / "15 working days", "60日" / "60 days"."""
    days = int(limit.days)
    if limit.unit == "working":
        return ngettext("%(n)s个工作日", "%(n)s个工作日", days) % {"n": days}
    return ngettext("%(n)s日", "%(n)s日", days) % {"n": days}
