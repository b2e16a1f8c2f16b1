from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "pingan.accounts"
    label = "accounts"
    verbose_name = _("账号与岗位")

    def ready(self) -> None:
        from pingan.accounts.models import CitizenProfile, PartnerProfile, Post, StaffProfile, User
        from pingan.core import access

        managers = frozenset({"administrator", "station_chief", "bureau_leader"})
        access.register(
            CitizenProfile,
            access.Policy(
                org_field="home_org", owner_field="user", act_roles=frozenset({"counter_officer", "administrator"})
            ),
        )
        access.register(StaffProfile, access.Policy(org_field="home_org", owner_field=None, act_roles=managers))
        access.register(Post, access.Policy(org_field="org", act_roles=frozenset({"administrator"})))
        access.register(
            PartnerProfile,
            access.Policy(
                org_field="org", partner_field="user", act_roles=frozenset({"administrator", "station_chief"})
            ),
        )
        access.register(
            User, access.Policy(org_field="staff__home_org", owner_field="pk", act_roles=frozenset({"administrator"}))
        )

        from pingan.accounts import indicators

        indicators.register()

        self.register_menu()

        from pingan.accounts.seed import register_steps

        register_steps()

    @staticmethod
    def register_menu() -> None:
        from pingan.accounts.decorators import holds_role
        from pingan.accounts.views import LOOKUP_ROLES
        from pingan.core import registry
        from pingan.site.menu import MenuItem

        registry.menu_items.register(
            "accounts.staff",
            MenuItem(label=_("民警名录"), url_name="accounts:staff_list", order=60),
        )
        registry.menu_items.register(
            "accounts.citizen_lookup",
            MenuItem(
                label=_("群众查询"),
                url_name="accounts:citizen_lookup",
                order=65,
                roles=LOOKUP_ROLES,
                # The page wants the role itself (a provincial administrator sees, but does not serve, citizens).
                visible=lambda user: holds_role(user, LOOKUP_ROLES),
            ),
        )
        registry.menu_items.register(
            "accounts.me",
            MenuItem(
                label=_("我的账号"),
                url_name="accounts:me",
                order=90,
                kinds=frozenset({"staff", "citizen", "partner"}),
            ),
        )
