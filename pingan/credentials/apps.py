from pathlib import Path

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

ACT_ROLES = frozenset({"counter_officer", "station_chief", "bureau_leader"})


class CredentialsConfig(AppConfig):
    name = "pingan.credentials"
    label = "credentials"
    verbose_name = _("电子证照")
    # The credential workflow (valid → suspended → revoked) lives with the app.
    workflow_dirs = [Path(__file__).resolve().parent / "workflows"]

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.credentials import checks, seed  # noqa: F401  (checks registers on import)
        from pingan.credentials.models import Credential
        from pingan.site.menu import MenuItem

        access.register(Credential, access.Policy(org_field="org", owner_field="holder", act_roles=ACT_ROLES))
        seed.register_steps()
        registry.menu_items.register(
            "credentials.wallet",
            MenuItem(label=_("我的证照"), url_name="credentials:wallet", order=25, kinds=frozenset({"citizen"})),
        )
        registry.menu_items.register(
            "credentials.staff", MenuItem(label=_("电子证照"), url_name="credentials:staff_list", order=45)
        )
        registry.menu_items.register(
            "credentials.verify",
            MenuItem(
                label=_("证照核验"),
                url_name="credentials:verify",
                order=90,
                kinds=frozenset({"anonymous", "citizen", "partner"}),
            ),
        )
