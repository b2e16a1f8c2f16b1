from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class NotifyConfig(AppConfig):
    name = "pingan.notify"
    label = "notify"
    verbose_name = _("消息通知")

    def ready(self) -> None:
        from pingan.core import registry
        from pingan.notify import delivery

        registry.periodic_jobs.register("notify.deliver", delivery.deliver_due)
        # (the header links to the messages, with the unread count: pingan/templates/base.html)
