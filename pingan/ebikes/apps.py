from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EbikesConfig(AppConfig):
    name = "pingan.ebikes"
    label = "ebikes"
    verbose_name = _("电动自行车登记")
    # The register's own workflow (ebike.yaml) lives with the app: it is not a service workflow.
    workflow_dirs = [Path(__file__).resolve().parent / "workflows"]

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.ebikes import indicators, receivers, seed
        from pingan.ebikes.actions import COUNTER_ROLES, DEALER_MANAGERS, THEFT_ROLES, dealer_of
        from pingan.ebikes.guards import still_compliant
        from pingan.ebikes.models import (
            CompliantModel,
            Dealer,
            EBike,
            ImportBatch,
            ImportRow,
            Inspection,
            Plate,
            Transfer,
        )
        from pingan.site.menu import MenuItem

        access.register(
            EBike,
            access.Policy(
                org_field="org", owner_field="owner", partner_field="dealer__partner", act_roles=frozenset(THEFT_ROLES)
            ),
        )
        access.register(
            Inspection,
            access.Policy(org_field="ebike__org", owner_field="ebike__owner", partner_field="dealer__partner"),
        )
        # The citizen who must confirm sees the transfer; the owner sees it on the bicycle.
        access.register(
            Transfer,
            access.Policy(org_field="ebike__org", owner_field="to_owner", act_roles=frozenset(COUNTER_ROLES)),
        )
        access.register(Plate, access.Policy(org_field="city", act_roles=frozenset()))
        access.register(
            Dealer, access.Policy(org_field="org", partner_field="partner", act_roles=frozenset(DEALER_MANAGERS))
        )
        access.register(
            ImportBatch,
            access.Policy(org_field="dealer__org", partner_field="dealer__partner", act_roles=frozenset()),
        )
        access.register(
            ImportRow,
            access.Policy(
                org_field="batch__dealer__org", partner_field="batch__dealer__partner", act_roles=frozenset()
            ),
        )
        access.register(CompliantModel, access.Policy(public=True))
        registry.workflow_guards.register("ebike_still_compliant", still_compliant)
        indicators.register()
        receivers.connect()
        seed.register_steps()
        registry.menu_items.register(
            "ebikes.citizen",
            MenuItem(label=_("我的电动车"), url_name="ebikes:mine", order=45, kinds=frozenset({"citizen"})),
        )
        registry.menu_items.register(
            "ebikes.staff", MenuItem(label=_("电动车登记"), url_name="ebikes:staff_list", order=45)
        )
        registry.menu_items.register(
            "ebikes.dealer",
            MenuItem(
                label=_("销售登记"),
                url_name="ebikes:dealer_home",
                order=45,
                kinds=frozenset({"partner"}),
                visible=lambda user: dealer_of(user) is not None,
            ),
        )
        registry.menu_items.register(
            "ebikes.check",
            MenuItem(
                label=_("号牌查询"),
                url_name="ebikes:check",
                order=90,
                kinds=frozenset({"anonymous", "citizen", "partner"}),
            ),
        )
        # The lead's e-services app hands the ebike_registration service to this handler.
        # The e-services' "电动自行车注册登记" runs its side effects (pre-registration,
        # inspection, plate, certificate) through this handler.
        from pingan.ebikes.handlers import handler
        from pingan.eservices.handlers import register as register_handler

        register_handler("ebike_registration", handler)
