"""Menu entries of alerts. They show only once ``pingan/urls.py`` routes the app (the
system check alerts.W001 says when it does not), so a page never fails on a missing route."""

from __future__ import annotations

from typing import Any

from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext_lazy as _

from pingan.core import registry


def routed(user: Any = None) -> bool:
    try:
        reverse("alerts:public_list")
    except NoReverseMatch:
        return False
    return True


def register() -> None:
    from pingan.site.menu import MenuItem

    registry.menu_items.register(
        "alerts_public",
        MenuItem(
            label=_("紧急寻人"),
            url_name="alerts:public_list",
            order=55,
            kinds=frozenset({"anonymous", "citizen"}),
            visible=routed,
        ),
    )
    registry.menu_items.register(
        "alerts_subscription",
        MenuItem(
            label=_("预警订阅"),
            url_name="alerts:subscription",
            order=56,
            kinds=frozenset({"citizen"}),
            visible=routed,
        ),
    )
    registry.menu_items.register(
        "alerts_staff",
        MenuItem(label=_("紧急预警"), url_name="alerts:staff_list", order=55, visible=routed),
    )
