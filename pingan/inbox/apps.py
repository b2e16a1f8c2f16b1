from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InboxConfig(AppConfig):
    name = "pingan.inbox"
    label = "inbox"
    verbose_name = _("我的工作")

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.inbox import receivers, sources
        from pingan.inbox.models import Notice
        from pingan.site.menu import MenuItem

        # Officers read their own notices (queries.notices_for); auditors may review them.
        access.register(Notice, access.Policy(org_field="org", view_roles=frozenset({"auditor"})))
        sources.register(
            sources.InboxSource(
                key="notices",
                label=_("提醒与督办"),
                entries=receivers.notice_entries,
                count=receivers.notice_count,
                order=10,
            )
        )
        receivers.connect()
        registry.menu_items.register("inbox", MenuItem(label=_("我的工作"), url_name="inbox:home", order=10))
