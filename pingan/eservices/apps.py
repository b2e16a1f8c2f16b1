from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class EservicesConfig(AppConfig):
    name = "pingan.eservices"
    label = "eservices"
    verbose_name = _("网上办事")

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.eservices import checks, inbox, integration, kiosk, seed  # noqa: F401  (checks registers itself)
        from pingan.eservices.models import Application
        from pingan.site.menu import MenuItem

        staff = frozenset({"counter_officer", "station_chief", "bureau_leader"})
        access.register(
            Application,
            access.Policy(
                org_field="org",
                owner_field="applicant",
                partner_field="partner",
                act_roles=staff,
                path_field="org_path",
            ),
        )
        inbox.register()
        registry.periodic_jobs.register("eservices.kiosk_codes_purge", kiosk.codes_purge)
        integration.connect()
        seed.register_steps()
        registry.menu_items.register(
            "eservices",
            MenuItem(
                label=_("办事大厅"),
                url_name="eservices:catalogue",
                order=5,
                kinds=frozenset({"anonymous", "citizen", "staff", "partner"}),
            ),
        )
        registry.menu_items.register(
            "eservices.mine",
            MenuItem(label=_("我的办件"), url_name="eservices:mine", order=6, kinds=frozenset({"citizen"})),
        )
        registry.menu_items.register(
            "eservices.workbench",
            MenuItem(
                label=_("综合窗口"),
                url_name="eservices:workbench",
                order=15,
                roles=staff | {"auditor", "administrator"},
            ),
        )
