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
