"""Menu entries of alerts."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

from pingan.core import registry


def register() -> None:
    from pingan.site.menu import MenuItem

    registry.menu_items.register(
        "alerts_public",
        MenuItem(
            label=_("紧急寻人"),
            url_name="alerts:public_list",
            order=55,
            kinds=frozenset({"anonymous", "citizen"}),
        ),
    )
    registry.menu_items.register(
        "alerts_subscription",
        MenuItem(
            label=_("预警订阅"),
            url_name="alerts:subscription",
            order=56,
            kinds=frozenset({"citizen"}),
        ),
    )
    registry.menu_items.register(
        "alerts_staff",
        MenuItem(label=_("紧急预警"), url_name="alerts:staff_list", order=55),
    )
