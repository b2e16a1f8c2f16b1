"""Workflow guards of rectifications."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def follow_up_recorded(item: Any, *, actor: Any, data: Any, transition: Any) -> str | None:
    """Every bad rating is followed up with the rater before it is closed (回访率100%)."""
    if item.followed_up_at is None:
        return _("尚未回访群众，不能办结：每一件差评都须回访后才能办结。")
    return None
