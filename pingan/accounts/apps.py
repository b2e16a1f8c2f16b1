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
