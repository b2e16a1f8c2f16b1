from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AlertsConfig(AppConfig):
    """Emergency alerts pushed to opted-in subscribers within a radius that widens with time
    (the 团圆 scheme: 100/200/300/500 km), withdrawn to everyone reached, clues sent back."""

    name = "pingan.alerts"
    label = "alerts"
    verbose_name = _("紧急发布")

    def ready(self) -> None:
        from pingan.alerts import (
            actions,
            checks,  # noqa: F401  (registers the scheme and URL checks)
            indicators,
            menu,
            schedule,
            seed,
        )
        from pingan.alerts.models import Alert, AlertDelivery, Clue, Subscription
        from pingan.core import access, registry

        publishers = schedule.scheme().publisher_roles
        # Staff see alerts and clues of units in their jurisdiction; only publishers act
        # (actions check the unit's level too, from catalog/alerts.yaml). Subscriptions and
        # deliveries belong to the citizen alone: staff see counts, never who or where.
        access.register(Alert, access.Policy(org_field="org", act_roles=publishers))
        access.register(Clue, access.Policy(org_field="alert__org", act_roles=publishers))
        access.register(Subscription, access.Policy(owner_field="user"))
        access.register(AlertDelivery, access.Policy(owner_field="user"))
        registry.periodic_jobs.register("alerts.widen", actions.alerts_widen_due)
        indicators.register()
        seed.register_steps()
        menu.register()
