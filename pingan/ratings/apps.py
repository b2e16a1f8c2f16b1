from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RatingsConfig(AppConfig):
    name = "pingan.ratings"
    label = "ratings"
    verbose_name = _("好差评")

    def ready(self) -> None:
        from pingan.core import access, registry
        from pingan.ratings import (
            checks,  # noqa: F401  (registers the scheme check)
            guards,
            inbox,
            indicators,
            seed,
            subjects,  # noqa: F401  (creates the subject registry before other apps register)
        )
        from pingan.ratings.models import Rating, Rectification
        from pingan.site.menu import MenuItem

        workers = frozenset({"station_chief", "community_officer", "counter_officer", "bureau_leader"})
        # Ratings are never changed by staff: they see them within jurisdiction, act on none.
        access.register(Rating, access.Policy(org_field="org", owner_field="rater", act_roles=frozenset()))
        access.register(Rectification, access.Policy(org_field="org", owner_field="rating__rater", act_roles=workers))
        registry.workflow_guards.register("follow_up_recorded", guards.follow_up_recorded)
        inbox.register()
        indicators.register()
        seed.register_steps()
        registry.menu_items.register("ratings", MenuItem(label=_("好差评"), url_name="ratings:list", order=40))
        registry.menu_items.register(
            "ratings_mine",
            MenuItem(label=_("我的评价"), url_name="ratings:mine", order=40, kinds=frozenset({"citizen"})),
        )
