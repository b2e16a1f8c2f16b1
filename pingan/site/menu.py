"""The navigation menu: apps register entries in ``ready()``; each entry says who sees it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.urls import reverse

from pingan.core import access, registry


@dataclass(frozen=True)
class MenuItem:
    label: Any  # a lazy translation
    url_name: str
    order: int = 100
    kinds: frozenset[str] = frozenset({"staff"})  # anonymous, citizen, staff, partner
    roles: frozenset[str] | None = None  # staff roles that see it; None: any
    visible: Callable[[Any], bool] | None = None

    def shown_to(self, user: Any) -> bool:
        kind = access.user_kind(user)
        if kind not in self.kinds:
            return False
        if (
            kind == "staff"
            and self.roles is not None
            and not (access.is_everywhere(user) or {post.role for post in access.posts_of(user)} & self.roles)
        ):
            return False
        return self.visible(user) if self.visible else True


def menu_for(user: Any) -> list[dict[str, str]]:
    items = sorted(registry.menu_items.values(), key=lambda item: item.order)
    return [{"label": str(item.label), "url": reverse(item.url_name)} for item in items if item.shown_to(user)]
