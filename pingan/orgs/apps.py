from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class OrgsConfig(AppConfig):
    name = "pingan.orgs"
    label = "orgs"
    verbose_name = _("组织机构")

    def ready(self) -> None:
        from pingan.core import access
        from pingan.orgs.models import OrgUnit

        # The organisation tree is public information: citizens look up their station.
        access.register(OrgUnit, access.Policy(org_field="", public=True, act_roles=frozenset({"administrator"})))

        from pingan.core import seeding
        from pingan.orgs.seed import seed_tree

        seeding.register("orgs.tree", order=10, run=seed_tree, description="organisation tree and police grids")

        from pingan.core import registry
        from pingan.site.menu import MenuItem

        registry.menu_items.register(
            "orgs",
            MenuItem(
                label=_("公安机关"),
                url_name="orgs:directory",
                order=90,
                kinds=frozenset({"anonymous", "citizen", "staff", "partner"}),
            ),
        )
