from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReunionConfig(AppConfig):
    """团圆: missing and found people, attribute matching and reunion (row S1)."""

    name = "pingan.reunion"
    label = "reunion"
    verbose_name = _("团圆寻亲")

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.reunion import (
            inbox,
            indicators,
            receivers,  # noqa: F401  (connects the receivers)
            seed,
        )
        from pingan.reunion.actions import ACT_ROLES, REUNITE_ROLES, TEAM_ROLES
        from pingan.reunion.models import PersonRecord, Reunion, SpecialistTeam
        from pingan.site.menu import MenuItem

        # Staff see records in their jurisdiction (any role: the DNA examiner and auditors
        # too); the roles below act. A citizen sees the reports they made.
        access.register(
            PersonRecord,
            access.Policy(
                org_field="org",
                owner_field="reported_by",
                act_roles=ACT_ROLES | REUNITE_ROLES,
                path_field="org_path",
            ),
        )
        access.register(
            Reunion, access.Policy(org_field="org", owner_field="missing__reported_by", act_roles=frozenset())
        )
        access.register(SpecialistTeam, access.Policy(org_field="org", act_roles=TEAM_ROLES))
        inbox.register()
        indicators.register()
        seed.register_steps()
        staff = frozenset({"staff"})
        registry.menu_items.register(
            "reunion", MenuItem(label=_("团圆寻亲"), url_name="reunion:queue", order=45, kinds=staff)
        )
        registry.menu_items.register(
            "reunion_mine",
            MenuItem(label=_("寻亲登记"), url_name="reunion:mine", order=45, kinds=frozenset({"citizen"})),
        )
