from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class IndicatorsConfig(AppConfig):
    name = "pingan.indicators"
    label = "indicators"
    verbose_name = _("指标")

    def ready(self) -> None:
        from pingan.core import registry
        from pingan.indicators import (
            checks,  # noqa: F401  (registers the catalogue check)
            workflow_queries,
        )
        from pingan.site.menu import MenuItem

        workflow_queries.register()
        registry.menu_items.register("indicators", MenuItem(label=_("指标"), url_name="indicators:index", order=80))
