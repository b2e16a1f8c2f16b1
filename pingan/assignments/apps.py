from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssignmentsConfig(AppConfig):
    name = "pingan.assignments"
    label = "assignments"
    verbose_name = _("交办督办")

    def ready(self) -> None:
        from pingan.assignments import guards, inbox, seed
        from pingan.assignments.models import Assignment, Plan
        from pingan.core import access, registry
        from pingan.site.menu import MenuItem

        workers = frozenset({"station_chief", "bureau_leader", "community_officer", "investigator", "counter_officer"})
        access.register(Assignment, access.Policy(org_field="org", act_roles=workers))
        access.register(Plan, access.Policy(org_field="org", act_roles=frozenset({"station_chief", "bureau_leader"})))
        registry.workflow_guards.register("issuer_side", guards.issuer_side)
        registry.workflow_guards.register("responsible_side", guards.responsible_side)
        inbox.register()
        seed.register_steps()
        registry.menu_items.register(
            "assignments", MenuItem(label=_("交办督办"), url_name="assignments:list", order=30)
        )
